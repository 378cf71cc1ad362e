"""Tips and cards sent to subscribers, filtered by topic, province and commune."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation.callbacks import Prefix, build
from bot.conversation.types import Button, Reply
from bot.sending import delivery
from bot.storage.models import Broadcast, ChatUser, Subscription
from reporting import areas


def recipients(session: Session, *, topic: str | None, province_code: int | None,
               commune_code: int | None = None) -> list[tuple[str, str]]:
    stmt = (select(Subscription.channel, Subscription.user_id, ChatUser.commune_code)
            .join(ChatUser, (ChatUser.channel == Subscription.channel) & (ChatUser.user_id == Subscription.user_id))
            .where(ChatUser.active.is_(True)))
    if topic:
        stmt = stmt.where(Subscription.topic == topic)
    out = set()
    for channel, user_id, code in session.execute(stmt):
        if commune_code is not None and code != commune_code:
            continue
        if province_code is not None:
            commune = areas.commune(code) if code else None
            if commune is None or commune.province_code != province_code:
                continue
        out.add((channel, user_id))
    return sorted(out)


def get(session: Session, broadcast_id: int | None) -> Broadcast | None:
    return session.get(Broadcast, broadcast_id) if broadcast_id is not None else None


def progress(session: Session, broadcast: Broadcast) -> dict[str, int]:
    """Sent, pending, failed and uncertain messages of ``broadcast`` (``/tiendo``)."""
    return delivery.progress(session, broadcast_id=broadcast.id)


def create(session: Session, *, by: str, text: str, now: datetime, topic: str | None,
           province_code: int | None, commune_code: int | None = None, card_id: str | None = None,
           card_title: str | None = None, kind: str = "broadcast", dedupe_prefix: str | None = None) -> Broadcast:
    """Record the broadcast and queue one message per recipient (quiet hours respected)."""
    targets = recipients(session, topic=topic, province_code=province_code, commune_code=commune_code)
    broadcast = Broadcast(created_by=by, topic=topic, province_code=province_code, commune_code=commune_code,
                          text=text, card_id=card_id, recipients=len(targets), created_at=now)
    session.add(broadcast)
    session.flush()
    buttons: tuple[tuple[Button, ...], ...] = ()
    if card_id:
        buttons = ((Button(f"📗 {card_title or card_id}"[:60], build(Prefix.CARD, card_id)),),)
    reply = Reply(text=text, buttons=buttons)
    prefix = dedupe_prefix or f"broadcast:{broadcast.id}"
    for channel, user_id in targets:
        delivery.enqueue(session, channel=channel, user_id=user_id, replies=[reply], kind=kind, now=now,
                         broadcast_id=broadcast.id, dedupe_key=f"{prefix}:{channel}:{user_id}")
    return broadcast
