"""For editors: unanswered and "chưa đúng" questions, grouped by similar wording."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge.normalize import fold
from bot.storage.models import Feedback, UnansweredQuestion

SIMILAR = 75


@dataclass
class Group:
    text: str
    count: int = 0
    examples: list[str] = field(default_factory=list)
    cards: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)


def record(session: Session, *, channel: str, user_id: str, card_id: str, question: str | None, helpful: bool,
           now: datetime) -> None:
    """«Hữu ích» / «Chưa đúng» under a card, with the question it answered."""
    session.add(Feedback(channel=channel, user_id=user_id, card_id=card_id, question=question, helpful=helpful,
                         created_at=now))


def groups(session: Session, *, limit: int = 2000) -> list[Group]:
    items: list[tuple[str, str, str | None]] = []
    for q in session.scalars(select(UnansweredQuestion).where(UnansweredQuestion.reason.in_(("no_match", "offered")))
                             .order_by(UnansweredQuestion.id.desc()).limit(limit)):
        items.append((q.text, "chưa có câu trả lời", q.best_card))
    for f in session.scalars(select(Feedback).where(Feedback.helpful.is_(False)).order_by(Feedback.id.desc())
                             .limit(limit)):
        items.append((f.question or f"(thẻ {f.card_id})", "chưa đúng", f.card_id))
    out: list[tuple[str, Group]] = []
    for text, kind, card in items:
        key = fold(text)
        group = next((g for k, g in out if fuzz.token_set_ratio(k, key) >= SIMILAR), None)
        if group is None:
            group = Group(text=text)
            out.append((key, group))
        group.count += 1
        group.kinds.add(kind)
        if card:
            group.cards.add(card)
        if len(group.examples) < 5 and text not in group.examples:
            group.examples.append(text)
    return sorted((g for _, g in out), key=lambda g: -g.count)
