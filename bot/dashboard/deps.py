"""The dashboard's FastAPI dependencies: the runtime, the logged-in account, the CSRF check of
POST forms, admins only and officials only (pages a commune officer may not open). A refusal is
raised and answered by the app (bot.app). What an account may see inside a page is its
``account.scope`` (bot.dashboard.scope)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from bot.dashboard import auth
from bot.dashboard.pages import render
from bot.runtime import Runtime
from bot.storage.db import unit_of_work, utcnow
from reporting.vocabulary import Role

COOKIE = "agribot_session"
BAD_SESSION = "Phiên làm việc không hợp lệ, tải lại trang."
ADMINS_ONLY = "Trang này chỉ dành cho quản trị viên."
OFFICIALS_ONLY = "Trang này dành cho cán bộ tỉnh và quản trị viên; tài khoản cán bộ xã không mở được."


class NotLoggedIn(Exception):
    """No valid session: answered with a redirect to the login page."""


class Refused(Exception):
    """A dependency said no: answered with ``response`` as it is."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def client_address(request: Request) -> str | None:
    """The client's IP address (behind a reverse proxy: uvicorn's ``--proxy-headers`` with
    ``--forwarded-allow-ips`` makes it the address the proxy saw)."""
    return request.client.host if request.client else None


def get_account(request: Request, runtime: RuntimeDep) -> auth.Account:
    """The account of the session cookie (a database read: FastAPI runs it in its threadpool)."""
    with unit_of_work(runtime.sessions) as session:
        account = auth.current(session, token=request.cookies.get(COOKIE), now=utcnow())
    if account is None:
        raise NotLoggedIn
    return account


AccountDep = Annotated[auth.Account, Depends(get_account)]


def csrf_ok(account: auth.Account, token: str) -> bool:
    return hmac.compare_digest(account.csrf.encode(), token.encode())


async def check_csrf(request: Request, account: AccountDep, csrf: Annotated[str, Form()] = "") -> auth.Account:
    """The account, when the form's ``csrf`` field is its session's token (else the 403 page)."""
    if not csrf_ok(account, csrf):
        raise Refused(forbidden(request, account, BAD_SESSION))
    return account


CsrfAccountDep = Annotated[auth.Account, Depends(check_csrf)]

# what a non-admin is answered: by default ``bad_session``; a page that shows the refusal passes its own
Refusal = Callable[[Request, Runtime, auth.Account], Response]


def bad_session(*_: object) -> Response:
    """403 «Phiên làm việc không hợp lệ…»: a wrong CSRF token, or a non-admin where the page says no more."""
    return Response(BAD_SESSION, status_code=403)


def forbidden(request: Request, account: auth.Account | None, message: str = ADMINS_ONLY) -> HTMLResponse:
    """The Vietnamese 403 page: what the account may not open, and a way back."""
    return render(request, "error.html", account, status_code=403, title="Không có quyền truy cập", message=message)


def forbid(request: Request, account: auth.Account, message: str = ADMINS_ONLY) -> Refused:
    """``raise forbid(...)`` answers the 403 page."""
    return Refused(forbidden(request, account, message))


def _admin_refusal(request: Request, _: Runtime, account: auth.Account) -> Response:
    return forbidden(request, account)


def admin_only(refusal: Refusal = _admin_refusal) -> Any:
    """A dependency: the CSRF-checked account of an admin; anyone else is answered ``refusal(...)``."""

    def check_admin(request: Request, runtime: RuntimeDep, account: CsrfAccountDep) -> auth.Account:
        if account.role != Role.ADMIN:
            raise Refused(refusal(request, runtime, account))  # may render a page from the database: a `def`
        return account

    return Depends(check_admin)


AdminDep = Annotated[auth.Account, admin_only()]


def require_admin_page(request: Request, account: AccountDep) -> auth.Account:
    """A page only admins open (accounts, API tokens…): others get the 403 page."""
    if not account.is_admin:
        raise forbid(request, account)
    return account


def require_official_page(request: Request, account: AccountDep) -> auth.Account:
    """A page of the whole province (its charts, its broadcasts): commune officers get the 403 page."""
    if account.scope.commune_only:
        raise forbid(request, account, OFFICIALS_ONLY)
    return account


AdminPageDep = Annotated[auth.Account, Depends(require_admin_page)]
OfficialPageDep = Annotated[auth.Account, Depends(require_official_page)]
