"""One place wires everything: engine, sessions, services, router."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation import state as state_service
from bot.conversation.router import Router
from bot.conversation.types import IncomingMessage, Reply
from bot.handlers import register_all
from bot.services import BotServices, build_services
from bot.settings import Settings
from bot.storage import migrate
from bot.storage.db import make_engine, make_session_factory, unit_of_work
from bot.storage.models import ProcessedDelivery


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    services: BotServices
    router: Router

    def handle(self, message: IncomingMessage) -> list[Reply]:
        """Handle one message in its own transaction, committed once."""
        with unit_of_work(self.sessions) as session:
            return self.router.handle(session, message)

    def handle_once(self, message: IncomingMessage, delivery_id: str) -> list[Reply] | None:
        """Handle a platform delivery exactly once: None when ``delivery_id`` was seen before.

        The delivery is recorded in the same transaction as the conversation step, so a
        repeated webhook or a restart during polling cannot answer or file twice.
        """
        try:
            with unit_of_work(self.sessions) as session:
                if session.get(ProcessedDelivery, (message.channel, delivery_id)) is not None:
                    return None
                session.add(ProcessedDelivery(channel=message.channel, delivery_id=delivery_id))
                session.flush()
                return self.router.handle(session, message)
        except IntegrityError:  # the same delivery committed concurrently
            return None

    def set_user_active(self, channel: str, user_id: str, active: bool) -> None:
        with unit_of_work(self.sessions) as session:
            state_service.set_active(session, channel=channel, user_id=user_id, active=active)

    def database_ok(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def close(self) -> None:
        self.engine.dispose()


def build_router(services: BotServices) -> Router:
    router = Router(services)
    register_all(router)
    return router


def create_runtime(settings: Settings, *, upgrade_db: bool = True) -> Runtime:
    engine = make_engine(settings.database_url)
    if upgrade_db:
        migrate.upgrade(engine)
    services = build_services(settings)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        services=services,
        router=build_router(services),
    )
