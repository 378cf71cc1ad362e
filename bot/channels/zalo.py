"""Zalo Official Account: signed webhook in, customer-service messages out.

No Zalo payload leaves this module: events become ``IncomingMessage`` and replies become calls
to ``POST {base}/v3.0/oa/message/cs``. Facts in ../shared/design.md: the signature is
``mac=`` + SHA-256 hex of app_id + raw body + timestamp + OA secret key; error -216 means the
access token expired (refreshed once, by one refresher, the new pair stored atomically: see
``bot.channels.zalo_tokens``); free replies are 8 messages within 48 hours of the user's last
message. More than 5 buttons go as a list answered by keys (``bot.channels.base``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from bot.channels import inbound, reply_window
from bot.channels.base import Capabilities, Shown, keyed, remember_keys
from bot.channels.zalo_tokens import TokenUnavailable, ZaloTokens
from bot.conversation.split import split_text
from bot.conversation.types import IncomingMessage, MediaKind, Reply
from bot.runtime import Runtime
from bot.sending.worker import Dispatch
from bot.services import files
from bot.settings import Settings
from bot.storage.db import unit_of_work, utcnow

log = logging.getLogger(__name__)

CHANNEL = "zalo"
SIGNATURE_HEADER = "X-ZEvent-Signature"
BUTTON_MARK = "#b:"  # payload of an oa.query.hide button: the bot's own callback data
MAX_TITLE = 100
TOKEN_EXPIRED = -216
_MEDIA = {
    "user_send_image": MediaKind.PHOTO, "user_send_gif": MediaKind.PHOTO, "user_send_audio": MediaKind.VOICE,
    "user_send_video": MediaKind.VIDEO, "user_send_sticker": MediaKind.STICKER,
    "user_send_location": MediaKind.LOCATION, "user_send_file": MediaKind.DOCUMENT,
}


def signature(app_id: str, raw_body: bytes, timestamp: str, secret: str) -> str:
    digest = hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + secret.encode()).hexdigest()
    return f"mac={digest}"


def _attachment_ref(message: dict[str, Any]) -> str | None:
    attachments = message.get("attachments") or []
    if not attachments or not isinstance(attachments[0], dict):
        return None
    payload = attachments[0].get("payload") or {}
    coordinates = payload.get("coordinates")
    if isinstance(coordinates, dict):
        return f"{coordinates.get('latitude')},{coordinates.get('longitude')}"
    ref = payload.get("url") or payload.get("id")
    return str(ref)[:255] if ref else None


def to_incoming(event: dict[str, Any]) -> IncomingMessage | None:
    """The internal message for a Zalo event, or None for events that are not user input."""
    name = event.get("event_name")
    sender = (event.get("sender") or {}).get("id")
    message = event.get("message") or {}
    if not sender or not isinstance(message, dict):
        return None
    common: dict[str, Any] = {"channel": CHANNEL, "user_id": str(sender), "message_id": message.get("msg_id")}
    if name == "user_send_text":
        text = str(message.get("text") or "").strip()
        if not text:
            return None
        if text.startswith(BUTTON_MARK):
            return IncomingMessage(button=text[len(BUTTON_MARK):][:64], **common)
        return IncomingMessage(text=text, **common)  # a typed key of a listed button: see inbound
    if name in _MEDIA:
        return IncomingMessage(media=_MEDIA[name], media_ref=_attachment_ref(message),
                               caption=message.get("text") or None, **common)
    return None


class ZaloUnreachable(Exception):
    """Zalo could not be reached; nothing was delivered (the queue tries again later)."""


class ZaloChannel:
    name = CHANNEL
    # template buttons: 5 at most; images and files go as links in the text
    capabilities = Capabilities(max_text=2000, max_buttons=5, images=False, documents=False)

    @staticmethod
    def enabled(settings: Settings) -> bool:
        return bool(settings.zalo.app_id and settings.zalo.oa_secret_key)

    @staticmethod
    def router() -> APIRouter:
        return zalo_router()

    def __init__(self, runtime: Runtime, settings: Settings) -> None:
        if not self.enabled(settings):
            raise ValueError("ZALO_APP_ID and ZALO_OA_SECRET_KEY are required for Zalo")
        self.runtime = runtime
        self.settings = settings
        self.http = httpx.AsyncClient(timeout=settings.zalo.http_timeout)
        self.tokens = ZaloTokens(runtime.sessions, settings, self.http)
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        return None  # Zalo calls the webhook; nothing to connect to

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.http.aclose()

    def needs_reauth(self) -> bool:
        return self.tokens.needs_reauth()

    # -- inbound ---------------------------------------------------------------------------
    def verify(self, raw: bytes, header: str, timestamp: str) -> bool:
        secret = self.settings.zalo.oa_secret_key
        assert secret is not None and self.settings.zalo.app_id
        expected = signature(self.settings.zalo.app_id, raw, timestamp, secret.get_secret_value())
        return hmac.compare_digest(header.encode(), expected.encode())

    def is_stale(self, timestamp: str) -> bool:
        try:
            sent = int(timestamp) / 1000
        except ValueError:
            return True
        return abs(time.time() - sent) > self.settings.zalo.replay_seconds

    def accept(self, event: dict[str, Any]) -> None:
        """Process an event in the background (the webhook has answered already)."""
        task = asyncio.create_task(self._process(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, event: dict[str, Any]) -> None:
        try:
            message = to_incoming(event)
            if message is None:
                return
            delivery = f"msg:{message.message_id}" if message.message_id else \
                f"ts:{event.get('timestamp')}:{message.user_id}"

            def window_opens(session: Session) -> None:
                reply_window.note_inbound(session, channel=CHANNEL, user_id=message.user_id, at=utcnow())

            await inbound.receive(self.runtime, self, message, delivery, also=window_opens)
        except Exception:
            log.exception("zalo event failed")

    # -- outbound --------------------------------------------------------------------------
    def _bodies(self, user_id: str, shown: Shown, letters: bool) -> list[dict[str, Any]]:
        """Message bodies for one reply: its buttons as a template, or listed with their keys."""
        reply = shown.reply
        text = reply.text
        for ref, label in ((reply.image, "Ảnh"), (reply.document, "Tệp")):
            if ref:
                link = f"{self.settings.public_url.rstrip('/')}{files.share_link(self.settings.files_dir, ref)}" \
                    if self.settings.public_url and ref.startswith(files.URL_PREFIX) else ref  # a key: no login on Zalo
                text = f"{text}\n{label}: {link}"
        if shown.rows:
            lead = "Bác trả lời bằng chữ cái (a, b, c…):" if letters else "Bác trả lời bằng số:"
            text += f"\n\n{lead}\n" + "\n".join(shown.lines())
        bodies: list[dict[str, Any]] = [
            {"recipient": {"user_id": user_id}, "message": {"text": part}}
            for part in split_text(text, self.capabilities.max_text)]
        if shown.buttons:
            bodies[-1]["message"]["attachment"] = {"type": "template", "payload": {"buttons": [
                {"title": b.text[:MAX_TITLE], "type": "oa.query.hide", "payload": BUTTON_MARK + b.data}
                for b in shown.buttons]}}
        return bodies

    async def send(self, user_id: str, replies: list[Reply], dispatch: Dispatch | None = None) -> int:
        """Send within the free-reply window; returns how many messages are out (sent before a
        crash included). Raises ``TokenUnavailable`` while Zalo needs authorising again."""
        dispatch = dispatch or Dispatch()
        turn = keyed(replies, self.capabilities)
        await asyncio.to_thread(remember_keys, self.runtime.sessions, channel=CHANNEL, user_id=user_id,
                                keys=turn.keys)
        out = 0
        for shown in turn.replies:
            for body in self._bodies(user_id, shown, turn.letters):
                if dispatch.skip():  # went out before a crash
                    out += 1
                    continue
                token = await self.tokens.usable()  # before using up a free message
                if not await asyncio.to_thread(self._take_window, user_id):
                    log.info("zalo: message to a user outside the 48 h / 8 message window skipped")
                    return out
                try:
                    if await self._post_message(body, dispatch, token):
                        out += 1
                except TokenUnavailable:
                    await asyncio.to_thread(self._give_back_window, user_id)  # the free message was not used
                    raise
        return out

    async def deliver(self, user_id: str, replies: list[Reply], dispatch: Dispatch) -> str:
        """Outlet for the delivery queue: skipped outside the free-reply window; held while Zalo
        needs authorising again (nothing is dropped)."""
        try:
            out = await self.send(user_id, replies, dispatch)
        except TokenUnavailable as exc:
            log.warning("zalo: message held: %s", exc)
            return "hold"
        return "sent" if out else "skipped"

    def _take_window(self, user_id: str) -> bool:
        with unit_of_work(self.runtime.sessions) as session:
            return reply_window.take(session, channel=CHANNEL, user_id=user_id, now=utcnow())

    def _give_back_window(self, user_id: str) -> None:
        with unit_of_work(self.runtime.sessions) as session:
            reply_window.give_back(session, channel=CHANNEL, user_id=user_id)

    async def _post_message(self, body: dict[str, Any], dispatch: Dispatch, token: str) -> bool:
        """One message; True if Zalo took it (or may have: a timeout is never sent again)."""
        url = f"{self.settings.zalo.api_base_url.rstrip('/')}/v3.0/oa/message/cs"
        for attempt in range(2):
            if attempt:
                token = await self.tokens.usable()  # the one the refresh stored
            await dispatch.before()
            try:
                response = await self.http.post(url, headers={"access_token": token}, json=body)
                data = response.json()
            except httpx.TimeoutException:
                log.warning("zalo send timed out: it may have arrived, so it is not sent again")
                await dispatch.after(uncertain=True)
                return True
            except (httpx.HTTPError, ValueError) as exc:
                await dispatch.refused()
                raise ZaloUnreachable(type(exc).__name__) from exc  # the queue tries again later
            error = data.get("error") if isinstance(data, dict) else None
            if error == 0:
                await dispatch.after()
                return True
            if error == TOKEN_EXPIRED and attempt == 0:
                await dispatch.refused()
                await self.tokens.refresh(token)
                continue
            await dispatch.after()  # refused for good (e.g. the user unfollowed): not tried again
            log.warning("zalo send refused: error %s %s", error, data.get("message") if isinstance(data, dict) else "")
            return False
        return False


def zalo_router() -> APIRouter:
    router = APIRouter()

    @router.post("/zalo/webhook")
    async def webhook(request: Request) -> JSONResponse:
        channel: ZaloChannel | None = getattr(request.app.state, "zalo", None)
        if channel is None:
            return JSONResponse({"detail": "Zalo is not enabled"}, status_code=404)
        raw = await request.body()
        try:
            event = json.loads(raw)
        except ValueError:
            return JSONResponse({"detail": "body is not JSON"}, status_code=400)
        if not isinstance(event, dict):
            return JSONResponse({"detail": "not a Zalo event"}, status_code=400)
        timestamp = str(event.get("timestamp") or "")
        if not channel.verify(raw, request.headers.get(SIGNATURE_HEADER, ""), timestamp):
            return JSONResponse({"detail": "bad signature"}, status_code=401)
        if event.get("app_id") not in (None, channel.settings.zalo.app_id):
            return JSONResponse({"detail": "wrong app"}, status_code=401)
        if (down := await inbound.database_down(channel.runtime)) is not None:
            return down
        if channel.is_stale(timestamp):
            log.info("zalo event with stale timestamp ignored (replay?)")
            return JSONResponse({"ok": True, "ignored": "stale timestamp"})
        channel.accept(event)
        return JSONResponse({"ok": True})

    return router
