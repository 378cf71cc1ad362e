"""Who may read indicator figures, exports and generated files: a dashboard session (cookie) or
an API token created on the dashboard (``Authorization: Bearer …``); each reads its province's
plans (no province: all), and a commune officer's session only their commune's figures."""

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
    commune_code: int | None = None  # a commune officer: this commune only

    def reads(self, province_code: int) -> bool:
        return self.province_code in (None, province_code)

    def commune(self, asked: int | None) -> int | None:
        """The commune whose figures are read: a commune officer's own; anything else asked is refused."""
        if self.commune_code is None:
            return asked
        if asked not in (None, self.commune_code):
            raise PermissionError(asked)
        return self.commune_code

    def reads_file(self, province_code: int | None) -> bool:
        """A generated file (``/chitieu``'s chart, workbook): province-wide, so not for a commune officer."""
        if self.commune_code is not None:
            return False
        return self.province_code is None or self.province_code == province_code


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
    return Reader(f"dashboard:{account.username}", account.province_code, account.commune_code) if account else None
