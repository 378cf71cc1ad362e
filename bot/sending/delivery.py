"""The delivery queue: every proactive message is a row, sent by one worker within limits.

Rows go pending → sending → sent (or failed, or skipped when a channel's rules forbid sending,
e.g. outside Zalo's free-reply window). Quiet hours (21:00–06:30 Vietnam time) hold reminders
and broadcasts until morning. A channel that cannot send for now holds its rows (``hold``) until
it can again (``release_held``). The queue is changed only through this module.

Crash safety. "sending" is a lease held by one process (``owner``, see
``bot.storage.presence``) that renews it (``renew``); when that process dies its rows are
queued again by ``recover`` at once (PostgreSQL drops a dead process's presence lock; on SQLite
the one process restarted owns nothing), or when the lease runs out (a process cut off from the
database). Each platform call of a row is numbered: ``dispatching`` marks the call on the wire
once its request has been written to the connection (after the connection pool, the connect
and the write, see ``bot.sending.on_wire``) and counts the calls before it done; the row's
outcome counts the last one. A recovered row goes on after the calls already made.

The rule for an uncertain send: a call is marked only after its whole request was written to
the platform's connection; a call without the mark when its process died (or when it failed) is
made again, a call with it never is (it is counted in ``uncertain`` when its answer was lost) —
so a crash can repeat a reply (killed between the write and the mark), never lose one.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import telemetry
from bot.conversation.types import Button, Reply
from bot.storage.models import OutgoingMessage
from reporting.clock import VIETNAM

QUIET_START = time(21, 0)
QUIET_END = time(6, 30)
MAX_ATTEMPTS = 5
HOLD = timedelta(seconds=60)
HELD = "held: the channel cannot send for now"


def after_quiet_hours(moment: datetime) -> datetime:
    """``moment`` itself, or 06:30 Vietnam time when it falls in the quiet hours."""
    local = moment.astimezone(VIETNAM)
    if QUIET_END <= local.time() < QUIET_START:
        return moment
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=VIETNAM).astimezone(moment.tzinfo)


def enqueue(session: Session, *, channel: str, user_id: str, replies: list[Reply], kind: str, now: datetime,
            quiet: bool = True, broadcast_id: int | None = None, dedupe_key: str | None = None,
            claim_now: bool = False, owner: int | None = None) -> OutgoingMessage | None:
    """Queue one message (several replies sent in order); None if ``dedupe_key`` was queued before.

    ``claim_now``: the caller (process ``owner``) sends it at once (a reply), holding the lease from
    the start.
    """
    if dedupe_key is not None and session.scalar(
            select(OutgoingMessage.id).where(OutgoingMessage.dedupe_key == dedupe_key)) is not None:
        return None
    row = OutgoingMessage(
        channel=channel, user_id=user_id, kind=kind, payload={"replies": [r.to_dict() for r in replies]},
        state="sending" if claim_now else "pending", not_before=after_quiet_hours(now) if quiet else now,
        broadcast_id=broadcast_id, dedupe_key=dedupe_key, created_at=now, attempts=1 if claim_now else 0,
        claimed_at=now if claim_now else None, parts_done=0, in_flight=False, uncertain=0,
        owner=owner if claim_now else None,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def claim(session: Session, *, now: datetime, limit: int, owner: int | None = None) -> list[OutgoingMessage]:
    """Take due rows for sending (one worker runs: the scheduler's leader)."""
    rows = [*session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.state == "pending", OutgoingMessage.not_before <= now)
        .order_by(OutgoingMessage.not_before, OutgoingMessage.id).limit(limit))]
    for row in rows:
        row.state = "sending"
        row.attempts += 1
        row.claimed_at = now
        row.owner = owner
    session.flush()
    return rows


def renew(session: Session, *, message_ids: list[int], now: datetime) -> None:
    """The sending process is alive: extend the leases of the rows it holds."""
    if message_ids:
        session.execute(update(OutgoingMessage).where(OutgoingMessage.id.in_(message_ids),
                                                      OutgoingMessage.state == "sending").values(claimed_at=now))


def dispatching(session: Session, *, message_id: int, part: int, now: datetime, uncertain: int = 0) -> None:
    """Call ``part`` of the row goes on the wire now (committed before the call is made); the
    calls before it are done (``uncertain`` of them timed out). One write per call."""
    values: dict[str, object] = {"parts_done": part, "in_flight": True, "claimed_at": now}
    if uncertain:
        values["uncertain"] = OutgoingMessage.uncertain + uncertain
    session.execute(update(OutgoingMessage).where(OutgoingMessage.id == message_id).values(**values))


def dispatched(session: Session, *, message_id: int, part: int, uncertain: bool = False) -> None:
    """Call ``part`` is done (``uncertain``: it timed out, so it may have arrived: not made again)."""
    values: dict[str, object] = {"parts_done": part + 1, "in_flight": False}
    if uncertain:
        values["uncertain"] = OutgoingMessage.uncertain + 1
    session.execute(update(OutgoingMessage).where(OutgoingMessage.id == message_id,
                                                  OutgoingMessage.parts_done == part).values(**values))


def undispatched(session: Session, *, message_id: int, part: int, uncertain: int = 0) -> None:
    """Call ``part`` was refused before delivery (429, token expired): it may be made again."""
    values: dict[str, object] = {"parts_done": part, "in_flight": False}
    if uncertain:
        values["uncertain"] = OutgoingMessage.uncertain + uncertain
    session.execute(update(OutgoingMessage).where(OutgoingMessage.id == message_id).values(**values))


def owners(session: Session) -> set[int]:
    """The processes holding rows being sent."""
    return {o for o in session.scalars(select(OutgoingMessage.owner).where(
        OutgoingMessage.state == "sending", OutgoingMessage.owner.is_not(None)).distinct()) if o is not None}


def recover(session: Session, *, now: datetime, lease: timedelta,
            alive: set[int] | None = None) -> tuple[int, int]:
    """Queue again the rows whose sender died (its owner is not ``alive``, or its lease ran out);
    returns (rows queued again, calls cut off)."""
    gone = (OutgoingMessage.claimed_at.is_(None)) | (OutgoingMessage.claimed_at < now - lease)
    if alive is not None:
        gone = gone | OutgoingMessage.owner.is_(None) | OutgoingMessage.owner.not_in(sorted(alive))
    rows = [*session.scalars(select(OutgoingMessage).where(
        OutgoingMessage.state == "sending", gone).with_for_update())]
    cut = 0
    for row in rows:
        if row.in_flight:
            row.parts_done, row.uncertain, row.in_flight = row.parts_done + 1, row.uncertain + 1, False
            cut += 1
        row.state, row.not_before, row.claimed_at, row.owner = "pending", now, None, None
    session.flush()
    return len(rows), cut


def finish(session: Session, *, message_id: int, state: str, now: datetime, error: str | None = None,
           parts_done: int = 0, uncertain: int = 0) -> None:
    """Record the outcome, with the calls done since the last mark (one write for the last call)."""
    row = session.get(OutgoingMessage, message_id)
    if row is None:
        return
    telemetry.SENDS.labels(row.channel, state).inc()
    row.in_flight, row.claimed_at = False, None
    row.parts_done, row.uncertain = max(row.parts_done, parts_done), row.uncertain + uncertain
    if state == "hold":
        hold(row, now=now)
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


def hold(row: OutgoingMessage, *, now: datetime) -> None:
    """The channel cannot send for now (e.g. Zalo needs authorising again): the row waits in the
    queue, marked held, and is tried again after ``HOLD`` (the attempt is not counted)."""
    row.state, row.last_error = "pending", HELD
    row.attempts = max(0, row.attempts - 1)
    row.not_before = now + HOLD


def release_held(session: Session, *, channel: str, now: datetime) -> int:
    """The channel can send again: its held rows are due now. Returns how many."""
    result = session.execute(update(OutgoingMessage).where(
        OutgoingMessage.channel == channel, OutgoingMessage.state == "pending",
        OutgoingMessage.last_error == HELD, OutgoingMessage.not_before > now).values(not_before=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def count_held(session: Session, *, channel: str) -> int:
    """How many rows of the channel wait, held."""
    return int(session.scalar(select(func.count()).select_from(OutgoingMessage).where(
        OutgoingMessage.channel == channel, OutgoingMessage.state == "pending",
        OutgoingMessage.last_error == HELD)) or 0)


def progress(session: Session, *, broadcast_id: int) -> dict[str, int]:
    """Counts of a broadcast; ``uncertain``: sent ones cut off by a crash (not sent twice)."""
    rows = session.execute(select(OutgoingMessage.state, OutgoingMessage.uncertain)
                           .where(OutgoingMessage.broadcast_id == broadcast_id))
    counts: Counter[str] = Counter()
    for state, uncertain in rows:
        counts[state] += 1
        counts["uncertain"] += 1 if uncertain and state == "sent" else 0
    return {"sent": counts["sent"], "pending": counts["pending"] + counts["sending"],
            "failed": counts["failed"] + counts["skipped"], "uncertain": counts["uncertain"]}


def depth(session: Session, *, now: datetime) -> dict[tuple[str, str], tuple[int, float]]:
    """Rows waiting (pending, due or not) or being sent, by (channel, state): how many, and the
    age in seconds of the oldest (since it was queued); for ``/metrics``."""
    rows = session.execute(select(OutgoingMessage.channel, OutgoingMessage.state, func.count(),
                                  func.min(OutgoingMessage.created_at))
                           .where(OutgoingMessage.state.in_(("pending", "sending")))
                           .group_by(OutgoingMessage.channel, OutgoingMessage.state))
    out = {}
    for channel, state, n, oldest in rows:
        if isinstance(oldest, str):  # SQLite's MIN() loses the column type
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        out[(channel, state)] = (int(n), max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    return out


def replies_of(row: OutgoingMessage) -> list[Reply]:
    out = []
    for r in row.payload.get("replies", []):
        rows = [[Button(b["text"], b["data"]) for b in line] for line in r.get("buttons", [])]
        out.append(Reply(text=r["text"], buttons=tuple(tuple(x) for x in rows), image=r.get("image"),
                         document=r.get("document"), expects_number=bool(r.get("expects_number"))))
    return out
