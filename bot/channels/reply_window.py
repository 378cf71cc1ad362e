"""Free-reply windows: Zalo lets an OA send 8 messages within 48 hours of the user's last one."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.storage.models import ReplyWindow

WINDOW = timedelta(hours=48)
FREE_MESSAGES = 8


def note_inbound(session: Session, *, channel: str, user_id: str, at: datetime) -> None:
    row = session.get(ReplyWindow, (channel, user_id))
    if row is None:
        session.add(ReplyWindow(channel=channel, user_id=user_id, last_inbound_at=at, sent_since=0))
    else:
        row.last_inbound_at, row.sent_since = at, 0


def take(session: Session, *, channel: str, user_id: str, now: datetime) -> bool:
    """Use one free message if the window allows it; False means sending now would be proactive."""
    row = session.get(ReplyWindow, (channel, user_id))
    if row is None or now - row.last_inbound_at > WINDOW or row.sent_since >= FREE_MESSAGES:
        return False
    row.sent_since += 1
    return True


def give_back(session: Session, *, channel: str, user_id: str) -> None:
    """A free message taken but not used (the send was held)."""
    row = session.get(ReplyWindow, (channel, user_id))
    if row is not None and row.sent_since > 0:
        row.sent_since -= 1

