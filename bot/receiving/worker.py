"""Draining the inbox: each row to its channel's inlet, a user's rows in order, users in parallel.

``agribot serve`` runs one ``InboxWorker``; ``agribot worker`` runs more in other processes
(PostgreSQL). An inlet parses the stored body with the channel's own parser and hands the
message to ``bot.channels.inbound.receive`` (handled once per delivery id, the replies sent at
once); the row is done when that returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.receiving import inbox
from bot.runtime import Runtime
from bot.storage.db import unit_of_work, utcnow

log = logging.getLogger(__name__)

Inlet = Callable[[str], Awaitable[None]]  # handles one stored update body


class InboxWorker:
    def __init__(self, runtime: Runtime, inlets: dict[str, Inlet], *, concurrency: int = 16,
                 idle_seconds: float = 0.5) -> None:
        self.runtime = runtime
        self.inlets = inlets
        self.concurrency = concurrency
        self.idle_seconds = idle_seconds
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._checked_at = -1e9

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Finish the updates being handled, then stop (the rest wait in the inbox)."""
        self._stop.set()
        self.runtime.inbox_arrived.set()
        if self._task is not None:
            await self._task
            self._task = None

    @property
    def _skip_locked(self) -> bool:
        return self.runtime.engine.dialect.name == "postgresql"

    def _claim(self, limit: int) -> list[inbox.Claimed]:
        with unit_of_work(self.runtime.sessions) as session:
            return inbox.claim(session, owner=self.runtime.instance, now=utcnow(), limit=limit,
                               skip_locked=self._skip_locked)

    def _housekeeping(self) -> None:
        """Take back the rows of processes that died; keep this process's leases."""
        lease = self.runtime.leases.lease
        with unit_of_work(self.runtime.sessions) as session:
            inbox.renew(session, owner=self.runtime.instance, now=utcnow())
            alive = self.runtime.alive(inbox.owners(session))
            again = inbox.recover(session, now=utcnow(), lease=lease, alive=alive)
        if again:
            log.warning("inbox: %d updates of a stopped process are handled again", again)

    def _finish(self, row: inbox.Claimed, error: str | None) -> None:
        with unit_of_work(self.runtime.sessions) as session:
            if error is None:
                inbox.done(session, row_id=row.id, owner=self.runtime.instance, now=utcnow())
            else:
                inbox.failed(session, row_id=row.id, owner=self.runtime.instance, error=error)

    async def _handle(self, row: inbox.Claimed) -> None:
        inlet = self.inlets.get(row.channel)
        error: str | None = None
        try:
            if inlet is None:
                log.warning("inbox: no inlet for %s in this process", row.channel)
                error = f"no inlet for {row.channel}"
            else:
                await inlet(row.body)
        except Exception as exc:
            log.exception("inbox: a %s update failed (attempt %d)", row.channel, row.attempts)
            error = type(exc).__name__
        for attempt in range(20):  # the database may be down for a while: keep the outcome
            try:
                await asyncio.to_thread(self._finish, row, error)
                break
            except Exception:
                log.warning("inbox: cannot record update %d; retrying", row.id)
                await asyncio.sleep(min(30.0, 0.5 * 2 ** attempt))
        self.runtime.inbox_arrived.set()  # the user's next update may be claimed now

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            if loop.time() - self._checked_at > min(2.0, self.runtime.leases.seconds / 4):
                self._checked_at = loop.time()
                try:
                    await asyncio.to_thread(self._housekeeping)
                except Exception as exc:
                    log.warning("inbox: cannot recover stale updates: %s", type(exc).__name__)
            free = self.concurrency - len(self._running)
            batch: list[inbox.Claimed] = []
            self.runtime.inbox_arrived.clear()
            if free > 0:
                try:
                    batch = await asyncio.to_thread(self._claim, free)
                except Exception as exc:
                    log.warning("inbox: cannot read the inbox: %s", type(exc).__name__)
            for row in batch:
                task = asyncio.create_task(self._handle(row))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
            if not batch:
                try:
                    await asyncio.wait_for(self.runtime.inbox_arrived.wait(), timeout=self.idle_seconds)
                except TimeoutError:
                    pass
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def drain(self, timeout: float = 60.0) -> None:
        """Wait until nothing waits in the inbox (for tests and one-off commands)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if (await asyncio.to_thread(depth, self.runtime)).waiting == 0:
                return
            await asyncio.sleep(0.1)


def depth(runtime: Runtime) -> inbox.Depth:
    """The inbox's depth and the age of its oldest row (what a drain waits on; /metrics reads the same)."""
    with runtime.sessions() as session:
        return inbox.depth(session, now=utcnow())
