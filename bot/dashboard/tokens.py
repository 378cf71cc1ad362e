"""API tokens (admins): create one for a province's own systems (shown once), revoke one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.dashboard import auth
from bot.dashboard.deps import AccountDep, AdminDep, RuntimeDep, admin_only
from bot.dashboard.pages import render
from bot.runtime import Runtime
from bot.services import api_tokens
from bot.storage.db import unit_of_work, utcnow
from reporting.clock import VIETNAM
from reporting.vocabulary import Role

router = APIRouter()
ADMINS_ONLY = "Chỉ quản trị viên quản lý mã API."


def _page(request: Request, runtime: Runtime, account: auth.Account, new_token: str | None = None,
          error: str | None = None, status_code: int = 200) -> HTMLResponse:
    rows = []
    if account.role == Role.ADMIN:
        with runtime.sessions() as session:
            rows = api_tokens.listed(session, province_code=account.province_code)
    return render(request, "tokens.html", account, rows=rows, new_token=new_token, error=error, tz=VIETNAM,
                  status_code=status_code)


def _admins_only(request: Request, runtime: Runtime, account: auth.Account) -> HTMLResponse:
    return _page(request, runtime, account, error=ADMINS_ONLY, status_code=403)


@router.get("/tokens")
def tokens_page(request: Request, account: AccountDep, runtime: RuntimeDep) -> HTMLResponse:
    if account.role != Role.ADMIN:
        return _admins_only(request, runtime, account)
    return _page(request, runtime, account)


@router.post("/tokens")
def create_token(request: Request, account: Annotated[auth.Account, admin_only(_admins_only)], runtime: RuntimeDep,
                 name: Annotated[str, Form(max_length=200)] = "") -> HTMLResponse:
    try:
        with unit_of_work(runtime.sessions) as session:
            token = api_tokens.create(session, name=name, province_code=account.province_code,
                                      created_by=account.username, now=utcnow())
    except ValueError as exc:
        return _page(request, runtime, account, error=f"Chưa tạo được mã: {exc}", status_code=422)
    return _page(request, runtime, account, new_token=token)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(account: AdminDep, runtime: RuntimeDep, token_id: int) -> Response:
    with unit_of_work(runtime.sessions) as session:
        api_tokens.revoke(session, token_id=token_id, province_code=account.province_code, now=utcnow())
    return RedirectResponse("/admin/tokens", status_code=303)
