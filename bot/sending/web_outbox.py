"""Messages waiting for a web chat user (hand-over replies, reminders), fetched by the page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation.types import Reply
from bot.storage.models import WebOutbox


def push(session: Session, *, user_id: str, replies: list[Reply], now: datetime) -> None:
    for reply in replies:
        session.add(WebOutbox(user_id=user_id, payload=reply.to_dict(), created_at=now))
    session.flush()


def pull(session: Session, *, user_id: str, now: datetime, limit: int = 50) -> list[dict[str, Any]]:
    """The undelivered messages, oldest first, marked delivered."""
    rows = [*session.scalars(
        select(WebOutbox).where(WebOutbox.user_id == user_id, WebOutbox.delivered_at.is_(None))
        .order_by(WebOutbox.id).limit(limit).with_for_update())]
    for row in rows:
        row.delivered_at = now
    return [row.payload for row in rows]
