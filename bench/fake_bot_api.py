"""Run the tests' fake Bot API as a server, optionally enforcing Telegram's 30 messages/s with 429s."""

from __future__ import annotations

import sys
import time
from collections import deque

from fastapi.responses import JSONResponse

from tests.fakes.telegram_api import FakeTelegram


class RateLimitedTelegram(FakeTelegram):
    """Answers 429 (retry_after 1) to sends beyond ``per_second`` in any one-second window."""

    def __init__(self, per_second: float | None = None) -> None:
        super().__init__()
        self.per_second = per_second
        self._window: deque[float] = deque()
        self.refused = 0

    def app(self):  # type: ignore[no-untyped-def]
        app = super().app()
        limit = self.per_second

        @app.middleware("http")
        async def enforce(request, call_next):  # type: ignore[no-untyped-def]
            if limit and request.url.path.endswith("/sendMessage"):
                now = time.monotonic()
                with self._lock:
                    while self._window and now - self._window[0] > 1.0:
                        self._window.popleft()
                    if len(self._window) >= limit:
                        self.refused += 1
                        return JSONResponse({"ok": False, "error_code": 429, "description": "Too Many Requests",
                                             "parameters": {"retry_after": 1}}, status_code=429)
                    self._window.append(now)
            return await call_next(request)

        return app


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(RateLimitedTelegram().app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
