"""The inbox: every platform update is a row, written before the platform gets its 200.

A webhook stores the raw update with ``accept_now`` in the request (the Telegram poller a batch
with ``accept``): one insert, refused by the unique key (channel, update id) when the platform
delivers it again, so a duplicate changes nothing. Workers (``bot.receiving.worker``) ``claim`` rows and handle them:
pending → working (leased by the claiming process, ``owner``) → done; failed after
``MAX_ATTEMPTS``. A user's updates are handled one after another in the order received, different
users in parallel: a row is claimed only when no older row of its user is pending or working. On
PostgreSQL the claim takes row locks with ``FOR UPDATE SKIP LOCKED``, so workers in several
processes never take the same row; on SQLite one process claims. A row whose process died goes
back to pending (``recover``); handling it again is safe, as the conversation step is recorded
once per delivery id (``Runtime.handle_once``). The inbox is changed only through this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.dml import ReturningInsert

from bot.storage.models import InboxUpdate

MAX_ATTEMPTS = 5
# handled rows are kept this long, so that a platform delivering an update again (Telegram
# retries for up to 24 hours) still meets its key; then ``purge`` deletes them
KEEP_DONE = timedelta(days=7)
BUSY = ("pending", "working")


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    channel: str
    update_id: str
    user_id: str
    body: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Depth:
    """How much waits in the inbox: rows not yet handled, and the age of the oldest (seconds)."""

    waiting: int
    oldest_seconds: float


def _insert(dialect: str, *, channel: str, update_id: str, user_id: str | None, body: str,
            now: datetime) -> ReturningInsert:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(InboxUpdate).values(
        channel=channel, update_id=update_id, user_id=user_id or "", body=body, received_at=now,
        state="pending", attempts=0,
    ).on_conflict_do_nothing(index_elements=["channel", "update_id"]).returning(InboxUpdate.id)


def accept(session: Session, *, channel: str, update_id: str, user_id: str | None, body: str,
           now: datetime) -> bool:
    """Store one update in the session's transaction (committed by the caller before the
    platform is told; Telegram polling stores a batch so); False if it was stored before (a
    duplicate: nothing changes)."""
    statement = _insert(session.get_bind().dialect.name, channel=channel, update_id=update_id,
                        user_id=user_id, body=body, now=now)
    return session.execute(statement).first() is not None


def accept_now(engine: Engine, *, channel: str, update_id: str, user_id: str | None, body: str,
               now: datetime) -> bool:
    """Store one update, committed when this returns (a webhook, before its 200); False for a
    duplicate. One statement in autocommit, INSERT … ON CONFLICT DO NOTHING RETURNING id: no
    BEGIN or COMMIT of its own (with the pool's liveness ping, two round trips instead of four)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        statement = _insert(connection.dialect.name, channel=channel, update_id=update_id, user_id=user_id,
                            body=body, now=now)
        return connection.execute(statement).first() is not None


def claim(session: Session, *, owner: int, now: datetime, limit: int, skip_locked: bool) -> list[Claimed]:
    """Take up to ``limit`` rows, at most one per user: each user's oldest, when none of that
    user's rows is being handled."""
    earlier = aliased(InboxUpdate)
    busy_before = select(earlier.id).where(
        earlier.channel == InboxUpdate.channel, earlier.user_id == InboxUpdate.user_id,
        earlier.state.in_(BUSY), earlier.id < InboxUpdate.id).exists()
    working = aliased(InboxUpdate)
    busy_now = select(working.id).where(
        working.channel == InboxUpdate.channel, working.user_id == InboxUpdate.user_id,
        working.state == "working").exists()
    query = (select(InboxUpdate).where(InboxUpdate.state == "pending", ~busy_before, ~busy_now)
             .order_by(InboxUpdate.id).limit(limit))
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    rows = [*session.scalars(query)]
    for row in rows:
        row.state, row.owner, row.claimed_at, row.attempts = "working", owner, now, row.attempts + 1
    session.flush()
    return [Claimed(r.id, r.channel, r.update_id, r.user_id, r.body, r.attempts) for r in rows]


def renew(session: Session, *, owner: int, now: datetime) -> None:
    """The process is alive: extend the leases of the rows it handles."""
    session.execute(update(InboxUpdate).where(InboxUpdate.state == "working", InboxUpdate.owner == owner)
                    .values(claimed_at=now))


def done(session: Session, *, row_id: int, owner: int, now: datetime) -> None:
    session.execute(update(InboxUpdate).where(InboxUpdate.id == row_id, InboxUpdate.owner == owner,
                                              InboxUpdate.state == "working")
                    .values(state="done", done_at=now, claimed_at=None, last_error=None))


def failed(session: Session, *, row_id: int, owner: int, error: str) -> None:
    """Handling raised: tried again (after the user's other rows wait their turn), up to
    ``MAX_ATTEMPTS``; then failed, so that one bad update does not block its user for ever."""
    row = session.get(InboxUpdate, row_id)
    if row is None or row.owner != owner or row.state != "working":
        return
    row.state = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"
    row.claimed_at, row.owner, row.last_error = None, None, error[:500]


def owners(session: Session) -> set[int]:
    """The processes handling rows now."""
    return {o for o in session.scalars(select(InboxUpdate.owner).where(
        InboxUpdate.state == "working", InboxUpdate.owner.is_not(None)).distinct()) if o is not None}


def recover(session: Session, *, now: datetime, lease: timedelta, alive: set[int]) -> int:
    """Rows whose process died (not ``alive``, or its lease ran out) are pending again."""
    result = session.execute(update(InboxUpdate).where(
        InboxUpdate.state == "working",
        InboxUpdate.owner.is_(None) | InboxUpdate.owner.not_in(sorted(alive))
        | InboxUpdate.claimed_at.is_(None) | (InboxUpdate.claimed_at < now - lease))
        .values(state="pending", owner=None, claimed_at=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def depth(session: Session, *, now: datetime) -> Depth:
    """Rows waiting or being handled, and how long the oldest has waited (for /metrics)."""
    count, oldest = session.execute(select(func.count(), func.min(InboxUpdate.received_at))
                                    .where(InboxUpdate.state.in_(BUSY))).one()
    return Depth(int(count or 0), max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)



def purge(session: Session, *, now: datetime, keep: timedelta = KEEP_DONE) -> int:
    """Delete handled rows older than ``keep`` (pending, working and failed rows stay)."""
    result = session.execute(delete(InboxUpdate).where(InboxUpdate.state == "done", InboxUpdate.done_at < now - keep))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
