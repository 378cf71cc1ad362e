"""The delivery queue: every proactive message is a row, sent by one worker within limits.

Rows go pending → sending → sent (or failed, or skipped when a channel's rules forbid sending,
e.g. outside Zalo's free-reply window). A restart resets rows left "sending" to "pending".
Quiet hours (21:00–06:30 Vietnam time) hold reminders and broadcasts until morning.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.conversation.types import Button, Reply
from bot.storage.models import OutgoingMessage
from reporting.clock import VIETNAM

QUIET_START = time(21, 0)
QUIET_END = time(6, 30)
MAX_ATTEMPTS = 5


def after_quiet_hours(moment: datetime) -> datetime:
    """``moment`` itself, or 06:30 Vietnam time when it falls in the quiet hours."""
    local = moment.astimezone(VIETNAM)
    if QUIET_END <= local.time() < QUIET_START:
        return moment
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=VIETNAM).astimezone(moment.tzinfo)


def enqueue(session: Session, *, channel: str, user_id: str, replies: list[Reply], kind: str, now: datetime,
            quiet: bool = True, broadcast_id: int | None = None, dedupe_key: str | None = None,
            ) -> OutgoingMessage | None:
    """Queue one message (several replies sent in order); None if ``dedupe_key`` was queued before."""
    if dedupe_key is not None and session.scalar(
            select(OutgoingMessage.id).where(OutgoingMessage.dedupe_key == dedupe_key)) is not None:
        return None
    row = OutgoingMessage(
        channel=channel, user_id=user_id, kind=kind, payload={"replies": [r.to_dict() for r in replies]},
        state="pending", not_before=after_quiet_hours(now) if quiet else now, broadcast_id=broadcast_id,
        dedupe_key=dedupe_key, created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def claim(session: Session, *, now: datetime, limit: int) -> list[OutgoingMessage]:
    """Take due rows for sending (one worker runs: the scheduler's leader)."""
    rows = [*session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.state == "pending", OutgoingMessage.not_before <= now)
        .order_by(OutgoingMessage.not_before, OutgoingMessage.id).limit(limit))]
    for row in rows:
        row.state = "sending"
        row.attempts += 1
    session.flush()
    return rows


def finish(session: Session, *, message_id: int, state: str, now: datetime, error: str | None = None) -> None:
    row = session.get(OutgoingMessage, message_id)
    if row is None:
        return
    if state == "retry":
        if row.attempts >= MAX_ATTEMPTS:
            row.state, row.last_error = "failed", error
        else:
            row.state, row.last_error = "pending", error
            row.not_before = now + timedelta(seconds=min(600, 5 * 2 ** row.attempts))
        return
    row.state, row.last_error = state, error
    if state == "sent":
        row.sent_at = now


def reset_in_flight(session: Session) -> int:
    """After a crash: rows left "sending" go back to the queue."""
    result = session.execute(update(OutgoingMessage).where(OutgoingMessage.state == "sending")
                             .values(state="pending"))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def progress(session: Session, *, broadcast_id: int) -> dict[str, int]:
    states = session.scalars(select(OutgoingMessage.state).where(OutgoingMessage.broadcast_id == broadcast_id))
    counts = Counter(states)
    return {"sent": counts["sent"], "pending": counts["pending"] + counts["sending"],
            "failed": counts["failed"] + counts["skipped"]}


def replies_of(row: OutgoingMessage) -> list[Reply]:
    out = []
    for r in row.payload.get("replies", []):
        rows = [[Button(b["text"], b["data"]) for b in line] for line in r.get("buttons", [])]
        out.append(Reply(text=r["text"], buttons=tuple(tuple(x) for x in rows), image=r.get("image"),
                         document=r.get("document")))
    return out
