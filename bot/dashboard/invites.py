"""Invites: the list, creating one (admins) by commune name or code, revoking one (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.conversation import ids
from bot.dashboard import auth
from bot.dashboard.deps import AccountDep, AdminDep, RuntimeDep, admin_only
from bot.dashboard.pages import render
from bot.runtime import Runtime
from bot.storage.db import unit_of_work, utcnow
from reporting import areas, people, unit_registry
from reporting.clock import VIETNAM

router = APIRouter()


def _page(request: Request, runtime: Runtime, account: auth.Account, new_code: str | None = None,
            error: str | None = None, status_code: int = 200, where: str = "",
            warnings: list[str] | None = None) -> HTMLResponse:
    with runtime.sessions() as session:
        rows = [i for i in people.list_invites(session) if account.province_code in (None, i.province_code)]
    return render(request, "invites.html", account, rows=rows, new_code=new_code, error=error, roles=people.ROLE_LABELS,
                  tz=VIETNAM, now=utcnow(), bot_username=runtime.settings.telegram.bot_username,
                  status_code=status_code, where=where, warnings=warnings or [], commune_name=areas.full_name)


def _admins_only(request: Request, runtime: Runtime, account: auth.Account) -> HTMLResponse:
    return _page(request, runtime, account, error="Chỉ quản trị viên được tạo mã mời.", status_code=403)


@router.get("/invites")
def invites_page(request: Request, account: AccountDep, runtime: RuntimeDep) -> HTMLResponse:
    return _page(request, runtime, account)


@router.post("/invites")
def create_invite(request: Request, account: Annotated[auth.Account, admin_only(_admins_only)], runtime: RuntimeDep,
                  role: Annotated[str, Form()] = "", commune: Annotated[str, Form()] = "",
                  province: Annotated[str, Form()] = "", unit: Annotated[str, Form()] = "") -> HTMLResponse:
    try:
        province_code = ids.number(province) or account.province_code
        commune_code = None
        if commune.strip():
            commune_code = areas.resolve_commune(commune, province_code=account.province_code).code
        with unit_of_work(runtime.sessions) as session:
            new = people.create_invite(
                session, role=role, commune_code=commune_code, province_code=province_code,
                unit_name=unit or None, created_by=f"dashboard:{account.username}", now=utcnow())
            warnings = unit_registry.same_name_warnings(session, role=role, name=unit or None,
                                                        commune_code=commune_code)
            code, where = people.format_code(new.code), areas.full_name(commune_code) if commune_code else ""
    except ValueError as exc:
        return _page(request, runtime, account, error=f"Chưa tạo được mã: {exc}", status_code=422)
    return _page(request, runtime, account, new_code=code, where=where, warnings=warnings)


@router.post("/invites/{invite_id}/revoke")
def revoke_invite(_: AdminDep, runtime: RuntimeDep, invite_id: int) -> Response:
    with unit_of_work(runtime.sessions) as session:
        people.revoke(session, invite_id=invite_id, now=utcnow())
    return RedirectResponse("/admin/invites", status_code=303)
