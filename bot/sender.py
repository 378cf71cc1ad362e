"""The worker that drains the delivery queue through each channel's adapter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

from bot import delivery, outbox
from bot.conversation.types import Reply
from bot.runtime import Runtime
from bot.storage.db import unit_of_work, utcnow

log = logging.getLogger(__name__)

Outcome = Literal["sent", "retry", "failed", "skipped"]
Outlet = Callable[[str, list[Reply]], Awaitable[str]]  # returns an Outcome


def web_outlet(runtime: Runtime) -> Outlet:
    async def send(user_id: str, replies: list[Reply]) -> str:
        def push() -> None:
            with unit_of_work(runtime.sessions) as session:
                outbox.push(session, user_id=user_id, replies=replies, now=utcnow())

        await asyncio.to_thread(push)
        return "sent"

    return send


class DeliveryWorker:
    def __init__(self, runtime: Runtime, outlets: dict[str, Outlet], *, concurrency: int = 30,
                 idle_seconds: float = 1.0) -> None:
        self.runtime = runtime
        self.outlets = outlets
        self.concurrency = concurrency
        self.idle_seconds = idle_seconds
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        with unit_of_work(self.runtime.sessions) as session:
            reset = delivery.reset_in_flight(session)
        if reset:
            log.warning("delivery: %d messages left in flight by a stop are queued again", reset)
        self._stop.clear()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Finish the messages in flight, then stop (nothing is left half-sent)."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    def _claim(self) -> list[tuple[int, str, str, list[Reply]]]:
        with unit_of_work(self.runtime.sessions) as session:
            rows = delivery.claim(session, now=utcnow(), limit=self.concurrency)
            return [(r.id, r.channel, r.user_id, delivery.replies_of(r)) for r in rows]

    def _finish(self, message_id: int, outcome: str, error: str | None = None) -> None:
        with unit_of_work(self.runtime.sessions) as session:
            delivery.finish(session, message_id=message_id, state=outcome, now=utcnow(), error=error)

    async def _one(self, message_id: int, channel: str, user_id: str, replies: list[Reply]) -> None:
        outlet = self.outlets.get(channel)
        if outlet is None:
            await asyncio.to_thread(self._finish, message_id, "skipped", f"no outlet for {channel}")
            return
        try:
            outcome: str = await outlet(user_id, replies)
            error = None
        except Exception as exc:  # a channel error: try again later with backoff
            log.warning("delivery of message %d failed: %s", message_id, type(exc).__name__)
            outcome, error = "retry", str(exc)[:500]
        for attempt in range(20):  # the database may be down for a while: keep the outcome
            try:
                await asyncio.to_thread(self._finish, message_id, outcome, error)
                return
            except Exception:
                log.warning("delivery: cannot record message %d (%s); retrying", message_id, outcome)
                await asyncio.sleep(min(30.0, 0.5 * 2 ** attempt))
        log.error("delivery: message %d stays 'sending'; it is queued again at the next start", message_id)

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = await asyncio.to_thread(self._claim)
            except Exception:
                log.exception("delivery: cannot read the queue")
                batch = []
            if not batch:
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=self.idle_seconds)
                except TimeoutError:
                    pass
                continue
            await asyncio.gather(*(self._one(*item) for item in batch))

    async def drain(self, timeout: float = 60.0) -> None:
        """Wait until nothing due is pending (for tests and one-off commands)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            def pending() -> int:
                from sqlalchemy import func, select

                from bot.storage.models import OutgoingMessage

                with self.runtime.sessions() as session:
                    return int(session.scalar(select(func.count()).select_from(OutgoingMessage).where(
                        OutgoingMessage.state.in_(["pending", "sending"]),
                        OutgoingMessage.not_before <= utcnow())) or 0)

            if await asyncio.to_thread(pending) == 0:
                return
            await asyncio.sleep(0.2)
