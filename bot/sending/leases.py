"""The queued messages this process is sending, and the heartbeat that keeps their leases.

A row in state "sending" belongs to the process that renews its ``claimed_at``; the delivery
worker queues again rows whose lease ran out (their process died). Every process that sends
(the leader's worker, and any process answering a chat) renews the rows it holds.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.sending import delivery
from bot.storage.db import unit_of_work, utcnow

log = logging.getLogger(__name__)


class Leases:
    def __init__(self, seconds: float = 60.0) -> None:
        self.seconds = seconds
        self._held: set[int] = set()
        self._task: asyncio.Task[None] | None = None

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    def hold(self, message_id: int) -> None:
        self._held.add(message_id)

    def release(self, message_id: int) -> None:
        self._held.discard(message_id)

    def held(self) -> list[int]:
        return sorted(self._held)

    def renew_now(self, sessions: sessionmaker[Session]) -> None:
        with unit_of_work(sessions) as session:
            delivery.renew(session, message_ids=self.held(), now=utcnow())

    def start(self, sessions: sessionmaker[Session]) -> None:
        """Start the heartbeat on the running loop (once per loop; a no-op if it runs)."""
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.get_running_loop().create_task(self._beat(sessions))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _beat(self, sessions: sessionmaker[Session]) -> None:
        every = max(0.2, self.seconds / 4)
        while True:
            await asyncio.sleep(every)
            if not self._held:
                continue
            try:
                await asyncio.to_thread(self.renew_now, sessions)
            except Exception as exc:  # the database may be down: try at the next beat
                log.warning("cannot renew the leases of messages being sent: %s", type(exc).__name__)
