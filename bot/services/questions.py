"""Questions the bot could not answer, kept for the extension officers and the editors."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge.normalize import fold
from bot.storage.models import UnansweredQuestion

NO_MATCH = "no_match"
OFFERED = "offered"  # the bot asked «Có phải bác muốn hỏi…?» instead of answering
OFFICER_REQUESTED = "officer_requested"


def create(
    session: Session,
    *,
    channel: str,
    user_id: str,
    text: str,
    reason: str,
    best_card: str | None = None,
    best_score: float | None = None,
) -> UnansweredQuestion:
    row = UnansweredQuestion(
        channel=channel,
        user_id=user_id,
        text=text,
        folded=fold(text),
        reason=reason,
        best_card=best_card,
        best_score=best_score,
    )
    session.add(row)
    session.flush()
    return row


def list_recent(session: Session, *, limit: int = 100) -> list[UnansweredQuestion]:
    stmt = select(UnansweredQuestion).order_by(UnansweredQuestion.id.desc()).limit(limit)
    return [*session.scalars(stmt)]
