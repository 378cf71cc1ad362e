"""A leader whose advisory lock is lost (its PostgreSQL backend killed) stops scheduling at once."""

from __future__ import annotations

import asyncio
import logging
import random

from sqlalchemy import create_engine, text

from bot.runtime import create_runtime
from bot.scheduling.scheduler import Scheduler
from bot.sending.worker import DeliveryWorker
from bot.settings import Settings


def _holder(url: str, key: int) -> int | None:
    """The backend pid that holds advisory lock ``key``, seen from another connection."""
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return c.execute(text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                                  " AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1"),
                             {"hi": key >> 32, "lo": key & 0xFFFFFFFF}).scalar()
    finally:
        engine.dispose()


def _terminate(url: str, pid: int) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as c:
            c.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        engine.dispose()


async def _until(predicate, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


def test_a_leader_whose_backend_is_killed_steps_down_and_says_so(postgres_schema_url: str, caplog) -> None:
    caplog.set_level(logging.INFO)
    key = random.randrange(1 << 40, 1 << 41)  # not the production key: other test runs share the database
    rt = create_runtime(Settings(database_url=postgres_schema_url, scheduler_enabled=False), load_content=False)

    async def scenario() -> None:
        worker = DeliveryWorker(rt, {})
        scheduler = Scheduler(rt, worker, retry_seconds=0.2, lock_key=key)
        scheduler.start()
        try:
            await _until(lambda: scheduler.is_leader)
            assert scheduler.aps is not None and scheduler.aps.running
            first = await asyncio.to_thread(_holder, postgres_schema_url, key)
            assert first is not None
            jobs = scheduler.aps
            await asyncio.to_thread(_terminate, postgres_schema_url, first)
            await _until(lambda: any("lost the leader lock" in r.getMessage() for r in caplog.records))
            assert not jobs.running  # the jobs stopped at once
            assert [r.levelno for r in caplog.records if "lost the leader lock" in r.getMessage()] == [logging.ERROR]
            # the database is still up: it campaigns again and leads on a new connection
            await _until(lambda: scheduler.is_leader and scheduler.aps is not None and scheduler.aps is not jobs)
            assert await asyncio.to_thread(_holder, postgres_schema_url, key) not in (None, first)
        finally:
            await scheduler.stop()
        assert await asyncio.to_thread(_holder, postgres_schema_url, key) is None  # released on stop

    try:
        asyncio.run(scenario())
    finally:
        rt.close()
