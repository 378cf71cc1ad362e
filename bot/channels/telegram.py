"""Telegram through python-telegram-bot: polling or webhook, one IncomingMessage per update.

No Telegram type leaves this module: updates become ``IncomingMessage`` and ``Reply`` objects
become Bot API calls. Every update, from the webhook or from polling, is first stored in the
inbox (``bot.receiving.inbox``: before the webhook's 200, before polling confirms it); inbox
workers hand it to ``inlet``, which parses it and handles it once (``bot.channels.inbound``,
keyed by update_id), a user's updates one after another, different users concurrently.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import json
import logging
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import Forbidden, TelegramError, TimedOut
from telegram.ext import Application, ApplicationBuilder
from telegram.request import HTTPXRequest

from bot.channels import inbound, webhook_body
from bot.channels.base import Capabilities
from bot.channels.telegram_limits import SendLimiter
from bot.conversation.split import MAX_MESSAGE_CHARS
from bot.conversation.types import IncomingMessage, MediaKind, Reply
from bot.receiving import inbox
from bot.runtime import Runtime
from bot.sending.on_wire import OnWireTransport
from bot.sending.worker import Dispatch
from bot.services import files
from bot.settings import Settings
from bot.storage.db import unit_of_work, utcnow

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/telegram/webhook"
COMMANDS = ("start", "menu", "hoi", "help")
ALLOWED_UPDATES = ["message", "callback_query", "edited_message"]
POLL_SECONDS = 25
_HEADING = re.compile(r"^(📗|▶|⚠️)")


def api_base_url(configured: str | None) -> str:
    """``TELEGRAM_API_BASE_URL`` may name the server (http://host:8081) or its /bot prefix."""
    if not configured:
        return "https://api.telegram.org/bot"
    base = configured.rstrip("/")
    return base if base.endswith("/bot") else f"{base}/bot"


def to_html(text: str) -> str:
    """Escape everything (user text included); headings of a card in bold."""
    lines = []
    for line in text.split("\n"):
        escaped = html.escape(line, quote=False)
        lines.append(f"<b>{escaped}</b>" if _HEADING.match(line) else escaped)
    return "\n".join(lines)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in reply.buttons]
    )


def _media(message: Message) -> tuple[MediaKind, str | None] | None:
    if message.photo:
        return MediaKind.PHOTO, message.photo[-1].file_id
    if message.voice:
        return MediaKind.VOICE, message.voice.file_id
    if message.audio:
        return MediaKind.AUDIO, message.audio.file_id
    if message.video or message.video_note:
        item = message.video or message.video_note
        return MediaKind.VIDEO, item.file_id if item else None
    if message.sticker:
        return MediaKind.STICKER, message.sticker.file_id
    if message.location:
        return MediaKind.LOCATION, f"{message.location.latitude},{message.location.longitude}"
    if message.document:
        return MediaKind.DOCUMENT, message.document.file_id
    return None


def update_user(data: dict[str, Any]) -> str | None:
    """The chat an update belongs to, read from the raw update without building it (for the
    inbox's order per user); None when it names none."""
    for key in ("message", "edited_message", "callback_query"):
        part = data.get(key)
        if isinstance(part, dict):
            message = part.get("message") if key == "callback_query" else part
            chat = message.get("chat") if isinstance(message, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return str(chat["id"])
            sender = part.get("from")
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return str(sender["id"])
    return None


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _user(value: Any) -> bool:
    return isinstance(value, dict) and _int(value.get("id")) and isinstance(value.get("is_bot"), bool) \
        and isinstance(value.get("first_name"), str)


def _message(value: Any) -> bool:
    if not isinstance(value, dict) or not _int(value.get("message_id")) or not _int(value.get("date")):
        return False
    chat = value.get("chat")
    if not isinstance(chat, dict) or not _int(chat.get("id")) or not isinstance(chat.get("type"), str):
        return False
    return ("from" not in value or _user(value["from"])) and ("text" not in value or isinstance(value["text"], str))


def _callback_query(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("id"), str) and _user(value.get("from")) \
        and isinstance(value.get("chat_instance"), str) \
        and ("message" not in value or _message(value["message"])) \
        and ("data" not in value or isinstance(value["data"], str))


# the update kinds checked by shape in the webhook, by the fields the bot reads
SHAPES = {"message": _message, "edited_message": _message, "callback_query": _callback_query}


def to_incoming(update: Update) -> IncomingMessage | None:
    """The internal message for an update, or None for what the bot ignores (edits, joins…)."""
    user = update.effective_user
    if update.callback_query is not None:
        query = update.callback_query
        if not query.data or query.message is None:
            return None
        return IncomingMessage(
            channel=CHANNEL, user_id=str(query.message.chat.id), button=query.data,
            message_id=str(update.update_id), display_name=user.first_name if user else None,
        )
    message = update.message  # edited_message, channel posts… are not conversation input
    if message is None or message.chat.type != "private":
        return None
    common: dict[str, Any] = {
        "channel": CHANNEL, "user_id": str(message.chat.id), "message_id": str(message.message_id),
        "display_name": user.first_name if user else None,
    }
    if message.text:
        return IncomingMessage(text=message.text, **common)
    media = _media(message)
    if media is not None:
        return IncomingMessage(media=media[0], media_ref=media[1], caption=message.caption, **common)
    return None


class TelegramChannel:
    name = CHANNEL
    # inline keyboards take all the buttons; long replies are split by the router
    capabilities = Capabilities(max_text=MAX_MESSAGE_CHARS)

    @staticmethod
    def enabled(settings: Settings) -> bool:
        return bool(settings.telegram.bot_token)

    @staticmethod
    def router() -> APIRouter:
        return telegram_router()

    def __init__(self, runtime: Runtime, settings: Settings) -> None:
        if settings.telegram.bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.runtime = runtime
        self.settings = settings
        self.limiter = SendLimiter(
            overall_per_second=settings.telegram.rate_overall,
            per_chat_per_second=settings.telegram.rate_per_chat,
        )
        builder = (
            ApplicationBuilder()
            .token(settings.telegram.bot_token.get_secret_value())
            .base_url(api_base_url(settings.telegram.api_base_url))
            .base_file_url(api_base_url(settings.telegram.api_base_url).removesuffix("/bot") + "/file/bot")
            .rate_limiter(self.limiter)
            # a call is marked on the wire once its request is written (bot.sending.on_wire)
            .request(HTTPXRequest(httpx_kwargs={"transport": OnWireTransport(max_connections=256)}))
            .updater(None)  # updates go to the inbox (the webhook route, or ``_poll``)
        )
        self.application: Application = builder.build()
        self._poller: asyncio.Task[None] | None = None

    @property
    def webhook_mode(self) -> bool:
        return bool(self.settings.telegram.webhook_url)

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        app = self.application
        await app.initialize()
        messages = self.runtime.services.messages
        await app.bot.set_my_commands([BotCommand(c, messages(f"cmd_{c}")) for c in COMMANDS])
        if self.webhook_mode:
            secret = self.settings.telegram.webhook_secret
            await app.bot.set_webhook(
                url=str(self.settings.telegram.webhook_url),
                secret_token=secret.get_secret_value() if secret else None,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            await app.bot.delete_webhook()
            self._poller = asyncio.create_task(self._poll())
        log.info("telegram started in %s mode", "webhook" if self.webhook_mode else "polling")

    async def start_sending(self) -> None:
        """Only send (``agribot worker``): no webhook registered, no polling."""
        await self.application.initialize()

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            try:
                await self._poller
            except asyncio.CancelledError:
                pass
            self._poller = None
        await self.application.shutdown()

    # -- receiving -------------------------------------------------------------------------
    def readable(self, data: dict[str, Any]) -> bool:
        """The update has the shape Telegram sends (a webhook answers 400 if not).

        Messages and button presses — nearly every update — are checked by the fields the bot
        reads, without building the update (about 10× cheaper; the webhook answers after one
        insert); any other kind is parsed as python-telegram-bot parses it. A stored update the
        worker still cannot read is logged and left (``handle_stored``)."""
        kinds = [key for key in data if key != "update_id"]
        if kinds and all(key in SHAPES for key in kinds):
            if all(SHAPES[key](data[key]) for key in kinds):
                return True
            log.info("malformed telegram update rejected: %s", ",".join(sorted(kinds))[:64])
            return False
        try:
            Update.de_json(data, self.application.bot)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            log.info("malformed telegram update rejected: %s", type(exc).__name__)
            return False
        return True

    def store(self, data: dict[str, Any], body: str) -> bool:
        """Write one update to the inbox (committed); False for a duplicate."""
        return inbox.accept_now(self.runtime.engine, channel=CHANNEL, update_id=str(data["update_id"]),
                                user_id=update_user(data), body=body, now=utcnow())

    async def _poll(self) -> None:
        """Long polling into the inbox: a batch is stored before the next call confirms it
        (getUpdates with the next offset), so a crash loses no update and stores none twice."""
        bot = self.application.bot
        offset: int | None = None
        wait = 1.0
        while True:
            try:
                updates = await bot.get_updates(offset=offset, timeout=POLL_SECONDS, allowed_updates=ALLOWED_UPDATES)
                if updates:
                    await asyncio.to_thread(self._store_polled, updates)
                    offset = updates[-1].update_id + 1
                    self.runtime.inbox_arrived.set()
                wait = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Telegram or the database away: try again, the offset unchanged
                log.warning("telegram polling: %s; trying again in %.0f s", type(exc).__name__, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, 30.0)

    def _store_polled(self, updates: tuple[Update, ...]) -> None:
        with unit_of_work(self.runtime.sessions) as session:
            for update in updates:
                data = update.to_dict()
                inbox.accept(session, channel=CHANNEL, update_id=str(update.update_id), user_id=update_user(data),
                             body=json.dumps(data, ensure_ascii=False), now=utcnow())

    async def inlet(self, body: str) -> None:
        """Handle one update from the inbox (``bot.receiving.worker``)."""
        try:
            update = Update.de_json(json.loads(body), self.application.bot)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            log.info("a stored telegram update cannot be read: %s", type(exc).__name__)
            return
        if update.callback_query is not None:
            try:
                await update.callback_query.answer()  # always, so the button stops spinning
            except TelegramError as exc:
                log.info("could not answer callback query: %s", exc)
        message = to_incoming(update)
        if message is None:
            return
        try:
            await self.application.bot.send_chat_action(int(message.user_id), ChatAction.TYPING)
        except TelegramError as exc:
            log.info("typing action failed: %s", exc)
        await inbound.receive(self.runtime, self, message, f"update:{update.update_id}")

    async def send(self, chat_id: int, replies: list[Reply], dispatch: Dispatch | None = None) -> bool:
        """Send replies in order; False (and the user marked inactive) if they blocked the bot.

        With a ``dispatch`` (a queued row), replies sent before a crash are skipped and each
        call is recorded on the wire before it is made; a timed-out call is not made again.
        """
        bot = self.application.bot
        dispatch = dispatch or Dispatch()
        for reply in replies:
            if dispatch.skip():
                continue
            markup = keyboard(reply)
            try:
                if reply.image:
                    await bot.send_photo(chat_id, self._media(reply.image), caption=to_html(reply.text)[:1024],
                                         parse_mode=ParseMode.HTML, reply_markup=markup,
                                         rate_limit_args=dispatch.before)
                elif reply.document:
                    await bot.send_document(chat_id, self._media(reply.document), caption=to_html(reply.text)[:1024],
                                            parse_mode=ParseMode.HTML, reply_markup=markup,
                                            rate_limit_args=dispatch.before)
                else:
                    await bot.send_message(chat_id, to_html(reply.text), parse_mode=ParseMode.HTML,
                                           reply_markup=markup, disable_web_page_preview=True,
                                           rate_limit_args=dispatch.before)
            except TimedOut:
                log.warning("telegram send timed out: it may have arrived, so it is not sent again")
                await dispatch.after(uncertain=True)
                continue
            except Forbidden:
                await dispatch.refused()
                log.info("chat %s blocked the bot; marking inactive", chat_id)
                await asyncio.to_thread(self.runtime.set_user_active, CHANNEL, str(chat_id), False)
                return False
            except TelegramError:
                await dispatch.refused()
                raise
            await dispatch.after()
        return True

    async def deliver(self, user_id: str, replies: list[Reply], dispatch: Dispatch) -> str:
        """Outlet for the delivery queue: sent, or failed when the user blocked the bot.

        Errors left after the limiter's own retries (429 once, 5xx with backoff) propagate, so
        the queue tries again later.
        """
        return "sent" if await self.send(int(user_id), replies, dispatch) else "failed"

    def _media(self, ref: str) -> Any:
        """A generated file (``/files/<name>``) as an upload; anything else (URL, file id) as is."""
        path = files.resolve(self.settings.files_dir, ref)
        return InputFile(path.read_bytes(), filename=path.name) if path else ref


def telegram_router() -> APIRouter:
    router = APIRouter()

    @router.post(WEBHOOK_PATH, include_in_schema=True)
    async def webhook(request: Request) -> JSONResponse:
        channel: TelegramChannel | None = getattr(request.app.state, "telegram", None)
        if channel is None or not channel.webhook_mode:
            return JSONResponse({"detail": "Telegram webhook is not enabled"}, status_code=404)
        secret = channel.settings.telegram.webhook_secret
        expected = secret.get_secret_value().encode() if secret else b""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not expected or not hmac.compare_digest(given, expected):
            return JSONResponse({"detail": "bad secret token"}, status_code=401)
        parsed = webhook_body.parse(await request.body())
        if parsed is None:
            return JSONResponse({"detail": "body is not JSON"}, status_code=400)
        data, body = parsed
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id < 2**63:
            return JSONResponse({"detail": "not a Telegram update"}, status_code=400)
        if not channel.readable(data):
            return JSONResponse({"detail": "malformed update"}, status_code=400)
        return await inbound.acknowledge(channel.runtime, lambda: channel.store(data, body))

    return router
