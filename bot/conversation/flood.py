"""Per-user message rate limit, kept in the database so that it holds across processes.

Rule: a user may send ``limit`` messages (texts, buttons, media) in a window of ``per_seconds``
that starts with their first message. The first message over the limit is answered «not taken,
and what you send in the next N seconds is not taken either»; later ones in that window are not
handled; the first message after the window is handled and its answer starts by saying how many
were not taken (and the last text), so nothing is dropped in silence.

One row a user, changed by one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` in the message's
transaction: two processes cannot both let the limit's last message through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case
from sqlalchemy.orm import Session

from bot.storage.db import insert
from bot.storage.models import FloodCounter

MISSED_TEXT_CHARS = 80


@dataclass(frozen=True)
class Verdict:
    taken: bool  # handle the message
    warn: bool  # the first message over the limit: tell the user it was not taken
    seconds_left: int  # until the window ends (for the warning)
    carried: int  # messages of the previous window that were not taken (told with this one)
    last_missed: str | None  # the last text among them


def count(session: Session, *, channel: str, user_id: str, now: datetime, text: str | None, limit: int,
          per_seconds: float) -> Verdict:
    """Count this message (atomically) and say whether it is taken."""
    table = FloodCounter.__table__
    c = table.c
    sent = c["count"]  # not c.count: a method of the column collection
    rollover = c.window_start <= now - timedelta(seconds=per_seconds)
    missed = text[:MISSED_TEXT_CHARS] if text else None
    statement = insert(session, table).values(  # type: ignore[arg-type]
        channel=channel, user_id=user_id, window_start=now, count=1, carried=0, last_missed=None)
    statement = statement.on_conflict_do_update(index_elements=["channel", "user_id"], set_={
        "window_start": case((rollover, now), else_=c.window_start),
        "count": case((rollover, 1), else_=sent + 1),
        "carried": case((rollover & (sent > limit), sent - limit), else_=0),
        "last_missed": case((rollover, c.last_missed), (sent >= limit, missed), else_=c.last_missed),
    })
    row = session.execute(statement.returning(sent, c.carried, c.last_missed, c.window_start)).one()
    left = max(1, int((row.window_start + timedelta(seconds=per_seconds) - now).total_seconds() + 0.999))
    return Verdict(taken=row[0] <= limit, warn=row[0] == limit + 1, seconds_left=left,
                   carried=row.carried, last_missed=row.last_missed if row.carried else None)
