"""Exactly one scheduler: jobs and the delivery worker run only in the leader process.

On PostgreSQL the leader holds a session-level advisory lock on its own connection; the others
try again every few seconds and take over when the leader's connection dies. The leader checks
that it still holds the lock every few seconds and before each job: when its connection dropped
(a database restart, a killed backend), another process may lead already, so it stops its jobs
and its delivery worker at once, logs it, and campaigns again. On SQLite there is one process,
which leads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from bot.runtime import Runtime
from bot.scheduling import jobs
from bot.sending.worker import DeliveryWorker
from reporting.clock import VIETNAM

log = logging.getLogger(__name__)

LOCK_KEY = 0x61677269  # "agri"


class Leadership:
    def __init__(self, engine: Engine, *, key: int = LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self._connection: Connection | None = None

    @property
    def needs_lock(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        if not self.needs_lock:
            return True
        if self._connection is None:
            self._connection = self.engine.connect()
        got = bool(self._connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        self._connection.commit()
        if not got:
            self._connection.close()
            self._connection = None
        return got

    def holds(self) -> bool:
        """Does this process still hold the lock (its connection alive, the lock granted to it)?"""
        if not self.needs_lock:
            return True
        if self._connection is None:
            return False
        try:
            held = self._connection.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                " AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1 AND granted"),
                {"hi": self.key >> 32, "lo": self.key & 0xFFFFFFFF}).scalar()
            self._connection.commit()
            return bool(held)
        except Exception:  # the connection is gone, and the lock with it
            return False

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self._connection.commit()
            except Exception:  # the connection is gone, and the lock with it
                log.warning("scheduler: leader lock connection already closed")
            finally:
                try:
                    self._connection.close()
                except Exception:
                    pass
                self._connection = None


class Scheduler:
    def __init__(self, runtime: Runtime, worker: DeliveryWorker, *, retry_seconds: float = 5.0,
                 lock_key: int = LOCK_KEY) -> None:
        """``worker`` sends the delivery queue; it runs only while this process leads."""
        self.runtime = runtime
        self.worker = worker
        self.leadership = Leadership(runtime.engine, key=lock_key)
        self.retry_seconds = retry_seconds
        self.is_leader = False
        self.aps: AsyncIOScheduler | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._campaign())

    async def _pause(self) -> bool:
        """Wait ``retry_seconds``; True when the scheduler is being stopped."""
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=self.retry_seconds)
        except TimeoutError:
            pass
        return self._stopping.is_set()

    async def _campaign(self) -> None:
        while not self._stopping.is_set():
            try:
                got = await asyncio.to_thread(self.leadership.try_acquire)
            except Exception:
                log.exception("scheduler: cannot reach the database for the leader lock")
                got = False
            if got:
                self._lead()
                while not await self._pause():
                    if not await asyncio.to_thread(self.leadership.holds):
                        await self._step_down()
                        break
                else:
                    return  # stopping: ``stop`` ends the jobs and the worker
            if await self._pause():
                return

    async def _step_down(self) -> None:
        """The lock is lost (its connection dropped): another process may lead now."""
        self.is_leader = False
        log.error("scheduler: lost the leader lock (its database connection dropped); "
                  "stopped the jobs and the delivery worker, campaigning again")
        if self.aps is not None:
            self.aps.shutdown(wait=False)
            self.aps = None
        await self.worker.stop()
        await asyncio.to_thread(self.leadership.release)

    def _job(self, fn: Callable[..., Any]) -> Callable[[], Any]:
        async def run() -> None:
            if not self.is_leader or not await asyncio.to_thread(self.leadership.holds):
                log.warning("scheduler: job %s not run: this process does not hold the leader lock", fn.__name__)
                return
            try:
                await asyncio.to_thread(fn, self.runtime)
            except Exception:
                log.exception("scheduled job %s failed", fn.__name__)

        return run

    def _lead(self) -> None:
        self.is_leader = True
        log.info("scheduler: this process is the leader")
        self.worker.start()
        self.aps = AsyncIOScheduler(timezone=VIETNAM)
        settings = self.runtime.settings
        self.aps.add_job(self._job(jobs.send_reminders), CronTrigger(hour=7, minute=0, timezone=VIETNAM),
                         id="reminders", replace_existing=True, coalesce=True, misfire_grace_time=3600)
        self.aps.add_job(self._job(jobs.send_digest), CronTrigger(day_of_week="mon", hour=7, minute=30,
                                                                  timezone=VIETNAM),
                         id="digest", replace_existing=True, coalesce=True, misfire_grace_time=3600)
        self.aps.add_job(self._job(jobs.escalate_handovers), IntervalTrigger(minutes=10), id="escalate",
                         replace_existing=True, coalesce=True)
        self.aps.add_job(self._job(jobs.send_seasonal_tips), CronTrigger(hour=8, minute=0, timezone=VIETNAM),
                         id="tips", replace_existing=True, coalesce=True, misfire_grace_time=3600)
        self.aps.add_job(self._job(jobs.housekeeping), CronTrigger(hour=3, minute=0, timezone=VIETNAM),
                         id="housekeeping", replace_existing=True, coalesce=True, misfire_grace_time=3600)
        self.aps.start()
        log.info("scheduler: jobs %s; hand-overs escalate after %s", [j.id for j in self.aps.get_jobs()],
                 timedelta(hours=settings.handover_escalate_hours))

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
        if self.aps is not None:
            self.aps.shutdown(wait=False)
            self.aps = None
        if self.is_leader:
            await self.worker.stop()
        await asyncio.to_thread(self.leadership.release)
        self.is_leader = False
