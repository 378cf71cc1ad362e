"""Request limits, before any route runs: bodies are capped (413), and a path or query string
with control characters (a NUL…) is refused (400). Neither answer echoes the input."""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE = "Nội dung gửi lên quá lớn."
BAD_REQUEST = "Yêu cầu không hợp lệ."
_CONTROL = bytes(range(0x20)) + b"\x7f"


class RequestLimits:
    """``max_body`` bytes for every request body; ``larger`` gives path prefixes their own cap
    (the baseline upload). A body is read (up to its cap) before the app sees it."""

    def __init__(self, app: ASGIApp, *, max_body: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_body = max_body
        self.larger = dict(larger or {})

    def _cap(self, path: str) -> int:
        return max((cap for prefix, cap in self.larger.items() if path.startswith(prefix)), default=self.max_body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _unsafe(scope):
            await _answer(send, 400, BAD_REQUEST)
            return
        cap = self._cap(scope["path"])
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await _answer(send, 400, BAD_REQUEST)
                return
            if declared > cap:
                await _answer(send, 413, TOO_LARGE)
                return
            if declared == 0:
                await self.app(scope, receive, send)
                return
        elif b"chunked" not in headers.get(b"transfer-encoding", b""):
            await self.app(scope, receive, send)  # no body
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            size += len(message.get("body", b""))
            if size > cap:
                await _answer(send, 413, TOO_LARGE)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _unsafe(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path):
        return True
    query = unquote_to_bytes(scope.get("query_string", b"") or b"")
    return any(byte in _CONTROL for byte in query)


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
