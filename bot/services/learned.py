"""The bot learns from its farmers: questions editors attach to cards, and weekly answer shares.

On the dashboard's pages of unanswered questions and of «Chưa đúng» feedback, an editor
attaches a farmer's question to a card as an example question, or marks it out of scope. It
is stored here; :class:`LiveIndex` trains the running index with it at once (other processes
within ``CHECK_EVERY`` seconds); ``agribot content questions --export`` writes them out for
merging into the card files.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from bot import telemetry
from bot.knowledge.intents import NONE
from bot.knowledge.normalize import fold
from bot.knowledge.search import SearchIndex, SearchResult
from bot.storage.models import AskedQuestion, Feedback, LearnedQuestion
from reporting.clock import VIETNAM

OUT_OF_SCOPE = "out-of-scope"  # the export's key for questions no card answers
NOT_A_CARD = "@" + NONE  # the ranker's class for them
CHECK_EVERY = 5.0  # seconds between two looks for questions attached in another process
# what the bot did with a question (AskedQuestion.outcome), besides the intents
ANSWERED, OFFERED, REFUSED = "answered", "offered", "refused"
METRIC_OUTCOMES = {OFFERED: "clarified"}  # agribot_questions_total{outcome}: answered, clarified, refused, intents


class AttachError(ValueError):
    """A Vietnamese message for the editor."""


def attach(session: Session, *, text: str, card_id: str | None, by: str, known_cards: Iterable[str]) -> LearnedQuestion:
    """Attach ``text`` to ``card_id`` (None: out of scope); attaching it again moves it."""
    text = " ".join(text.split())
    if not text:
        raise AttachError("Câu hỏi trống.")
    if card_id is not None and card_id not in set(known_cards):
        raise AttachError("Không có thẻ này. Bác chọn lại thẻ trong danh sách.")
    key = fold(text)[:500]
    session.execute(delete(LearnedQuestion).where(LearnedQuestion.folded == key))
    row = LearnedQuestion(text=text, folded=key, card_id=card_id, added_by=by)
    session.add(row)
    session.flush()
    return row


def examples(session: Session) -> list[tuple[str, str | None]]:
    """(question, card id), or (question, "@none") for a question marked out of scope."""
    rows = session.scalars(select(LearnedQuestion).order_by(LearnedQuestion.id))
    return [(q.text, q.card_id or NOT_A_CARD) for q in rows]


def version(session: Session) -> tuple[int, int]:
    count, last = session.execute(select(func.count(LearnedQuestion.id), func.max(LearnedQuestion.id))).one()
    return int(count or 0), int(last or 0)


def attached(session: Session, texts: Iterable[str]) -> dict[str, str | None]:
    """For each of ``texts`` already attached: the card (None: out of scope), by folded text."""
    keys = {fold(t)[:500] for t in texts}
    if not keys:
        return {}
    rows = session.scalars(select(LearnedQuestion).where(LearnedQuestion.folded.in_(keys)))
    return {r.folded: r.card_id for r in rows}


def export(session: Session) -> dict[str, list[str]]:
    """Card id → attached questions, and ``out-of-scope`` → the rest, for the card files."""
    out: dict[str, list[str]] = {}
    for q in session.scalars(select(LearnedQuestion).order_by(LearnedQuestion.id)):
        out.setdefault(q.card_id or OUT_OF_SCOPE, []).append(q.text)
    return dict(sorted(out.items()))


def record(session: Session, *, channel: str, result: SearchResult, at: datetime) -> None:
    """Count what the bot did with a question (no text, no user)."""
    if result.answer is not None:
        outcome = ANSWERED
    elif result.intent is not None:
        outcome = result.intent
    else:
        outcome = OFFERED if result.offered else REFUSED
    session.add(AskedQuestion(at=at, channel=channel, outcome=outcome[:16], card_id=result.answer))
    label = METRIC_OUTCOMES.get(outcome, outcome)
    event.listen(session, "after_commit", lambda _s: telemetry.QUESTIONS.labels(label).inc(), once=True)


@dataclass(frozen=True)
class WeekShare:
    start: date  # Monday, Vietnam time
    asked: int  # questions for the cards (greetings, requests for a person… left out)
    answered: int
    offered: int
    refused: int
    not_right: int  # «Chưa đúng» pressed that week

    @property
    def label(self) -> str:
        end = self.start + timedelta(days=6)
        week = self.start.isocalendar()
        return f"Tuần {week.week}/{week.year} ({self.start:%d/%m}–{end:%d/%m})"

    def share(self, n: int) -> float | None:
        return 100.0 * n / self.asked if self.asked else None


def weekly_shares(session: Session, *, now: datetime, weeks: int = 8) -> list[WeekShare]:
    """The last ``weeks`` weeks, newest first."""
    today = now.astimezone(VIETNAM).date()
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    since = datetime.combine(first, datetime.min.time(), tzinfo=VIETNAM)
    counts: dict[date, dict[str, int]] = {first + timedelta(weeks=i): {} for i in range(weeks)}

    def monday(at: datetime) -> date:
        day = at.astimezone(VIETNAM).date()
        return day - timedelta(days=day.weekday())

    asked = select(AskedQuestion.at, AskedQuestion.outcome).where(AskedQuestion.at >= since)
    for at, outcome in session.execute(asked):
        week = counts.get(monday(at))
        if week is not None:
            week[outcome] = week.get(outcome, 0) + 1
    for (at,) in session.execute(
        select(Feedback.created_at).where(Feedback.helpful.is_(False), Feedback.created_at >= since)
    ):
        week = counts.get(monday(at))
        if week is not None:
            week["not_right"] = week.get("not_right", 0) + 1
    out = []
    for start, c in counts.items():
        answered, offered, refused = c.get(ANSWERED, 0), c.get(OFFERED, 0), c.get(REFUSED, 0)
        out.append(WeekShare(start, answered + offered + refused, answered, offered, refused, c.get("not_right", 0)))
    return sorted(out, key=lambda w: w.start, reverse=True)


class LiveIndex:
    """The search index the bot answers with, trained again when editors attach questions."""

    def __init__(self, base: SearchIndex, *, check_every: float = CHECK_EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.current = base
        self._base = base
        self._version = (0, 0)
        self._checked = float("-inf")
        self._check_every = check_every
        self._clock = clock
        self._lock = threading.Lock()

    def search(self, question: str) -> SearchResult:
        return self.current.search(question)

    def search_many(self, questions: Sequence[str]) -> list[SearchResult]:
        return self.current.search_many(questions)

    def refresh(self, session: Session, *, force: bool = False) -> SearchIndex:
        """The index, rebuilt first if attached questions changed since the last look."""
        now = self._clock()
        if not force and now - self._checked < self._check_every:
            return self.current
        with self._lock:
            self._checked = now
            seen = version(session)
            if seen != self._version:
                self.current = self._base.with_examples(examples(session))
                self._version = seen
        return self.current
