"""The login page, logging in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.dashboard import auth
from bot.dashboard.deps import COOKIE, RuntimeDep, client_address
from bot.dashboard.pages import render
from bot.storage.db import unit_of_work, utcnow

router = APIRouter()


@router.get("/login")
async def login_page(request: Request, created: str | None = None) -> HTMLResponse:
    return render(request, "login.html", None, error=None, created=bool(created))


@router.post("/login")
def login(request: Request, runtime: RuntimeDep, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=256)]) -> Response:
    try:
        new = auth.login(runtime.sessions, username=username, password=password, address=client_address(request),
                         now=utcnow())
    except auth.LoginError as exc:
        error = {"locked": f"Đăng nhập tạm khoá vì nhập sai nhiều lần. Thử lại sau {exc.minutes} phút.",
                 "disabled": "Tài khoản này đã bị khoá. Hãy liên hệ quản trị viên nếu bạn cần dùng lại."
                 }.get(exc.reason, "Sai tên đăng nhập hoặc mật khẩu.")
        return render(request, "login.html", None, status_code={"locked": 429, "disabled": 403}.get(exc.reason, 401),
                      error=error, username=username)
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(COOKIE, new.token, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https", max_age=int(auth.SESSION_TTL.total_seconds()))
    return response


@router.post("/logout")
def logout(request: Request, runtime: RuntimeDep) -> Response:
    """Always ends this browser's server session, CSRF token or not: a forged request can only log
    its victim out (SameSite=Strict keeps even that from other sites), never in."""
    with unit_of_work(runtime.sessions) as session:
        auth.logout(session, token=request.cookies.get(COOKIE))
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
