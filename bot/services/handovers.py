"""Questions handed over to extension officers: routing, answers, escalation, the queues.

A question goes to its commune's extension officers; when the commune has none, or when no one
answered it in time, it is in the province's queue (``escalated_at`` set) and the province's
officials are told — again once per interval (``notified_at``) while it stays open. It is
answered or closed once: the change is a conditional UPDATE (``state = 'open'``), so of two
people answering at the same time one wins and the other is told.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
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


def in_province_queue(request: HandoverRequest) -> bool:
    return request.escalated_at is not None


def may_answer(member: Member | None, request: HandoverRequest) -> bool:
    """In chat: an officer of the question's commune, or an official of its province once the
    question is in the province's queue."""
    if member is None:
        return False
    if member.role == Role.EXTENSION_OFFICER:
        return member.commune_code is not None and member.commune_code == request.commune_code
    return member.role in OFFICIALS and member.province_code == request.province_code and in_province_queue(request)


def may_answer_on_dashboard(*, role: str, province_code: int | None, request: HandoverRequest) -> bool:
    """On the dashboard: an admin or provincial official of the question's province (any province
    for an account without one) may answer any open question there."""
    return role in OFFICIALS and province_code in (None, request.province_code)


def is_overdue(request: HandoverRequest, *, now: datetime, after: timedelta) -> bool:
    return request.state == OPEN and now - request.created_at >= after


def waited(delta: timedelta) -> str:
    """«40 phút», «5 giờ», «2 ngày 3 giờ»."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{max(minutes, 1)} phút"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} giờ"
    days, hours = divmod(hours, 24)
    return f"{days} ngày {hours} giờ" if hours else f"{days} ngày"


def place(request: HandoverRequest) -> str:
    commune = areas.commune(request.commune_code) if request.commune_code else None
    return commune.name if commune else "chưa rõ xã"


def get(session: Session, request_id: int | None) -> HandoverRequest | None:
    return session.get(HandoverRequest, request_id) if request_id is not None else None


def rate(request: HandoverRequest, *, helpful: bool) -> None:
    """The farmer's «Hữu ích» / «Chưa đúng» on the answer."""
    request.rating = 1 if helpful else -1


def _settle(session: Session, request: HandoverRequest, **values: object) -> bool:
    """Change an open question once: True when this call did it, False when someone else did first."""
    done = session.scalar(update(HandoverRequest)
                          .where(HandoverRequest.id == request.id, HandoverRequest.state == OPEN)
                          .values(**values).returning(HandoverRequest.id)
                          .execution_options(synchronize_session=False))
    session.refresh(request)
    return done is not None


def close(session: Session, *, request: HandoverRequest, by: str, now: datetime) -> bool:
    """«Đã xử lý»: an open question needs no answer in chat (an answered one stays answered)."""
    return _settle(session, request, state=CLOSED, answered_by=by, answered_at=now)


def mark_for_content(request: HandoverRequest) -> None:
    """The officer's answer is worth a card: editors see it in the content queue."""
    request.for_content = True


def latest_media(session: Session, *, channel: str, user_id: str, now: datetime) -> MediaMessage | None:
    row = session.scalar(select(MediaMessage).where(MediaMessage.channel == channel, MediaMessage.user_id == user_id)
                         .order_by(MediaMessage.id.desc()).limit(1))
    return row if row is not None and now - row.created_at <= RECENT_MEDIA else None


def _card(t: Messages, request: HandoverRequest, *, to_channel: str, key: str, now: datetime) -> list[Reply]:
    lines = [t(key, place=place(request), question=request.question, id=request.id,
               waited=waited(now - request.created_at))]
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


def _tell(session: Session, request: HandoverRequest, members: list[Member], *, key: str, round_: int,
          now: datetime, t: Messages) -> int:
    for member in members:
        delivery.enqueue(session, channel=member.channel, user_id=member.user_id, kind="handover", now=now,
                         quiet=False, replies=_card(t, request, to_channel=member.channel, key=key, now=now),
                         dedupe_key=f"handover:{request.id}:{round_}:{member.channel}:{member.user_id}")
    return len(members)


def create(session: Session, *, user: ChatUser, question: str, now: datetime, t: Messages) -> tuple[
        HandoverRequest, int]:
    """Record the question and queue it to the commune's officers; a commune without one puts it
    in the province's queue and tells the province's officials. Returns the request and how many
    people were told."""
    commune = areas.commune(user.commune_code) if user.commune_code else None
    media = latest_media(session, channel=user.channel, user_id=user.user_id, now=now)
    request = HandoverRequest(
        channel=user.channel, user_id=user.user_id, commune_code=commune.code if commune else None,
        province_code=commune.province_code if commune else None, question=question,
        media_kind=media.kind if media else None, media_ref=media.ref if media else None, created_at=now,
        notices=0,
    )
    session.add(request)
    session.flush()
    targets = officers(session, commune_code=request.commune_code)
    if targets:
        return request, _tell(session, request, targets, key="handover_to_officer", round_=0, now=now, t=t)
    if request.province_code is None:
        return request, 0
    request.escalated_at = request.notified_at = now
    request.notices = 1
    told = _tell(session, request, officials(session, province_code=request.province_code),
                 key="handover_to_province", round_=1, now=now, t=t)
    return request, told


def answer(session: Session, *, request: HandoverRequest, by: str, from_province: bool, text: str, now: datetime,
           t: Messages) -> bool:
    """Record the answer and queue it to the farmer on the farmer's channel; False (nothing sent)
    when the question was answered or closed already."""
    if not _settle(session, request, state=ANSWERED, answer=text, answered_at=now, answered_by=by):
        return False
    buttons = ((Button(t("btn_useful"), build(Prefix.HANDOVER, "rate", request.id, "up")),
                Button(t("btn_not_right"), build(Prefix.HANDOVER, "rate", request.id, "down"))),)
    who = t("answer_from_province") if from_province else t("answer_from_officer")
    reply = Reply(text=t("handover_answer", who=who, question=request.question, answer=text), buttons=buttons)
    delivery.enqueue(session, channel=request.channel, user_id=request.user_id, kind="handover", now=now, quiet=False,
                     replies=[reply], dedupe_key=f"handover-answer:{request.id}")
    return True


def escalate_due(session: Session, *, now: datetime, after: timedelta, t: Messages) -> int:
    """Open questions no one answered within ``after``: a commune's question moves to the
    province's queue and its officials are told; a question already there is told again. Each
    question at most once per ``after`` (a job that runs twice changes nothing twice)."""
    cutoff = now - after
    due = [*session.scalars(select(HandoverRequest).where(
        HandoverRequest.state == OPEN, HandoverRequest.province_code.is_not(None),
        or_(and_(HandoverRequest.escalated_at.is_(None), HandoverRequest.created_at <= cutoff),
            and_(HandoverRequest.escalated_at.is_not(None),
                 or_(HandoverRequest.notified_at.is_(None), HandoverRequest.notified_at <= cutoff))))
        .order_by(HandoverRequest.created_at, HandoverRequest.id))]
    moved = 0
    for request in due:
        first = request.escalated_at is None
        taken = session.scalar(
            update(HandoverRequest)
            .where(HandoverRequest.id == request.id, HandoverRequest.state == OPEN,
                   or_(HandoverRequest.notified_at.is_(None), HandoverRequest.notified_at <= cutoff))
            .values(escalated_at=request.escalated_at or now, notified_at=now, notices=HandoverRequest.notices + 1)
            .returning(HandoverRequest.notices).execution_options(synchronize_session=False))
        if taken is None:
            continue
        session.refresh(request)
        _tell(session, request, officials(session, province_code=request.province_code),
              key="handover_escalated" if first else "handover_still_open", round_=taken, now=now, t=t)
        moved += 1
    return moved


def open_for(session: Session, *, member: Member | None, limit: int = 200) -> list[HandoverRequest]:
    """The open questions ``member`` may answer in chat, oldest first: an officer's commune's,
    or an official's province queue."""
    stmt = select(HandoverRequest).where(HandoverRequest.state == OPEN)
    if member is None:
        return []
    if member.role == Role.EXTENSION_OFFICER and member.commune_code is not None:
        stmt = stmt.where(HandoverRequest.commune_code == member.commune_code)
    elif member.role in OFFICIALS:
        stmt = stmt.where(HandoverRequest.province_code == member.province_code,
                          HandoverRequest.escalated_at.is_not(None))
    else:
        return []
    return [*session.scalars(stmt.order_by(HandoverRequest.created_at, HandoverRequest.id).limit(limit))]


def open_questions(session: Session, *, province_code: int | None, limit: int = 300) -> list[HandoverRequest]:
    """The dashboard's list: the open questions of the province (all for None), oldest first."""
    stmt = select(HandoverRequest).where(HandoverRequest.state == OPEN)
    if province_code is not None:
        stmt = stmt.where(HandoverRequest.province_code == province_code)
    return [*session.scalars(stmt.order_by(HandoverRequest.created_at, HandoverRequest.id).limit(limit))]


def recently_settled(session: Session, *, province_code: int | None, limit: int = 50) -> list[HandoverRequest]:
    stmt = select(HandoverRequest).where(HandoverRequest.state != OPEN)
    if province_code is not None:
        stmt = stmt.where(HandoverRequest.province_code == province_code)
    return [*session.scalars(stmt.order_by(HandoverRequest.answered_at.desc().nulls_last(), HandoverRequest.id.desc())
                             .limit(limit))]


def queue(session: Session, *, province_code: int | None = None, commune_codes: list[int] | None = None,
          limit: int = 300) -> list[HandoverRequest]:
    stmt = select(HandoverRequest)
    if province_code is not None:
        stmt = stmt.where(HandoverRequest.province_code == province_code)
    if commune_codes is not None:
        stmt = stmt.where(HandoverRequest.commune_code.in_(commune_codes))
    return [*session.scalars(stmt.order_by(HandoverRequest.id.desc()).limit(limit))]
