"""Alembic environment: the engine is handed in by ``bot.storage.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import bot.storage.models  # noqa: F401  (registers the tables)
import reporting.models  # noqa: F401
from bot.storage.db import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("no engine or sqlalchemy.url given to the migrations")
        engine = create_engine(url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run()
