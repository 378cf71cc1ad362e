"""Media users send (photos, voice, locations…), kept for the extension officers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.storage.models import MediaMessage


def create(
    session: Session, *, channel: str, user_id: str, kind: str, ref: str | None, caption: str | None
) -> MediaMessage:
    row = MediaMessage(channel=channel, user_id=user_id, kind=kind, ref=ref, caption=caption)
    session.add(row)
    session.flush()
    return row

