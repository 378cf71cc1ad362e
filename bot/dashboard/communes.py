"""Choosing a commune by name, accent-insensitive («huu lung» finds «Xã Hữu Lũng»): the
suggestions the pages' commune pickers ask for (``/static/commune-picker.js``), and reading
what a form sent, within what the account may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from bot.conversation import ids
from bot.dashboard.deps import AccountDep
from bot.dashboard.scope import Scope
from bot.services.dashboard_accounts import province_title
from reporting import areas

router = APIRouter()
OUTSIDE = "Xã này không thuộc địa bàn tài khoản của bạn."


@router.get("/communes")
def commune_suggestions(account: AccountDep, q: Annotated[str, Query(max_length=100)] = "",
                        province: Annotated[str, Query(max_length=12)] = "") -> JSONResponse:
    """Up to 8 communes whose name matches ``q`` (with or without diacritics), in the account's area."""
    scope = account.scope
    province_code = scope.province_code or ids.number(province)
    found = [c for c in areas.find_communes(q, province_code=province_code, limit=8) if scope.sees_commune(c.code)]
    return JSONResponse([{"code": c.code, "name": c.name, "province": province_title(c.province_code)}
                         for c in found])


def pick(scope: Scope, text: str, code: str = "", *, province_code: int | None = None) -> areas.Commune | None:
    """The commune a form names: the picker's code when it still matches the typed name, else the
    name (or a code) looked up accent-insensitively; None when nothing was typed. Raises
    ValueError with a Vietnamese sentence when it is unclear or outside the account's area."""
    text = text.strip()
    if not text:
        return None
    chosen = areas.commune(number) if (number := ids.number(code)) else None
    if chosen is None or areas.fold(chosen.name) != areas.fold(text):
        chosen = areas.resolve_commune(text, province_code=scope.province_code or province_code)
    if not scope.sees_commune(chosen.code) or (province_code is not None and chosen.province_code != province_code):
        raise ValueError(OUTSIDE)
    return chosen
