"""Who is talking on the web chat: each browser holds a random secret (an HttpOnly cookie) that
the server issued; the web user id is derived from it here, on the server, and travels nowhere.

Knowing a user id gives nothing (it is a one-way hash of the secret); only the secret reads the
user's pending messages and acts as the user."""

from __future__ import annotations

import hashlib
import re
import secrets

from starlette.requests import Request
from starlette.responses import Response

CHANNEL = "web"
COOKIE = "agribot_chat"
MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie; renewed on each use
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_of(request: Request) -> str | None:
    """The browser's secret, when it sent a well-formed one."""
    value = request.cookies.get(COOKIE)
    return value if value and _SHAPE.match(value) else None


def user_id(secret: str) -> str:
    """The web user id of a secret (stable, not reversible)."""
    return "web-" + hashlib.sha256(f"agribot-web-chat:{secret}".encode()).hexdigest()[:32]


def current_user(request: Request) -> str | None:
    secret = secret_of(request)
    return user_id(secret) if secret else None


def keep(request: Request, response: Response, secret: str) -> None:
    """Set (or renew) the browser's secret cookie on ``response``."""
    response.set_cookie(COOKIE, secret, max_age=MAX_AGE, httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https")
