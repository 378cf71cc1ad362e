"""The login page, logging in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.dashboard import auth
from bot.dashboard.deps import COOKIE, AccountDep, RuntimeDep, csrf_ok
from bot.dashboard.pages import render
from bot.storage.db import unit_of_work, utcnow

router = APIRouter()


@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", None, error=None)


@router.post("/login")
def login(request: Request, runtime: RuntimeDep, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=256)]) -> Response:
    with unit_of_work(runtime.sessions) as session:
        try:
            new = auth.login(session, username=username, password=password, now=utcnow())
        except auth.LoginError as exc:  # caught inside the unit of work: the failed attempt is counted
            error = (f"Tài khoản tạm khoá vì nhập sai nhiều lần. Thử lại sau {exc.minutes} phút."
                     if exc.reason == "locked" else "Sai tên đăng nhập hoặc mật khẩu.")
            return render(request, "login.html", None, status_code=401, error=error)
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(COOKIE, new.token, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https", max_age=int(auth.SESSION_TTL.total_seconds()))
    return response


@router.post("/logout")
def logout(request: Request, runtime: RuntimeDep, account: AccountDep,
           csrf: Annotated[str, Form()] = "") -> Response:
    if csrf_ok(account, csrf):  # a wrong token still leaves this browser logged out
        with unit_of_work(runtime.sessions) as session:
            auth.logout(session, token=request.cookies.get(COOKIE))
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
