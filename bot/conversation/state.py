"""Per-user conversation state and identity, stored in the database (survives restarts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from bot.storage.db import insert, utcnow
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
    """Insert or update in one statement: two first messages of a new user cannot both insert."""
    now = utcnow()
    values = {"state": record.name, "data": dict(record.data), "updated_at": now}
    statement = insert(session, ConversationState.__table__)  # type: ignore[arg-type]
    session.execute(statement.values(channel=channel, user_id=user_id, **values)
                    .on_conflict_do_update(index_elements=["channel", "user_id"], set_=values))
    row = session.identity_map.get(identity_key(ConversationState, (channel, user_id)))
    if row is not None:  # loaded earlier in this session: read the stored values next time
        session.expire(row)


def touch_user(session: Session, *, channel: str, user_id: str, display_name: str | None) -> ChatUser:
    """Create the user on first contact; note when they were last seen."""
    now = utcnow()
    user = session.get(ChatUser, (channel, user_id))
    if user is None:  # created here or by a simultaneous first message, never twice
        session.execute(insert(session, ChatUser.__table__)  # type: ignore[arg-type]
                        .values(channel=channel, user_id=user_id, display_name=display_name, active=True,
                                created_at=now, last_seen_at=now)
                        .on_conflict_do_nothing(index_elements=["channel", "user_id"]))
        user = session.get(ChatUser, (channel, user_id), populate_existing=True)
        assert user is not None
    if display_name and display_name != user.display_name:
        user.display_name = display_name
    user.last_seen_at = now
    user.active = True
    return user
