"""Questions handed over to extension officers: routing, answers, escalation, the queue."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation.callbacks import Prefix, build
from bot.conversation.types import Button, Reply
from bot.knowledge.messages import Messages
from bot.sending import delivery
from bot.storage.models import ChatUser, HandoverRequest, MediaMessage
from reporting import areas
from reporting.models import Member
from reporting.vocabulary import OFFICIALS, Role

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
RECENT_MEDIA = timedelta(hours=1)


def officers(session: Session, *, commune_code: int | None) -> list[Member]:
    if commune_code is None:
        return []
    return [*session.scalars(select(Member).where(Member.role == Role.EXTENSION_OFFICER,
                                                  Member.commune_code == commune_code))]


def officials(session: Session, *, province_code: int | None) -> list[Member]:
    if province_code is None:
        return []
    return [*session.scalars(select(Member).where(Member.role.in_(OFFICIALS),
                                                  Member.province_code == province_code))]


def may_answer(member: Member | None, request: HandoverRequest) -> bool:
    if member is None:
        return False
    if member.role == Role.EXTENSION_OFFICER:
        return member.commune_code is not None and member.commune_code == request.commune_code
    return member.role in OFFICIALS and member.province_code == request.province_code


def get(session: Session, request_id: int | None) -> HandoverRequest | None:
    return session.get(HandoverRequest, request_id) if request_id is not None else None


def rate(request: HandoverRequest, *, helpful: bool) -> None:
    """The farmer's «Hữu ích» / «Chưa đúng» on the answer."""
    request.rating = 1 if helpful else -1


def close(request: HandoverRequest) -> None:
    """«Đã xử lý»: an open question needs no answer in chat (an answered one stays answered)."""
    if request.state == OPEN:
        request.state = CLOSED


def mark_for_content(request: HandoverRequest) -> None:
    """The officer's answer is worth a card: editors see it in the content queue."""
    request.for_content = True


def latest_media(session: Session, *, channel: str, user_id: str, now: datetime) -> MediaMessage | None:
    row = session.scalar(select(MediaMessage).where(MediaMessage.channel == channel, MediaMessage.user_id == user_id)
                         .order_by(MediaMessage.id.desc()).limit(1))
    return row if row is not None and now - row.created_at <= RECENT_MEDIA else None


def _card(t: Messages, request: HandoverRequest, *, to_channel: str, escalated: bool) -> list[Reply]:
    commune = areas.commune(request.commune_code) if request.commune_code else None
    place = commune.name if commune else "chưa rõ xã"
    key = "handover_escalated" if escalated else "handover_to_officer"
    lines = [t(key, place=place, question=request.question, id=request.id)]
    image = None
    if request.media_kind == "location" and request.media_ref:
        lines.append(t("handover_location", link=f"https://maps.google.com/?q={request.media_ref}"))
    elif request.media_kind == "photo" and request.media_ref and to_channel == request.channel == "telegram":
        image = request.media_ref  # the same bot can send the farmer's photo by its file id
    elif request.media_kind:
        lines.append(t("handover_media", kind=t(f"media_{request.media_kind}")))
    buttons = ((Button(t("btn_answer"), build(Prefix.HANDOVER, "reply", request.id)),
                Button(t("btn_handled"), build(Prefix.HANDOVER, "done", request.id))),)
    return [Reply(text="\n".join(lines), buttons=buttons, image=image)]


def create(session: Session, *, user: ChatUser, question: str, now: datetime, t: Messages) -> tuple[
        HandoverRequest, int]:
    """Record the question and queue it to the commune's officers (or the province's officials)."""
    commune = areas.commune(user.commune_code) if user.commune_code else None
    media = latest_media(session, channel=user.channel, user_id=user.user_id, now=now)
    request = HandoverRequest(
        channel=user.channel, user_id=user.user_id, commune_code=commune.code if commune else None,
        province_code=commune.province_code if commune else None, question=question,
        media_kind=media.kind if media else None, media_ref=media.ref if media else None, created_at=now,
    )
    session.add(request)
    session.flush()
    targets = officers(session, commune_code=request.commune_code)
    escalated = not targets
    if escalated:
        targets = officials(session, province_code=request.province_code)
        request.escalated_at = now
    for member in targets:
        delivery.enqueue(session, channel=member.channel, user_id=member.user_id, kind="handover", now=now,
                         quiet=False, replies=_card(t, request, to_channel=member.channel, escalated=escalated),
                         dedupe_key=f"handover:{request.id}:{member.channel}:{member.user_id}")
    return request, len(targets)


def answer(session: Session, *, request: HandoverRequest, by: Member, text: str, now: datetime,
           t: Messages) -> None:
    request.state, request.answer, request.answered_at = ANSWERED, text, now
    request.answered_by = f"{by.channel}:{by.user_id}"
    buttons = ((Button(t("btn_useful"), build(Prefix.HANDOVER, "rate", request.id, "up")),
                Button(t("btn_not_right"), build(Prefix.HANDOVER, "rate", request.id, "down"))),)
    reply = Reply(text=t("handover_answer", question=request.question, answer=text), buttons=buttons)
    delivery.enqueue(session, channel=request.channel, user_id=request.user_id, kind="handover", now=now, quiet=False,
                     replies=[reply], dedupe_key=f"handover-answer:{request.id}:{int(now.timestamp())}")


def escalate_due(session: Session, *, now: datetime, after: timedelta, t: Messages) -> int:
    """Open questions older than ``after`` go to the provincial officials (once)."""
    due = [*session.scalars(select(HandoverRequest).where(
        HandoverRequest.state == OPEN, HandoverRequest.escalated_at.is_(None),
        HandoverRequest.created_at <= now - after))]
    for request in due:
        request.escalated_at = now
        for member in officials(session, province_code=request.province_code):
            delivery.enqueue(session, channel=member.channel, user_id=member.user_id, kind="handover", now=now,
                             quiet=False, replies=_card(t, request, to_channel=member.channel, escalated=True),
                             dedupe_key=f"handover-escalate:{request.id}:{member.channel}:{member.user_id}")
    return len(due)


def queue(session: Session, *, province_code: int | None = None, commune_codes: list[int] | None = None,
          limit: int = 300) -> list[HandoverRequest]:
    stmt = select(HandoverRequest)
    if province_code is not None:
        stmt = stmt.where(HandoverRequest.province_code == province_code)
    if commune_codes is not None:
        stmt = stmt.where(HandoverRequest.commune_code.in_(commune_codes))
    return [*session.scalars(stmt.order_by(HandoverRequest.id.desc()).limit(limit))]
