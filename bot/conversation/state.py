"""Per-user conversation state and identity, stored in the database (survives restarts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bot.storage.db import utcnow
from bot.storage.models import ChatUser, ConversationState

IDLE = "idle"


@dataclass
class StateRecord:
    """The mutable view a handler gets: the step name and the data it keeps between messages."""

    name: str = IDLE
    data: dict[str, Any] = field(default_factory=dict)

    def reset(self) -> None:
        self.name = IDLE
        self.data = {}


def get(session: Session, *, channel: str, user_id: str) -> StateRecord:
    row = session.get(ConversationState, (channel, user_id))
    if row is None:
        return StateRecord()
    return StateRecord(name=row.state, data=dict(row.data or {}))


def save(session: Session, *, channel: str, user_id: str, record: StateRecord) -> None:
    row = session.get(ConversationState, (channel, user_id))
    if row is None:
        session.add(ConversationState(channel=channel, user_id=user_id, state=record.name, data=record.data))
    else:
        row.state = record.name
        row.data = dict(record.data)
        row.updated_at = utcnow()


def touch_user(session: Session, *, channel: str, user_id: str, display_name: str | None) -> ChatUser:
    """Create the user on first contact; note when they were last seen."""
    user = session.get(ChatUser, (channel, user_id))
    now = utcnow()
    if user is None:
        user = ChatUser(channel=channel, user_id=user_id, display_name=display_name, created_at=now)
        session.add(user)
    elif display_name and display_name != user.display_name:
        user.display_name = display_name
    user.last_seen_at = now
    user.active = True
    return user
