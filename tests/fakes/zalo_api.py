"""A fake Zalo OA API for tests: the CS message endpoint and the OAuth token refresh."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

APP_ID = "1234567890"
OA_SECRET = "oa-secret-key-for-tests"
APP_SECRET = "app-secret-for-tests"


def sign(raw: bytes, timestamp: str) -> str:
    return "mac=" + hashlib.sha256(APP_ID.encode() + raw + timestamp.encode() + OA_SECRET.encode()).hexdigest()


@dataclass
class FakeZalo:
    access_token: str = "access-1"
    refresh_token: str = "refresh-1"
    messages: list[dict[str, Any]] = field(default_factory=list)
    refreshes: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _n: int = 1
    # the next refresh is never answered: "used" — Zalo issues the new pair (the old refresh
    # token is spent) but the answer is lost; "lost" — the request never reaches Zalo
    hold_refresh: str | None = None
    refresh_held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def event(self, user: str, text: str | None = None, *, name: str = "user_send_text", msg_id: str | None = None,
              timestamp_ms: int | None = None, attachments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"msg_id": msg_id or f"m-{time.monotonic_ns()}"}
        if text is not None:
            message["text"] = text
        if attachments:
            message["attachments"] = attachments
        return {"app_id": APP_ID, "event_name": name, "sender": {"id": user}, "recipient": {"id": "oa-1"},
                "message": message, "timestamp": str(timestamp_ms or int(time.time() * 1000))}

    def to(self, user: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m["message"] for m in self.messages if m["recipient"]["user_id"] == user]

    def expire(self) -> None:
        with self._lock:
            self.access_token = f"access-{self._n}-expired-now"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v3.0/oa/message/cs")
        async def send(request: Request) -> JSONResponse:
            body = await request.json()
            if request.headers.get("access_token") != self.access_token:
                return JSONResponse({"error": -216, "message": "Access token is invalid"})
            text = (body.get("message") or {}).get("text", "")
            if len(text) > 2000:
                return JSONResponse({"error": -201, "message": "text too long"})
            buttons = ((body["message"].get("attachment") or {}).get("payload") or {}).get("buttons") or []
            if len(buttons) > 5 or any(len(b["title"]) > 100 for b in buttons):
                return JSONResponse({"error": -201, "message": "bad buttons"})
            with self._lock:
                self.messages.append(body)
            return JSONResponse({"error": 0, "message": "Success", "data": {"message_id": f"s{len(self.messages)}"}})

        @app.post("/v4/oa/access_token")
        async def refresh(request: Request) -> JSONResponse:
            form = dict(await request.form())
            hold, self.hold_refresh = self.hold_refresh, None
            if hold == "lost":
                self.refresh_held.set()
                while not self.release.is_set():
                    await asyncio.sleep(0.05)
                return JSONResponse({"error": -1, "message": "never reached Zalo"})
            answer = self._refresh(request, form)
            if hold == "used":
                self.refresh_held.set()
                while not self.release.is_set():
                    await asyncio.sleep(0.05)
            return answer

        return app

    def _refresh(self, request: Request, form: dict[str, Any]) -> JSONResponse:
        with self._lock:
            self.refreshes.append({"secret_key": request.headers.get("secret_key"), **form})
            if request.headers.get("secret_key") != APP_SECRET or form.get("refresh_token") != self.refresh_token \
                    or form.get("grant_type") != "refresh_token" or form.get("app_id") != APP_ID:
                return JSONResponse({"error": -14014, "error_name": "Invalid refresh token"})
            self._n += 1
            self.access_token, self.refresh_token = f"access-{self._n}", f"refresh-{self._n}"
            return JSONResponse({"access_token": self.access_token, "refresh_token": self.refresh_token,
                                 "expires_in": "90000"})

    def authorise_again(self) -> tuple[str, str]:
        """What an admin gets from Zalo's console after authorising the app again."""
        with self._lock:
            self._n += 1
            self.access_token, self.refresh_token = f"access-{self._n}", f"refresh-{self._n}"
            return self.access_token, self.refresh_token


def post_event(client: Any, url: str, event: dict[str, Any], *, good_signature: bool = True) -> Any:
    raw = json.dumps(event, ensure_ascii=False).encode()
    mac = sign(raw, event["timestamp"]) if good_signature else "mac=" + "0" * 64
    return client.post(f"{url}/zalo/webhook", content=raw,
                       headers={"content-type": "application/json", "X-ZEvent-Signature": mac})
