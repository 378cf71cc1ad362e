"""The one way in for a platform's messages, after its adapter verified, stored (the inbox,
``bot.receiving``) and parsed the update.

``receive``: a typed key of a button shown as a list becomes that button; the message is handled
exactly once (``Runtime.handle_once``, keyed by the platform's delivery id, the replies queued in
the same transaction); while the database is down it waits and tries again; then the replies
go out through the channel's outlet, holding the queue row, so a crash loses and repeats
nothing. Webhook routes answer 503 when the update cannot be stored (``unavailable``), so the
platform delivers it again later.

The web chat and the console answer in the request instead (``Runtime.handle``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from bot.channels.base import Channel, pressed, recall_keys
from bot.conversation.types import IncomingMessage
from bot.runtime import DATABASE_AWAY, Runtime, retry_while_database_down
from bot.sending.worker import Dispatch, send_claimed

log = logging.getLogger(__name__)


async def receive(runtime: Runtime, channel: Channel, message: IncomingMessage, delivery_id: str, *,
                  also: Callable[[Session], None] | None = None) -> str | None:
    """Handle one platform message once and send the replies; their outcome (None: nothing sent).

    ``also`` runs in the transaction of the conversation step.
    """
    if message.text is not None and channel.capabilities.max_buttons is not None:
        keys = await asyncio.to_thread(recall_keys, runtime.sessions, channel=channel.name, user_id=message.user_id)
        message = pressed(message, keys)
    handled = await retry_while_database_down(
        lambda: asyncio.to_thread(runtime.handle_once, message, delivery_id, also=also))
    if handled is None:
        log.info("%s: a delivery already handled is ignored", channel.name)
        return None
    replies, queued = handled
    if queued is not None:  # queued too: a crash or a channel problem now loses nothing
        return await send_claimed(runtime, channel.deliver, message_id=queued, channel=channel.name,
                                  user_id=message.user_id, replies=replies)
    if replies:  # not queued (the queue refused the row): sent now, at most once
        return await channel.deliver(message.user_id, replies, Dispatch())
    return None


async def acknowledge(runtime: Runtime, store: Callable[[], bool]) -> JSONResponse:
    """For a webhook route: store the update (``store``, committed; False for a duplicate), wake
    the inbox workers, and only then answer 200 — or 503 when it could not be stored (the
    platform delivers it again later)."""
    try:
        new = await asyncio.to_thread(store)
    except DATABASE_AWAY:
        return unavailable()
    if new:
        runtime.inbox_arrived.set()
    return JSONResponse({"ok": True})


def unavailable() -> JSONResponse:
    """For a webhook route that could not store an update: 503 (the platform delivers it again)."""
    return JSONResponse({"detail": "database unavailable"}, status_code=503, headers={"Retry-After": "30"})
