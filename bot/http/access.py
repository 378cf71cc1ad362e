"""Who may read indicator figures, exports and generated files: a dashboard session (cookie) or
an API token created on the dashboard (``Authorization: Bearer …``); each reads its province's
plans (no province: all)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from bot.dashboard import auth
from bot.dashboard.deps import COOKIE
from bot.runtime import Runtime
from bot.services import api_tokens
from bot.storage.db import unit_of_work, utcnow


@dataclass(frozen=True)
class Reader:
    who: str  # dashboard:<username> | token:<name>
    province_code: int | None

    def reads(self, province_code: int) -> bool:
        return self.province_code in (None, province_code)


def bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def reader(request: Request, runtime: Runtime) -> Reader | None:
    """The dashboard account or API token behind this request, or None (a database read: call it
    in the threadpool)."""
    token, cookie = bearer(request), request.cookies.get(COOKIE)
    if not token and not cookie:
        return None
    with unit_of_work(runtime.sessions) as session:
        if token:
            holder = api_tokens.check(session, token=token, now=utcnow())
            return Reader(f"token:{holder.name}", holder.province_code) if holder else None
        account = auth.current(session, token=cookie, now=utcnow())
    return Reader(f"dashboard:{account.username}", account.province_code) if account else None
