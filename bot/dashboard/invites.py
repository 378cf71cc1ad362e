"""Invites: the list, creating one (admins) by commune name (accent-insensitive) or code, revoking one (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.conversation import ids
from bot.dashboard import auth, communes
from bot.dashboard.deps import AdminDep, OfficialPageDep, RuntimeDep, admin_only
from bot.dashboard.pages import render
from bot.runtime import Runtime
from bot.services.dashboard_accounts import where_text
from bot.storage.db import unit_of_work, utcnow
from reporting import areas, people, unit_registry
from reporting.clock import VIETNAM
from reporting.vocabulary import UNIT_KIND, Role

router = APIRouter()


def _page(request: Request, runtime: Runtime, account: auth.Account, new_code: str | None = None,
            error: str | None = None, status_code: int = 200, where: str = "",
            warnings: list[str] | None = None) -> HTMLResponse:
    with runtime.sessions() as session:
        rows = [i for i in people.list_invites(session) if account.scope.sees_province(i.province_code)]
    return render(request, "invites.html", account, rows=rows, new_code=new_code, error=error, roles=people.ROLE_LABELS,
                  tz=VIETNAM, now=utcnow(), bot_username=runtime.settings.telegram.bot_username,
                  status_code=status_code, where=where, warnings=warnings or [], commune_name=_commune_name,
                  provinces=sorted(areas.provinces().values(), key=lambda p: areas.fold(p.name)))


def _commune_name(code: int) -> str:
    """«Xã Hữu Lũng, Tỉnh Lạng Sơn»: the table shows names, not codes."""
    return where_text(None, code)


def _check(role: str, commune: areas.Commune | None, province_code: int | None, unit: str) -> None:
    """What the form lacks, in Vietnamese (the CLI's own messages name its flags)."""
    if role not in people.ROLE_LABELS:
        raise ValueError("hãy chọn vai trò.")
    label = people.ROLE_LABELS[role].lower()
    if role in UNIT_KIND and commune is None:
        raise ValueError(f"{label} cần chọn xã (gõ tên xã).")
    if role in (Role.COOPERATIVE, Role.FARM) and not unit.strip():
        raise ValueError(f"{label} cần ghi tên HTX hoặc trang trại.")
    if commune is None and (province_code is None or areas.province(province_code) is None):
        raise ValueError("hãy chọn tỉnh (cán bộ tỉnh, quản trị) hoặc xã.")


def _admins_only(request: Request, runtime: Runtime, account: auth.Account) -> HTMLResponse:
    return _page(request, runtime, account, error="Chỉ quản trị viên được tạo mã mời.", status_code=403)


@router.get("/invites")
def invites_page(request: Request, account: OfficialPageDep, runtime: RuntimeDep) -> HTMLResponse:
    return _page(request, runtime, account)


@router.post("/invites")
def create_invite(request: Request, account: Annotated[auth.Account, admin_only(_admins_only)], runtime: RuntimeDep,
                  role: Annotated[str, Form()] = "", commune: Annotated[str, Form()] = "",
                  province: Annotated[str, Form()] = "", unit: Annotated[str, Form()] = "",
                  commune_code_field: Annotated[str, Form(alias="commune_code")] = "") -> HTMLResponse:
    try:
        province_code = account.province_code or ids.number(province)
        chosen = communes.pick(account.scope, commune, commune_code_field)
        _check(role, chosen, province_code, unit)
        commune_code = chosen.code if chosen else None
        with unit_of_work(runtime.sessions) as session:
            new = people.create_invite(
                session, role=role, commune_code=commune_code, province_code=province_code,
                unit_name=unit or None, created_by=f"dashboard:{account.username}", now=utcnow())
            warnings = unit_registry.same_name_warnings(session, role=role, name=unit or None,
                                                        commune_code=commune_code)
            code, where = people.format_code(new.code), _commune_name(commune_code) if commune_code else ""
    except ValueError as exc:
        return _page(request, runtime, account, error=f"Chưa tạo được mã: {exc}", status_code=422)
    return _page(request, runtime, account, new_code=code, where=where, warnings=warnings)


@router.post("/invites/{invite_id}/revoke")
def revoke_invite(_: AdminDep, runtime: RuntimeDep, invite_id: int) -> Response:
    with unit_of_work(runtime.sessions) as session:
        people.revoke(session, invite_id=invite_id, now=utcnow())
    return RedirectResponse("/admin/invites", status_code=303)
