"""The moment a platform call is on the wire: its whole request written, not the moment it was asked for.

A queued message's call is marked "made" (``Dispatch.before``) so that a crash after it never
makes it twice, and a crash before it makes it again. The mark runs from httpcore's trace of the
request, once the request's body has been written to the connection: after the pool, the
connect and every byte. A process killed before the mark is committed leaves the call unmarked,
so it is made again — a reply may then arrive twice, never not at all. (Marking it when the
first byte was about to be written, as before, lost the replies of a process killed between the
mark and the write: counted as sent, never made.) A call that fails before its request was
written (``not_sent``: no connection, or the write itself failed) may be made again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import httpx

OnWire = Callable[[], Awaitable[None]]
# the mark of the call the current task is making (set around one request)
CURRENT: ContextVar[OnWire | None] = ContextVar("on_wire", default=None)
# the request was not (wholly) written: the platform cannot have acted on it
NOT_SENT = (httpx.PoolTimeout, httpx.ConnectTimeout, httpx.ConnectError, httpx.WriteTimeout, httpx.WriteError)


def trace(mark: OnWire) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    """An httpcore ``trace`` extension running ``mark`` once, when the request has been written."""
    done = False

    async def on_event(name: str, info: dict[str, Any]) -> None:
        nonlocal done
        if not done and name.endswith("send_request_body.complete"):
            done = True
            await mark()

    return on_event


def not_sent(exc: BaseException) -> bool:
    """The call failed before its request was written (it may be made again)."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if isinstance(seen, NOT_SENT):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def cut_off(exc: BaseException) -> bool:
    """The call failed in the transport (no answer read), not by an answer such as a 502."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if isinstance(seen, httpx.TransportError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class OnWireTransport(httpx.AsyncBaseTransport):
    """An HTTP transport that runs the current task's mark (``CURRENT``) once the request is written.

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
