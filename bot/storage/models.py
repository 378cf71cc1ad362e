"""Tables of the conversation core. Feature tables live beside their services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.db import Base, utcnow
from reporting.vocabulary import Role


class ChatUser(Base):
    """A person as seen on one channel (Telegram chat id, Zalo user id, web id, console name)."""

    __tablename__ = "chat_users"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    commune_code: Mapped[int | None]  # asked once, for hand-overs and local tips
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationState(Base):
    """Where a user is in a conversation, kept in the database so it survives restarts."""

    __tablename__ = "conversation_states"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[str] = mapped_column(String(64), default="idle")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UnansweredQuestion(Base):
    """A question the bot could not answer, or one the farmer asked to pass to an officer."""

    __tablename__ = "unanswered_questions"
    __table_args__ = (Index("ix_unanswered_questions_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    folded: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(32))  # no_match | officer_requested
    best_card: Mapped[str | None] = mapped_column(String(120))
    best_score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedDelivery(Base):
    """A platform delivery already handled (Telegram update_id, Zalo msg_id): never twice."""

    __tablename__ = "processed_deliveries"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MediaMessage(Base):
    """A photo, voice message, location… a user sent; kept for the extension officers."""

    __tablename__ = "media_messages"
    __table_args__ = (Index("ix_media_messages_user", "channel", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str | None] = mapped_column(String(255))
    caption: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthToken(Base):
    """A platform's current token pair (Zalo's refresh token is single-use: replaced atomically)."""

    __tablename__ = "oauth_tokens"

    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    # a refresh on the wire (a lease: one refresher across processes); a crash leaves it set
    refreshing_since: Mapped[datetime | None]
    # the platform refused the stored refresh token: an admin must authorise the app again
    needs_reauth: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReplyWindow(Base):
    """Zalo's free replies: 8 messages within 48 hours of the user's last message."""

    __tablename__ = "reply_windows"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_inbound_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_since: Mapped[int] = mapped_column(default=0)


class PendingChoices(Base):
    """Buttons shown as a numbered list (more than the channel's template allows)."""

    __tablename__ = "pending_choices"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    payloads: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebOutbox(Base):
    """Messages for a web chat user sent later (hand-over replies, reminders)."""

    __tablename__ = "web_outbox"
    __table_args__ = (Index("ix_web_outbox_user", "user_id", "delivered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class DashboardUser(Base):
    __tablename__ = "dashboard_users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32), default=Role.ADMIN.value)
    province_code: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DashboardSession(Base):
    __tablename__ = "dashboard_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class ApiToken(Base):
    """A token a province's own systems use for the indicator API (``Authorization: Bearer …``);
    created and revoked on the dashboard, stored hashed."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    province_code: Mapped[int | None]  # the plans it reads: its province's (None: every province)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class HandoverRequest(Base):
    """A farmer's question passed to the commune's extension officers (or the province)."""

    __tablename__ = "handover_requests"
    __table_args__ = (Index("ix_handover_requests_state", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    commune_code: Mapped[int | None]
    province_code: Mapped[int | None]
    question: Mapped[str] = mapped_column(Text)
    media_kind: Mapped[str | None] = mapped_column(String(16))
    media_ref: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | answered | closed
    escalated_at: Mapped[datetime | None]  # set: the question is in the province's queue
    notified_at: Mapped[datetime | None]  # the last time the province's officials were told of it
    notices: Mapped[int] = mapped_column(default=0)  # how many times they were told (escalation rounds)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(160))
    answered_at: Mapped[datetime | None]
    rating: Mapped[int | None]  # 1 useful, -1 not right
    for_content: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Feedback(Base):
    """"Hữu ích" / "Chưa đúng" on a card answer."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    card_id: Mapped[str] = mapped_column(String(120))
    question: Mapped[str | None] = mapped_column(Text)
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("channel", "user_id", "topic", name="uq_subscriptions_channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    topic: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by: Mapped[str] = mapped_column(String(160))
    topic: Mapped[str | None] = mapped_column(String(32))
    province_code: Mapped[int | None]
    commune_code: Mapped[int | None]
    text: Mapped[str] = mapped_column(Text)
    card_id: Mapped[str | None] = mapped_column(String(120))
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutgoingMessage(Base):
    """A proactive message waiting to be sent: the delivery queue survives restarts."""

    __tablename__ = "outgoing_messages"
    __table_args__ = (
        Index("ix_outgoing_messages_due", "state", "not_before"),
        Index("ix_outgoing_messages_broadcast", "broadcast_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # reply | handover | reminder | digest | broadcast | tip
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"replies": [Reply.to_dict(), ...]}
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed|skipped
    attempts: Mapped[int] = mapped_column(default=0)
    # "sending" is a lease: the process sending a row renews claimed_at; a row whose lease ran out
    # (its process died) is queued again. parts_done counts the platform calls already made;
    # in_flight marks the one call on the wire, so a crash resends no call that had started.
    claimed_at: Mapped[datetime | None]
    parts_done: Mapped[int] = mapped_column(default=0)
    in_flight: Mapped[bool] = mapped_column(Boolean, default=False)
    uncertain: Mapped[int] = mapped_column(default=0)  # calls cut off by a crash: not sent again
    owner: Mapped[int | None] = mapped_column(BigInteger)  # the process holding the lease (``Presence``)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    broadcast_id: Mapped[int | None]
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class InboxUpdate(Base):
    """A platform update accepted by a webhook or fetched by polling, before it is handled.

    Written in the request, before the 200: a kill -9 after that loses nothing. A duplicate
    (same channel and update id) is refused by the unique key. pending → working (leased by
    ``owner``) → done, or failed after too many attempts; see ``bot.receiving.inbox``.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "update_id", name="uq_inbox_channel"),
        Index("ix_inbox_state_id", "state", "id"),
        Index("ix_inbox_user", "channel", "user_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    update_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))  # "" when the update names no user
    body: Mapped[str] = mapped_column(Text)  # the raw body, as the platform sent it
    received_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # pending | working | done | failed
    owner: Mapped[int | None] = mapped_column(BigInteger)
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None]


class LearnedQuestion(Base):
    """A farmer's question an editor attached to a card as an example (or marked out of scope).

    The running index learns from these at once; ``agribot content questions --export`` writes
    them out for merging into the card files.
    """

    __tablename__ = "learned_questions"
    __table_args__ = (UniqueConstraint("folded", name="uq_learned_questions_folded"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    folded: Mapped[str] = mapped_column(String(500))
    card_id: Mapped[str | None] = mapped_column(String(120))  # None: no card answers it
    added_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AskedQuestion(Base):
    """What the bot did with a free-text question (no text, no user): the weekly shares."""

    __tablename__ = "asked_questions"
    __table_args__ = (Index("ix_asked_questions_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))  # answered | offered | refused | <intent>
    card_id: Mapped[str | None] = mapped_column(String(120))


class FloodCounter(Base):
    """How many messages a user sent in the current flood window (one row a user, updated atomically,
    so the limit holds across processes); ``carried``: messages of the last window not taken."""

    __tablename__ = "flood_counters"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime]
    count: Mapped[int]
    carried: Mapped[int] = mapped_column(default=0)
    last_missed: Mapped[str | None] = mapped_column(Text)
