"""Chat users: who wrote from which channel, when last seen, their commune, whether reachable."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.conversation.state import touch_user
from bot.storage.models import ChatUser


def touch(session: Session, *, channel: str, user_id: str, display_name: str | None) -> ChatUser:
    """The user (created on first contact, last seen now); the router notes every message this way."""
    return touch_user(session, channel=channel, user_id=user_id, display_name=display_name)


def set_commune(session: Session, *, channel: str, user_id: str, commune_code: int) -> ChatUser:
    """Remember the user's commune (hand-overs and seasonal tips go by it)."""
    user = touch(session, channel=channel, user_id=user_id, display_name=None)
    user.commune_code = commune_code
    return user


def set_active(session: Session, *, channel: str, user_id: str, active: bool) -> None:
    """Mark a user (in)active, e.g. inactive when they blocked the bot."""
    user = session.get(ChatUser, (channel, user_id))
    if user is not None:
        user.active = active
