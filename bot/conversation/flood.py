"""Per-user message rate limit: a flood (a stuck key, a script) is answered once, then dropped."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque


class FloodGuard:
    def __init__(self, *, limit: int = 20, per_seconds: float = 60.0, max_users: int = 50_000) -> None:
        self.limit = limit
        self.per_seconds = per_seconds
        self.max_users = max_users
        self._seen: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._warned: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def check(self, channel: str, user_id: str, now: float | None = None) -> str:
        """'ok', 'warn' (first message over the limit: say so once) or 'drop'."""
        now = time.monotonic() if now is None else now
        key = (channel, user_id)
        with self._lock:
            times = self._seen.setdefault(key, deque())
            self._seen.move_to_end(key)
            while times and now - times[0] > self.per_seconds:
                times.popleft()
            if len(times) >= self.limit:
                if key in self._warned:
                    return "drop"
                self._warned.add(key)
                return "warn"
            times.append(now)
            self._warned.discard(key)
            while len(self._seen) > self.max_users:
                old, _ = self._seen.popitem(last=False)
                self._warned.discard(old)
            return "ok"
