"""A fake Telegram Bot API server for tests: records calls, serves queued updates, injects errors.

Speaks what python-telegram-bot sends (``POST /bot<token>/<method>``, form-encoded or JSON,
``{"ok": true, "result": ...}`` back) for the methods the bot uses.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

BOT_USER = {"id": 777000, "is_bot": True, "first_name": "Agribot", "username": "agribot_test_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    ok: bool = True


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-TOKEN"
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    # method -> list of (status, retry_after) to answer with before succeeding
    failures: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)
    blocked_chats: set[int] = field(default_factory=set)
    # after this many sendMessage calls, Telegram stalls: later ones are received (the user has
    # them) and never answered; a test kills the bot while those calls are on the wire
    hold_after: int | None = None
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _update_ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what tests use ------------------------------------------------------------------
    def next_update_id(self) -> int:
        return next(self._update_ids)

    def text_update(self, chat_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
        return {
            "update_id": update_id or self.next_update_id(),
            "message": {
                "message_id": next(self._ids), "date": int(time.time()), "text": text,
                "chat": {"id": chat_id, "type": "private", "first_name": "Nam"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Nam"},
                **({"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
                   if text.startswith("/") else {}),
            },
        }

    def callback_update(self, chat_id: int, data: str) -> dict[str, Any]:
        return {
            "update_id": self.next_update_id(),
            "callback_query": {
                "id": str(next(self._ids)), "chat_instance": "ci", "data": data,
                "from": {"id": chat_id, "is_bot": False, "first_name": "Nam"},
                "message": {
                    "message_id": next(self._ids), "date": int(time.time()), "text": "menu",
                    "chat": {"id": chat_id, "type": "private", "first_name": "Nam"},
                    "from": BOT_USER,
                },
            },
        }

    def media_update(self, chat_id: int, kind: str) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "photo": [{"file_id": "photo-small", "file_unique_id": "u1", "width": 90, "height": 90},
                      {"file_id": "photo-big", "file_unique_id": "u2", "width": 800, "height": 600}],
            "voice": {"file_id": "voice-1", "file_unique_id": "u3", "duration": 4},
            "location": {"latitude": 21.85, "longitude": 106.76},
            "sticker": {"file_id": "st-1", "file_unique_id": "u4", "width": 512, "height": 512,
                        "is_animated": False, "is_video": False, "type": "regular"},
        }
        return {
            "update_id": self.next_update_id(),
            "message": {
                "message_id": next(self._ids), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Nam"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Nam"},
                kind: payload[kind],
            },
        }

    def queue(self, update: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.updates.append(update)
        return update

    def sent(self, chat_id: int | None = None, method: str = "sendMessage", ok_only: bool = False) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (c.ok or not ok_only)
                    and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)]

    def methods(self) -> list[str]:
        with self._lock:
            return [c.method for c in self.calls]

    # -- the server ----------------------------------------------------------------------
    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/bot{token}/{method}")
        async def method(token: str, method: str, request: Request) -> JSONResponse:
            if token != self.token:
                return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
            params = await self._params(request)
            failure = self._take_failure(method)
            hold = False
            if method != "getUpdates":
                with self._lock:
                    self.calls.append(Call(method, params, time.monotonic(), ok=failure is None))
                    if method == "sendMessage" and failure is None and self.hold_after is not None \
                            and not self.release.is_set() \
                            and sum(c.method == "sendMessage" and c.ok for c in self.calls) > self.hold_after:
                        self.held.set()
                        hold = True
            while hold and not self.release.is_set():
                await asyncio.sleep(0.05)
            if failure is not None:
                status, retry_after = failure
                body: dict[str, Any] = {"ok": False, "error_code": status, "description": f"fake {status}"}
                if retry_after is not None:
                    body["parameters"] = {"retry_after": retry_after}
                return JSONResponse(body, status)
            chat_id = params.get("chat_id")
            if chat_id is not None and int(chat_id) in self.blocked_chats:
                return JSONResponse({"ok": False, "error_code": 403,
                                     "description": "Forbidden: bot was blocked by the user"}, 403)
            return JSONResponse({"ok": True, "result": await self._result(method, params)})

        return app

    def _take_failure(self, method: str) -> tuple[int, int | None] | None:
        with self._lock:
            queue = self.failures.get(method)
            return queue.pop(0) if queue else None

    async def _params(self, request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            return dict(await request.json())
        form = await request.form()
        out: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, str):
                try:
                    out[key] = json.loads(value)
                except ValueError:
                    out[key] = value
            else:
                out[key] = value.filename
        return out

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            timeout = min(float(params.get("timeout") or 0), 0.5)
            deadline = time.monotonic() + timeout
            while True:
                with self._lock:
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                    ready = list(self.updates)
                if ready or time.monotonic() >= deadline:
                    return ready
                await asyncio.sleep(0.05)
        if method in {"sendMessage", "sendPhoto", "sendDocument", "editMessageText"}:
            chat_id = int(params.get("chat_id", 0))
            message: dict[str, Any] = {
                "message_id": next(self._ids), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"}, "from": BOT_USER,
            }
            if "text" in params:
                message["text"] = params["text"]
            if "caption" in params:
                message["caption"] = params["caption"]
            return message
        return True
