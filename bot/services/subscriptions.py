"""Subscriptions to seasonal tips, by topic (``/dangky``, ``/huy``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.storage.models import Subscription


def topics(session: Session, *, channel: str, user_id: str) -> set[str]:
    """The topics the user receives tips for."""
    return set(session.scalars(select(Subscription.topic).where(
        Subscription.channel == channel, Subscription.user_id == user_id)))


def add(session: Session, *, channel: str, user_id: str, topic: str, now: datetime) -> None:
    """Subscribe to ``topic``; subscribing twice changes nothing."""
    if topic not in topics(session, channel=channel, user_id=user_id):
        session.add(Subscription(channel=channel, user_id=user_id, topic=topic, created_at=now))
        session.flush()


def remove(session: Session, *, channel: str, user_id: str, topic: str | None = None) -> None:
    """Stop tips for ``topic``, or for every topic when it is None."""
    query = delete(Subscription).where(Subscription.channel == channel, Subscription.user_id == user_id)
    session.execute(query if topic is None else query.where(Subscription.topic == topic))
