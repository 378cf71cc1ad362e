"""Rate limits on guesses (passwords, invite codes) that hold under concurrency.

An attempt takes a slot *before* the secret is checked, with one atomic ``UPDATE … RETURNING``
(SQLite ≥ 3.35 and PostgreSQL): however many tries run in parallel, no more than ``limit`` of
them in one window get as far as the check. A success may give its slot back (``release``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from reporting.db import UTCDateTime
from reporting.models import AttemptCounter


def take(session: Session, *, scope: str, key: str, limit: int, window: timedelta, now: datetime) -> int:
    """Count one attempt; 0 when it may go on, else the minutes to wait (the window's rest)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(AttemptCounter).values(scope=scope, key=key, count=0, window_start=now)
                    .on_conflict_do_nothing())
    expired = AttemptCounter.window_start < literal(now - window, UTCDateTime())
    row = session.execute(
        update(AttemptCounter)
        .where(AttemptCounter.scope == scope, AttemptCounter.key == key)
        .values(count=case((expired, 1), else_=AttemptCounter.count + 1),
                window_start=case((expired, literal(now, UTCDateTime())), else_=AttemptCounter.window_start))
        .returning(AttemptCounter.count, AttemptCounter.window_start)
        .execution_options(synchronize_session=False)
    ).one()
    count, started = row
    if count <= limit:
        return 0
    return max(1, int((started + window - now).total_seconds() // 60) + 1)


def release(session: Session, *, scope: str, key: str) -> None:
    """Give back the slot of an attempt that succeeded."""
    session.execute(update(AttemptCounter)
                    .where(AttemptCounter.scope == scope, AttemptCounter.key == key, AttemptCounter.count > 0)
                    .values(count=AttemptCounter.count - 1).execution_options(synchronize_session=False))


def clear(session: Session, *, scope: str, key: str) -> None:
    """Forget the attempts of ``key`` (a proven identity starts afresh)."""
    session.execute(delete(AttemptCounter).where(AttemptCounter.scope == scope, AttemptCounter.key == key)
                    .execution_options(synchronize_session=False))
