"""Zalo Official Account: signed webhook in, customer-service messages out.

No Zalo payload leaves this module: events become ``IncomingMessage`` and replies become calls
to ``POST {base}/v3.0/oa/message/cs``. The webhook checks the signature on the raw body before
parsing it, stores the event in the inbox (``bot.receiving.inbox``) before its 200, and inbox
workers hand it to ``inlet``. Facts in ../shared/design.md: the signature is
``mac=`` + SHA-256 hex of app_id + raw body + timestamp + OA secret key; error -216 means the
access token expired (refreshed once, by one refresher, the new pair stored atomically: see
``bot.channels.zalo_tokens``); free replies are 8 messages within 48 hours of the user's last
message. More than 5 buttons go as a list answered by keys (``bot.channels.base``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from bot.channels import inbound, reply_window, webhook_body
from bot.channels.base import Capabilities, Shown, keyed, remember_keys
from bot.channels.zalo_tokens import TokenUnavailable, ZaloTokens
from bot.conversation.split import split_text
from bot.conversation.types import IncomingMessage, MediaKind, Reply
from bot.receiving import inbox
from bot.runtime import Runtime
from bot.sending import on_wire
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
# the "timestamp" values of a raw body: the signature covers it, so it is read before parsing
_TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*"?(\d{1,20})"?')
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


def delivery_id(event: dict[str, Any]) -> str:
    """The event's id: its msg_id, else its timestamp and sender (the inbox's unique key and the
    conversation step's, so a repeated event is answered once)."""
    message = event.get("message")
    msg_id = message.get("msg_id") if isinstance(message, dict) else None
    sender = event.get("sender")
    user = sender.get("id") if isinstance(sender, dict) else None
    key = f"msg:{msg_id}" if msg_id else f"ts:{event.get('timestamp')}:{user}"
    return key if len(key) <= 128 else "sha256:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def sender_of(event: dict[str, Any]) -> str | None:
    sender = event.get("sender")
    user = sender.get("id") if isinstance(sender, dict) else None
    return str(user)[:128] if isinstance(user, str | int) and not isinstance(user, bool) else None


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

    async def start(self) -> None:
        return None  # Zalo calls the webhook; nothing to connect to

    async def stop(self) -> None:
        await self.http.aclose()

    def needs_reauth(self) -> bool:
        return self.tokens.needs_reauth()

    # -- inbound ---------------------------------------------------------------------------
    def verify(self, raw: bytes, header: str, timestamp: str) -> bool:
        secret = self.settings.zalo.oa_secret_key
        assert secret is not None and self.settings.zalo.app_id
        expected = signature(self.settings.zalo.app_id, raw, timestamp, secret.get_secret_value())
        return hmac.compare_digest(header.encode(), expected.encode())

    def signed_timestamp(self, raw: bytes, header: str) -> str | None:
        """The body's timestamp that the signature was made with, read from the raw bytes before
        any parsing; None when no timestamp in the body matches the signature."""
        for found in _TIMESTAMP.finditer(raw[:1_000_000]):
            timestamp = found.group(1).decode()
            if self.verify(raw, header, timestamp):
                return timestamp
        return None

    def is_stale(self, timestamp: str) -> bool:
        try:
            sent = int(timestamp) / 1000
        except ValueError:
            return True
        return abs(time.time() - sent) > self.settings.zalo.replay_seconds

    def store(self, event: dict[str, Any], body: str) -> bool:
        """Write one event to the inbox (committed); False for a duplicate."""
        return inbox.accept_now(self.runtime.engine, channel=CHANNEL, update_id=delivery_id(event),
                                user_id=sender_of(event), body=body, now=utcnow())

    async def inlet(self, body: str) -> None:
        """Handle one event from the inbox (``bot.receiving.worker``)."""
        parsed = webhook_body.parse(body.encode())
        event = parsed[0] if parsed is not None else None
        message = to_incoming(event) if isinstance(event, dict) else None
        if event is None or message is None:
            return

        def window_opens(session: Session) -> None:
            reply_window.note_inbound(session, channel=CHANNEL, user_id=message.user_id, at=utcnow())

        await inbound.receive(self.runtime, self, message, delivery_id(event), also=window_opens)

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
            written = False  # the request was wholly written: Zalo may have acted on it

            async def mark() -> None:
                nonlocal written
                written = True
                await dispatch.before()

            try:  # marked once the request is written (bot.sending.on_wire)
                response = await self.http.post(url, headers={"access_token": token}, json=body,
                                                extensions={"trace": on_wire.trace(mark)})
                if response.status_code >= 500 or response.status_code == 429:  # not taken
                    await dispatch.refused()
                    raise ZaloUnreachable(f"HTTP {response.status_code}")  # the queue tries again later
                data = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                if written:  # a read timeout, a reset or a garbled answer after the request went out
                    log.warning("zalo send cut off after it was sent (%s): it may have arrived, so it is "
                                "not sent again", type(exc).__name__)
                    await dispatch.after(uncertain=True)
                    return True
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
        timestamp = channel.signed_timestamp(raw, request.headers.get(SIGNATURE_HEADER, ""))
        if timestamp is None:  # checked on the raw body, before it is parsed
            return JSONResponse({"detail": "bad signature"}, status_code=401)
        parsed = webhook_body.parse(raw)
        if parsed is None:
            return JSONResponse({"detail": "body is not JSON"}, status_code=400)
        event, body = parsed
        if not isinstance(event, dict) or str(event.get("timestamp") or "") != timestamp:
            return JSONResponse({"detail": "not a Zalo event"}, status_code=400)
        if event.get("app_id") not in (None, channel.settings.zalo.app_id):
            return JSONResponse({"detail": "wrong app"}, status_code=401)
        if channel.is_stale(timestamp):
            log.info("zalo event with stale timestamp ignored (replay?)")
            return JSONResponse({"ok": True, "ignored": "stale timestamp"})
        return await inbound.acknowledge(channel.runtime, lambda: channel.store(event, body))

    return router
