"""Zalo Official Account: signed webhook in, customer-service messages out.

No Zalo payload leaves this module: events become ``IncomingMessage`` and replies become calls
to ``POST {base}/v3.0/oa/message/cs``. Facts in ../shared/design.md: the signature is
``mac=`` + SHA-256 hex of app_id + raw body + timestamp + OA secret key; error -216 means the
access token expired (refreshed once, by one refresher, the new pair stored atomically);
free replies are 8 messages within 48 hours of the user's last message.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.channels import reply_window
from bot.conversation import choices
from bot.conversation.split import split_text
from bot.conversation.types import IncomingMessage, MediaKind, Reply
from bot.runtime import Runtime, retry_while_database_down
from bot.sending.delivery import HELD
from bot.sending.worker import Dispatch, send_claimed
from bot.services import files
from bot.settings import Settings
from bot.storage.db import unit_of_work, utcnow
from bot.storage.models import OAuthToken, OutgoingMessage, PendingChoices

log = logging.getLogger(__name__)

CHANNEL = "zalo"
SIGNATURE_HEADER = "X-ZEvent-Signature"
BUTTON_MARK = "#b:"  # payload of an oa.query.hide button: the bot's own callback data
MAX_TEMPLATE_BUTTONS = 5
MAX_TITLE = 100
MAX_TEXT = 2000
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


def to_incoming(event: dict[str, Any], listed: dict[str, str] | None = None) -> IncomingMessage | None:
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
        pressed = choices.pressed(text, listed) if listed else None
        if pressed is not None:  # the key of a button shown as a list
            return IncomingMessage(button=pressed, **common)
        return IncomingMessage(text=text, **common)
    if name in _MEDIA:
        return IncomingMessage(media=_MEDIA[name], media_ref=_attachment_ref(message),
                               caption=message.get("text") or None, **common)
    return None


class TokenUnavailable(Exception):
    """No usable access token now: Zalo needs authorising again, or a refresh is unfinished."""


class ZaloUnreachable(Exception):
    """Zalo could not be reached; nothing was delivered (the queue tries again later)."""


class ZaloChannel:
    def __init__(self, runtime: Runtime, settings: Settings) -> None:
        if not (settings.zalo_app_id and settings.zalo_oa_secret_key):
            raise ValueError("ZALO_APP_ID and ZALO_OA_SECRET_KEY are required for Zalo")
        self.runtime = runtime
        self.settings = settings
        self.http = httpx.AsyncClient(timeout=settings.zalo_http_timeout)
        self._refresh_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.http.aclose()

    # -- inbound ---------------------------------------------------------------------------
    def verify(self, raw: bytes, header: str, timestamp: str) -> bool:
        secret = self.settings.zalo_oa_secret_key
        assert secret is not None and self.settings.zalo_app_id
        expected = signature(self.settings.zalo_app_id, raw, timestamp, secret.get_secret_value())
        return hmac.compare_digest(header.encode(), expected.encode())

    def is_stale(self, timestamp: str) -> bool:
        try:
            sent = int(timestamp) / 1000
        except ValueError:
            return True
        return abs(time.time() - sent) > self.settings.zalo_replay_seconds

    def accept(self, event: dict[str, Any]) -> None:
        """Process an event in the background (the webhook has answered already)."""
        task = asyncio.create_task(self._process(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, event: dict[str, Any]) -> None:
        try:
            sender = str((event.get("sender") or {}).get("id") or "")
            choices = await asyncio.to_thread(self._choices, sender) if sender else None
            message = to_incoming(event, choices)
            if message is None:
                return
            delivery = f"msg:{message.message_id}" if message.message_id else f"ts:{event.get('timestamp')}:{sender}"

            def inbound(session: Session) -> None:
                reply_window.note_inbound(session, channel=CHANNEL, user_id=message.user_id, at=utcnow())

            handled = await retry_while_database_down(lambda: asyncio.to_thread(
                self.runtime.handle_once, message, delivery, also=inbound))
            if handled is None:
                return
            replies, queued = handled
            if queued is not None:  # queued too: a crash or a token problem now loses nothing
                await send_claimed(self.runtime, self.deliver, message_id=queued, channel=CHANNEL,
                                   user_id=message.user_id, replies=replies)
            elif replies:  # the flood warning
                await self.send(message.user_id, replies)
        except Exception:
            log.exception("zalo event failed")

    def _choices(self, user_id: str) -> dict[str, str] | None:
        with self.runtime.sessions() as session:
            row = session.get(PendingChoices, (CHANNEL, user_id))
            if row is None:
                return None
            if "keys" in row.payloads:
                return dict(row.payloads["keys"])
            return {str(i): p for i, p in enumerate(row.payloads.get("buttons", []), start=1)}  # before keys

    # -- outbound --------------------------------------------------------------------------
    def _bodies(self, user_id: str, reply: Reply) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """Message bodies for one reply, and key → payload of the list if one was used."""
        text = reply.text
        for ref, label in ((reply.image, "Ảnh"), (reply.document, "Tệp")):
            if ref:
                link = f"{self.settings.public_url.rstrip('/')}{ref}" if self.settings.public_url and \
                    ref.startswith(files.URL_PREFIX) else ref
                text = f"{text}\n{label}: {link}"
        buttons = [b for row in reply.buttons for b in row]
        numbered = None
        template = None
        if len(buttons) > MAX_TEMPLATE_BUTTONS:
            lines, numbered = choices.listed(buttons, letters=reply.expects_number)
            lead = "Bác trả lời bằng chữ cái (a, b, c…):" if reply.expects_number else "Bác trả lời bằng số:"
            text += f"\n\n{lead}\n" + "\n".join(lines)
        elif buttons:
            template = {"type": "template", "payload": {"buttons": [
                {"title": b.text[:MAX_TITLE], "type": "oa.query.hide", "payload": BUTTON_MARK + b.data}
                for b in buttons]}}
        parts = split_text(text, MAX_TEXT)
        bodies: list[dict[str, Any]] = [
            {"recipient": {"user_id": user_id}, "message": {"text": part}} for part in parts]
        if template:
            bodies[-1]["message"]["attachment"] = template
        return bodies, numbered

    async def send(self, user_id: str, replies: list[Reply], dispatch: Dispatch | None = None) -> int:
        """Send within the free-reply window; returns how many messages are out (sent before a
        crash included). Raises ``TokenUnavailable`` while Zalo needs authorising again."""
        dispatch = dispatch or Dispatch()
        out = 0
        for reply in replies:
            bodies, numbered = self._bodies(user_id, reply)
            await asyncio.to_thread(self._remember_choices, user_id, numbered)
            for body in bodies:
                if dispatch.skip():  # went out before a crash
                    out += 1
                    continue
                token = await self._usable_token()  # before using up a free message
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

    def _remember_choices(self, user_id: str, payloads: dict[str, str] | None) -> None:
        with unit_of_work(self.runtime.sessions) as session:
            row = session.get(PendingChoices, (CHANNEL, user_id))
            if payloads is None:
                if row is not None:
                    session.delete(row)
                return
            if row is None:
                session.add(PendingChoices(channel=CHANNEL, user_id=user_id, payloads={"keys": payloads}))
            else:
                row.payloads, row.updated_at = {"keys": payloads}, utcnow()

    async def _post_message(self, body: dict[str, Any], dispatch: Dispatch, token: str) -> bool:
        """One message; True if Zalo took it (or may have: a timeout is never sent again)."""
        url = f"{self.settings.zalo_api_base_url.rstrip('/')}/v3.0/oa/message/cs"
        for attempt in range(2):
            if attempt:
                token = await self._usable_token()  # the one the refresh stored
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
                await self.refresh(token)
                continue
            await dispatch.after()  # refused for good (e.g. the user unfollowed): not tried again
            log.warning("zalo send refused: error %s %s", error, data.get("message") if isinstance(data, dict) else "")
            return False
        return False

    # -- tokens ----------------------------------------------------------------------------
    # The refresh token is single-use. One refresher at a time across processes: a refresh takes
    # a lease in the database (``refreshing_since``) before calling Zalo, and stores the new pair
    # in one transaction as soon as it arrives. A process killed during the call leaves the
    # lease; once it runs out, the next refresher tries the stored refresh token again: if Zalo
    # never used it, all goes on; if Zalo did (its answer died with the process), Zalo refuses
    # it, and the bot marks itself "needs authorising" — messages are held, not dropped, until
    # an admin stores a new pair (``agribot zalo token``), then they go out.
    @property
    def refresh_lease(self) -> timedelta:
        return timedelta(seconds=self.settings.zalo_http_timeout + 5)

    def _token_row(self) -> OAuthToken:
        """The stored pair; the first time, the pair from the settings (stored once, race-safe)."""
        for _ in range(2):
            try:
                with unit_of_work(self.runtime.sessions) as session:
                    row = session.get(OAuthToken, CHANNEL)
                    if row is None:
                        settings = self.settings
                        access = settings.zalo_access_token.get_secret_value() if settings.zalo_access_token else ""
                        refresh = settings.zalo_refresh_token.get_secret_value() if settings.zalo_refresh_token \
                            else ""
                        row = OAuthToken(provider=CHANNEL, access_token=access, refresh_token=refresh, version=1,
                                         needs_reauth=False)
                        session.add(row)
                        session.flush()
                    session.expunge(row)
                    return row
            except IntegrityError:  # another sender stored the first pair at the same moment
                continue
        raise RuntimeError("could not read the Zalo token pair")

    def needs_reauth(self) -> bool:
        """For /healthz: read only (the first pair is stored by the first send)."""
        with self.runtime.sessions() as session:
            row = session.get(OAuthToken, CHANNEL)
            return bool(row is not None and row.needs_reauth)

    async def _usable_token(self) -> str:
        row = await asyncio.to_thread(self._token_row)
        if row.needs_reauth:
            raise TokenUnavailable("Zalo refused the refresh token: authorise the app again (agribot zalo token)")
        return row.access_token

    def _claim_refresh(self, version: int) -> bool:
        """Take the refresh lease (compare-and-set): False if another refresher holds it."""
        now = utcnow()
        with unit_of_work(self.runtime.sessions) as session:
            result = session.execute(
                update(OAuthToken).where(
                    OAuthToken.provider == CHANNEL, OAuthToken.version == version,
                    OAuthToken.needs_reauth.is_(False),
                    OAuthToken.refreshing_since.is_(None) | (OAuthToken.refreshing_since < now - self.refresh_lease))
                .values(refreshing_since=now))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def _end_refresh(self, version: int, *, pair: tuple[str, str] | None = None, refused: bool = False) -> None:
        """Store the new pair (compare-and-set on the version), or mark the refusal; drop the lease."""
        values: dict[str, Any] = {"refreshing_since": None}
        if pair is not None:
            values.update(access_token=pair[0], refresh_token=pair[1], version=version + 1, updated_at=utcnow())
        if refused:
            values.update(needs_reauth=True, updated_at=utcnow())
        with unit_of_work(self.runtime.sessions) as session:
            session.execute(update(OAuthToken).where(OAuthToken.provider == CHANNEL, OAuthToken.version == version)
                            .values(**values))

    async def refresh(self, expired: str) -> None:
        """Refresh once: other senders, here or in other processes, wait and reuse the new token.

        Raises ``TokenUnavailable`` when no new token can be had now (the message is then held).
        """
        loop = asyncio.get_running_loop()
        async with self._refresh_lock:
            deadline = loop.time() + self.refresh_lease.total_seconds() + 5
            while True:
                row = await asyncio.to_thread(self._token_row)
                if row.needs_reauth:
                    raise TokenUnavailable("Zalo refused the refresh token: authorise the app again")
                if row.access_token != expired:
                    return  # someone else refreshed meanwhile
                if await asyncio.to_thread(self._claim_refresh, row.version):
                    break
                if loop.time() > deadline:
                    raise TokenUnavailable("another process's token refresh has not finished")
                await asyncio.sleep(0.2)
            secret = self.settings.zalo_app_secret.get_secret_value() if self.settings.zalo_app_secret else ""
            try:
                response = await self.http.post(
                    self.settings.zalo_oauth_url, headers={"secret_key": secret},
                    data={"refresh_token": row.refresh_token, "app_id": self.settings.zalo_app_id or "",
                          "grant_type": "refresh_token"})
                data = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                # no answer: Zalo may or may not have used the token; the next try tells
                await asyncio.to_thread(self._end_refresh, row.version)
                log.error("zalo token refresh failed: %s", type(exc).__name__)
                raise TokenUnavailable("no answer from Zalo's token endpoint") from exc
            if not isinstance(data, dict) or not data.get("access_token") or not data.get("refresh_token"):
                await asyncio.to_thread(self._end_refresh, row.version, refused=True)
                log.error("zalo refused the refresh token (%s): the app must be authorised again; messages "
                          "are held until `agribot zalo token` stores a new pair",
                          data.get("error") if isinstance(data, dict) else "no JSON object")
                raise TokenUnavailable("Zalo refused the refresh token")
            await asyncio.to_thread(self._end_refresh, row.version,
                                    pair=(str(data["access_token"]), str(data["refresh_token"])))
            log.info("zalo access token refreshed")


def store_pair(session: Session, *, access: str, refresh: str, now: datetime) -> int:
    """An admin's new token pair (after authorising the app again): held messages go out now.

    Returns how many held messages were released.
    """
    row = session.get(OAuthToken, CHANNEL)
    if row is None:
        session.add(OAuthToken(provider=CHANNEL, access_token=access, refresh_token=refresh, version=1,
                               needs_reauth=False, updated_at=now))
    else:
        row.access_token, row.refresh_token, row.version = access, refresh, row.version + 1
        row.needs_reauth, row.refreshing_since, row.updated_at = False, None, now
    result = session.execute(update(OutgoingMessage).where(
        OutgoingMessage.channel == CHANNEL, OutgoingMessage.state == "pending",
        OutgoingMessage.last_error == HELD, OutgoingMessage.not_before > now).values(not_before=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
        if event.get("app_id") not in (None, channel.settings.zalo_app_id):
            return JSONResponse({"detail": "wrong app"}, status_code=401)
        if not await channel.runtime.database_available():
            return JSONResponse({"detail": "database unavailable"}, status_code=503, headers={"Retry-After": "30"})
        if channel.is_stale(timestamp):
            log.info("zalo event with stale timestamp ignored (replay?)")
            return JSONResponse({"ok": True, "ignored": "stale timestamp"})
        channel.accept(event)
        return JSONResponse({"ok": True})

    return router
