"""Media users send (photos, voice, locations…), kept for the extension officers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import MediaMessage


def create(
    session: Session, *, channel: str, user_id: str, kind: str, ref: str | None, caption: str | None
) -> MediaMessage:
    row = MediaMessage(channel=channel, user_id=user_id, kind=kind, ref=ref, caption=caption)
    session.add(row)
    session.flush()
    return row


def list_for_user(session: Session, *, channel: str, user_id: str) -> list[MediaMessage]:
    stmt = (
        select(MediaMessage)
        .where(MediaMessage.channel == channel, MediaMessage.user_id == user_id)
        .order_by(MediaMessage.id)
    )
    return [*session.scalars(stmt)]
