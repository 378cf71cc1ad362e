"""«Tài khoản» (admins): inviting officials by a one-time link, the accounts with disabling and
enabling, the invites, and the audit log; and the invitee's page (``/admin/join/<token>``) where
they choose a username and password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.conversation import ids
from bot.dashboard import auth, communes
from bot.dashboard.deps import AdminDep, AdminPageDep, RuntimeDep
from bot.dashboard.pages import plans_for, render
from bot.runtime import Runtime
from bot.services import dashboard_accounts as accounts
from bot.storage.db import unit_of_work, utcnow
from reporting import areas
from reporting.clock import VIETNAM

router = APIRouter()
DONE = {"disable": "Đã khoá tài khoản; các phiên đăng nhập của tài khoản đó đã kết thúc.",
        "enable": "Đã mở lại tài khoản.", "revoke": "Đã thu hồi đường link mời."}


def _page(request: Request, runtime: Runtime, account: auth.Account, *, link: str | None = None,
          invited: str | None = None, error: str | None = None, done: str | None = None,
          status_code: int = 200) -> HTMLResponse:
    with runtime.sessions() as session:
        users = accounts.accounts(session, province_code=account.province_code)
        invites = accounts.invites(session, province_code=account.province_code)
        lines = accounts.audit_lines(session, province_code=account.province_code, limit=100)
    provinces = sorted(areas.provinces().values(), key=lambda p: areas.fold(p.name))
    if account.province_code is not None:
        provinces = [p for p in provinces if p.code == account.province_code]
    plans = plans_for(account, runtime)  # the province with the latest report first
    default_province = plans[0].province_code if plans else None
    return render(request, "accounts.html", account, users=users, invites=invites, lines=lines, link=link,
                  invited=invited, error=error, done=DONE.get(done or ""), provinces=provinces, tz=VIETNAM,
                  now=utcnow(), role_label=accounts.role_label, where=accounts.where_text,
                  roles=[(r.value, accounts.role_label(r)) for r in accounts.INVITABLE], status_code=status_code,
                  days=accounts.INVITE_DAYS, default_province=default_province,
                  province_title=accounts.province_title)


@router.get("/accounts")
def accounts_page(request: Request, account: AdminPageDep, runtime: RuntimeDep,
                  done: str | None = None) -> HTMLResponse:
    return _page(request, runtime, account, done=done)


@router.post("/accounts/invite")
def invite(request: Request, account: AdminDep, runtime: RuntimeDep,
           full_name: Annotated[str, Form(max_length=300)] = "", role: Annotated[str, Form(max_length=32)] = "",
           province: Annotated[str, Form(max_length=12)] = "", commune: Annotated[str, Form(max_length=200)] = "",
           commune_code: Annotated[str, Form(max_length=12)] = "") -> HTMLResponse:
    province_code = account.province_code or ids.number(province)
    try:
        chosen = communes.pick(account.scope, commune, commune_code, province_code=province_code) \
            if role == accounts.Role.EXTENSION_OFFICER else None
        with unit_of_work(runtime.sessions) as session:
            new = accounts.create_invite(session, full_name=full_name, role=role, province_code=province_code,
                                         commune_code=chosen.code if chosen else None, by=account.username,
                                         now=utcnow())
            invited = new.invite.full_name
    except ValueError as exc:
        return _page(request, runtime, account, error=f"Chưa tạo được đường link mời: {exc}", status_code=422)
    link = str(request.base_url).rstrip("/") + new.path
    return _page(request, runtime, account, link=link, invited=invited)


@router.post("/accounts/invites/{invite_id}/revoke")
def revoke(request: Request, account: AdminDep, runtime: RuntimeDep, invite_id: int) -> Response:
    try:
        with unit_of_work(runtime.sessions) as session:
            accounts.revoke_invite(session, invite_id=invite_id, by=account.username, now=utcnow())
    except accounts.AccountError as exc:
        return _page(request, runtime, account, error=str(exc), status_code=404)
    return RedirectResponse("/admin/accounts?done=revoke", status_code=303)


@router.post("/accounts/{username}/{action}")
def disable_or_enable(request: Request, account: AdminDep, runtime: RuntimeDep, username: str,
                      action: str) -> Response:
    if action not in ("disable", "enable"):
        return _page(request, runtime, account, error="Thao tác không có.", status_code=404)
    try:
        with unit_of_work(runtime.sessions) as session:
            accounts.set_disabled(session, username=username, disabled=action == "disable", by=account.username,
                                  now=utcnow())
    except accounts.AccountError as exc:
        return _page(request, runtime, account, error=str(exc), status_code=422)
    return RedirectResponse(f"/admin/accounts?done={action}", status_code=303)


def _join_page(request: Request, runtime: Runtime, token: str, *, error: str | None = None, username: str = "",
               status_code: int = 200) -> HTMLResponse:
    with runtime.sessions() as session:
        try:
            invite = accounts.open_invite(session, token=token, now=utcnow())
        except accounts.AccountError as exc:
            return render(request, "error.html", None, status_code=410, title="Không dùng được đường link",
                          message=str(exc))
        return render(request, "join.html", None, invite=invite, error=error, username=username,
                      role=accounts.role_label(invite.role),
                      where=accounts.where_text(invite.province_code, invite.commune_code),
                      status_code=status_code)


@router.get("/join/{token}")
def join_page(request: Request, runtime: RuntimeDep, token: str) -> HTMLResponse:
    return _join_page(request, runtime, token[:100])


@router.post("/join/{token}")
def join(request: Request, runtime: RuntimeDep, token: str, username: Annotated[str, Form(max_length=64)] = "",
         password: Annotated[str, Form(max_length=256)] = "",
         password2: Annotated[str, Form(max_length=256)] = "") -> Response:
    token = token[:100]
    if password != password2:
        return _join_page(request, runtime, token, error="Hai lần nhập mật khẩu không giống nhau.",
                          username=username, status_code=422)
    try:
        with unit_of_work(runtime.sessions) as session:
            accounts.accept_invite(session, token=token, username=username, password=password, now=utcnow(),
                                   hasher=auth.hash_password)
    except accounts.AccountError as exc:
        return _join_page(request, runtime, token, error=str(exc), username=username, status_code=422)
    return RedirectResponse("/admin/login?created=1", status_code=303)
