"""The moment a platform call goes on the wire: its first byte, not the moment it was asked for.

A queued message's call is marked "on the wire" (``Dispatch.before``) so that a crash never
makes it twice. Marking it before the HTTP client has a connection left a gap: a call waiting
for the connection pool, or connecting, when the process died was counted as sent and never
made. Here the mark runs from httpcore's trace of the request, when the request headers are
about to be written: after the pool and the connect. A call that fails before that point
(``not_sent``) may be made again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import httpx

OnWire = Callable[[], Awaitable[None]]
# the mark of the call the current task is making (set around one request)
CURRENT: ContextVar[OnWire | None] = ContextVar("on_wire", default=None)
NOT_SENT = (httpx.PoolTimeout, httpx.ConnectTimeout, httpx.ConnectError)


def trace(mark: OnWire) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    """An httpcore ``trace`` extension running ``mark`` once, as the request's headers go out."""
    done = False

    async def on_event(name: str, info: dict[str, Any]) -> None:
        nonlocal done
        if not done and name.endswith("send_request_headers.started"):
            done = True
            await mark()

    return on_event


def not_sent(exc: BaseException) -> bool:
    """The call failed before its first byte was written (it may be made again)."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if isinstance(seen, NOT_SENT):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class OnWireTransport(httpx.AsyncBaseTransport):
    """An HTTP transport that runs the current task's mark (``CURRENT``) at the first byte.

    For clients that do not pass request extensions (python-telegram-bot's).
    """

    def __init__(self, *, max_connections: int = 256) -> None:
        self._limits = httpx.Limits(max_connections=max_connections)
        self._inner: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._inner is None:
            self._inner = httpx.AsyncHTTPTransport(limits=self._limits)
        mark = CURRENT.get()
        if mark is not None:
            request.extensions = {**request.extensions, "trace": trace(mark)}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        if self._inner is not None:
            inner, self._inner = self._inner, None
            await inner.aclose()
