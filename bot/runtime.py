"""The runtime every edge shares: the database (engine, sessions), the content and the router.

Built by ``create_runtime``; ``bot.app.wire`` adds the channels and the scheduler around it, and
the command line uses the same ``create_runtime`` (without loading the content when a command
only needs the database)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from bot import telemetry
from bot.conversation import flood
from bot.conversation.clean import clean_message
from bot.conversation.router import Router
from bot.conversation.types import IncomingMessage, Reply
from bot.handlers import register_all
from bot.knowledge.content import BotServices, build_index, load_library
from bot.knowledge.messages import Messages
from bot.sending import delivery
from bot.sending.leases import Leases
from bot.services import users
from bot.services.learned import LiveIndex
from bot.settings import Settings
from bot.storage import migrate
from bot.storage.db import make_engine, make_session_factory, unit_of_work, utcnow
from bot.storage.models import ProcessedDelivery
from bot.storage.presence import Presence


class DatabaseDown(Exception):
    """The database cannot be reached: edges answer 503 so platforms deliver again later."""


# the database cannot be reached (OperationalError), or no connection came free in time (the
# pool's TimeoutError): both are "try again later", never a 500
DATABASE_AWAY = (OperationalError, PoolTimeout)


log = logging.getLogger(__name__)
T = TypeVar("T")
DATABASE_THREADS = 24  # PostgreSQL: within the engine's pool (10 + 20 overflow connections)


def build_services(settings: Settings) -> BotServices:
    """The content (checked), its search index kept fresh from the database, and the messages."""
    library = load_library(settings)
    return BotServices(settings=settings, library=library, index=LiveIndex(build_index(library, settings)),
                       messages=Messages(library.messages))


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    leases: Leases = field(default_factory=Leases)
    presence: Presence | None = None  # this process's identity as the owner of leased rows
    inbox_arrived: asyncio.Event = field(default_factory=asyncio.Event)  # wakes this process's inbox worker

    def __post_init__(self) -> None:
        if self.presence is None:
            self.presence = Presence(self.engine)

    @property
    def instance(self) -> int:
        """This process's number, written as the owner of the rows it leases."""
        assert self.presence is not None
        return self.presence.instance

    def alive(self, candidates: Iterable[int] = ()) -> set[int]:
        """The numbers of the processes alive now (``bot.storage.presence``), among ``candidates``
        (the owners of leased rows) where the database cannot tell."""
        assert self.presence is not None
        return self.presence.alive(candidates)

    @cached_property
    def services(self) -> BotServices:
        """The content, its search index and the messages (loaded and checked once, on first use)."""
        return build_services(self.settings)

    @cached_property
    def router(self) -> Router:
        return build_router(self.services)

    def _step(self, session: Session, message: IncomingMessage) -> list[Reply]:
        """The conversation step of one (cleaned) message, within the flood limit (``flood``)."""
        verdict = flood.count(session, channel=message.channel, user_id=message.user_id, now=message.at,
                              text=message.text, limit=self.settings.flood_limit_per_minute, per_seconds=60.0)
        messages = self.services.messages
        if not verdict.taken:
            telemetry.FLOOD.labels(message.channel).inc()
            return [Reply(messages("flood", seconds=verdict.seconds_left))] if verdict.warn else []
        replies = self.router.handle(session, message)
        if verdict.carried:
            last = messages("flood_missed_last", text=verdict.last_missed) if verdict.last_missed else ""
            replies = [Reply(messages("flood_missed", count=verdict.carried, last=last)), *replies]
        return replies

    def handle(self, message: IncomingMessage) -> list[Reply]:
        """Handle one message in its own transaction, committed once.

        Every channel's messages come through here or ``handle_once``: the texts are cleaned and
        the identifiers checked (``clean_message``; ``BadInput`` for an unusable id)."""
        message = clean_message(message)
        try:
            with unit_of_work(self.sessions) as session:
                return self._step(session, message)
        except DATABASE_AWAY as exc:
            raise DatabaseDown(str(exc)) from exc

    def handle_once(self, message: IncomingMessage, delivery_id: str, *,
                    also: Callable[[Session], None] | None = None) -> tuple[list[Reply], int | None] | None:
        """Handle a platform delivery exactly once: None when ``delivery_id`` was seen before.

        The delivery is recorded in the same transaction as the conversation step, so a
        repeated webhook or a restart during polling cannot answer or file twice. The replies
        go into the delivery queue in that transaction too, claimed by this process to send at
        once: a crash before they are sent loses nothing (another process, or this one
        restarted, sends them). Returns the replies and their queue row (None for none, e.g. a
        message over the flood limit). ``also`` runs in the same transaction.
        """
        message = clean_message(message)
        try:
            with unit_of_work(self.sessions) as session:
                if session.get(ProcessedDelivery, (message.channel, delivery_id)) is not None:
                    return None
                session.add(ProcessedDelivery(channel=message.channel, delivery_id=delivery_id))
                session.flush()
                replies = self._step(session, message)
                if also is not None:
                    also(session)
                row = None
                if replies:
                    row = delivery.enqueue(session, channel=message.channel, user_id=message.user_id,
                                           replies=replies, kind="reply", now=utcnow(), quiet=False,
                                           claim_now=True, owner=self.instance)
                    session.flush()
                message_id = row.id if row is not None else None
            if message_id is not None:
                self.leases.hold(message_id)  # renewed from now on; released when sent
            return replies, message_id
        except IntegrityError:  # the same delivery committed concurrently
            return None
        except DATABASE_AWAY as exc:
            raise DatabaseDown(str(exc)) from exc

    def set_user_active(self, channel: str, user_id: str, active: bool) -> None:
        with unit_of_work(self.sessions) as session:
            users.set_active(session, channel=channel, user_id=user_id, active=active)

    def use_database_threads(self) -> None:
        """Database work off the event loop (``asyncio.to_thread``: the inbox's inserts, the
        send marks, the conversation steps) runs in as many threads as the connection pool serves
        on PostgreSQL; Python's default (cores + 4: 6 on two cores) queued them behind each other.
        SQLite keeps the default (it has one writer)."""
        if self.engine.dialect.name == "postgresql":
            executor = ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix="agribot-db")
            asyncio.get_running_loop().set_default_executor(executor)

    def database_ok(self) -> bool:
        """Check the database now (for /healthz)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            ok = True
        except Exception:
            ok = False
        return ok

    def close(self) -> None:
        if self.presence is not None:
            self.presence.close()
        self.engine.dispose()


def build_router(services: BotServices) -> Router:
    router = Router(services)
    register_all(router)
    return router


def create_runtime(settings: Settings, *, upgrade_db: bool = True, load_content: bool = True) -> Runtime:
    """The database (created or upgraded) and, unless ``load_content`` is false, the content,
    checked now so that a service with bad content refuses to start."""
    engine = make_engine(settings.database_url)
    if upgrade_db:
        migrate.upgrade(engine)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        leases=Leases(settings.delivery_lease_seconds),
    )
    if load_content:
        runtime.router  # noqa: B018 - loads, checks and indexes the content now
    return runtime


async def retry_while_database_down(call: Callable[[], Awaitable[T]], *, attempts: int = 12,
                                    first_wait: float = 1.0, max_wait: float = 30.0) -> T:
    """Run ``call``; while the database is down, wait (doubling, capped) and try again."""
    wait = first_wait
    for attempt in range(attempts):
        try:
            return await call()
        except DatabaseDown:
            if attempt == attempts - 1:
                raise
            log.warning("database unavailable; trying again in %.0f s", wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, max_wait)
    raise AssertionError("unreachable")
