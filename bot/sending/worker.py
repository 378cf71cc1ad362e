"""Sending queued messages through each channel's adapter, crash-safe (see ``bot.sending.delivery``).

The leader's ``DeliveryWorker`` drains the queue; a process answering a chat sends its own
replies at once with ``send_claimed``. Both go through ``Dispatch``: an outlet skips the calls
a resumed row made before, and marks each call on the wire before making it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Literal, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation.types import Reply
from bot.sending import delivery, web_outbox
from bot.sending.leases import Leases
from bot.storage.db import unit_of_work, utcnow
from bot.storage.models import OutgoingMessage

log = logging.getLogger(__name__)

Outcome = Literal["sent", "retry", "failed", "skipped", "hold"]


class Runtime(Protocol):
    """What sending needs of the process's runtime (``bot.runtime.Runtime`` has it)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def leases(self) -> Leases: ...

    @property
    def instance(self) -> int: ...

    def alive(self, candidates: Iterable[int] = ...) -> set[int]: ...


class Dispatch:
    """The progress of one queued row, for the outlet sending it (no row: marks do nothing)."""

    def __init__(self, runtime: Runtime | None = None, message_id: int | None = None, done: int = 0) -> None:
        self.runtime = runtime
        self.message_id = message_id
        self.done = done  # calls made before a crash, in order: skipped now
        self.part = 0  # the number of the next call
        self.uncertain = 0  # calls timed out since the last write (recorded with the next one)

    def skip(self) -> bool:
        """True when the next call was made before this row was resumed: the outlet skips it."""
        if self.part < self.done:
            self.part += 1
            return True
        return False

    def _write(self, change: Callable[..., None], **kwargs: object) -> Awaitable[None]:
        runtime, message_id = self.runtime, self.message_id

        def write() -> None:
            assert runtime is not None
            with unit_of_work(runtime.sessions) as session:
                change(session, message_id=message_id, **kwargs)

        return asyncio.to_thread(write)

    async def before(self) -> None:
        """The next call goes on the wire now (committed first, with the calls done before it)."""
        if self.message_id is not None:
            await self._write(delivery.dispatching, part=self.part, now=utcnow(), uncertain=self.uncertain)
            self.uncertain = 0

    async def after(self, *, uncertain: bool = False) -> None:
        """The call is done (or timed out: ``uncertain``, never made again). Written with the
        next call's mark or the row's outcome: a crash in between only counts it uncertain."""
        self.part += 1
        self.uncertain += 1 if uncertain else 0

    async def refused(self) -> None:
        """The platform refused the call before delivering it: it may be made again (written now,
        as a token refresh or a retry may follow)."""
        if self.message_id is not None:
            await self._write(delivery.undispatched, part=self.part, uncertain=self.uncertain)
            self.uncertain = 0


Outlet = Callable[[str, list[Reply], Dispatch], Awaitable[str]]  # returns an Outcome


def web_outlet(runtime: Runtime) -> Outlet:
    async def send(user_id: str, replies: list[Reply], dispatch: Dispatch) -> str:
        if dispatch.skip():
            return "sent"

        def push() -> None:
            with unit_of_work(runtime.sessions) as session:
                web_outbox.push(session, user_id=user_id, replies=replies, now=utcnow())
                if dispatch.message_id is not None:
                    delivery.dispatched(session, message_id=dispatch.message_id, part=0)

        await asyncio.to_thread(push)  # the messages and the mark in one transaction
        return "sent"

    return send


async def send_claimed(runtime: Runtime, outlet: Outlet, *, message_id: int, channel: str, user_id: str,
                       replies: list[Reply], done: int = 0) -> str:
    """Send one row this process holds (its lease), record the outcome, give the lease back."""
    try:
        dispatch = Dispatch(runtime, message_id, done)
        try:
            outcome: str = await outlet(user_id, replies, dispatch)
            error = None
        except Exception as exc:  # a channel error: try again later with backoff
            log.warning("delivery of %s message %d failed: %s", channel, message_id, type(exc).__name__)
            outcome, error = "retry", str(exc)[:500]
        await _record(runtime, message_id, outcome, error, dispatch)
        return outcome
    finally:
        runtime.leases.release(message_id)


async def _record(runtime: Runtime, message_id: int, outcome: str, error: str | None,
                  dispatch: Dispatch | None = None) -> None:
    def finish() -> None:
        with unit_of_work(runtime.sessions) as session:
            delivery.finish(session, message_id=message_id, state=outcome, now=utcnow(), error=error,
                            parts_done=dispatch.part if dispatch else 0,
                            uncertain=dispatch.uncertain if dispatch else 0)

    for attempt in range(20):  # the database may be down for a while: keep the outcome
        try:
            await asyncio.to_thread(finish)
            return
        except Exception:
            log.warning("delivery: cannot record message %d (%s); retrying", message_id, outcome)
            await asyncio.sleep(min(30.0, 0.5 * 2 ** attempt))
    log.error("delivery: message %d stays 'sending'; it is queued again when its lease runs out", message_id)


class DeliveryWorker:
    def __init__(self, runtime: Runtime, outlets: dict[str, Outlet], *, concurrency: int = 30,
                 idle_seconds: float = 1.0) -> None:
        self.runtime = runtime
        self.outlets = outlets
        self.concurrency = concurrency
        self.idle_seconds = idle_seconds
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._recovered_at = -1e9

    def start(self) -> None:
        self.runtime.leases.start(self.runtime.sessions)
        self._recover()
        self._stop.clear()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Finish the messages in flight, then stop (nothing is left half-sent)."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    def _recover(self) -> None:
        """Queue again the rows of processes that died while sending (their lease ran out)."""
        with unit_of_work(self.runtime.sessions) as session:
            alive = self.runtime.alive(delivery.owners(session))
            again, cut = delivery.recover(session, now=utcnow(), lease=self.runtime.leases.lease, alive=alive)
        if again:
            log.warning("delivery: %d messages of a stopped process queued again (%d calls cut off by the stop "
                        "are not repeated)", again, cut)

    def _claim(self) -> list[tuple[int, str, str, list[Reply], int]]:
        with unit_of_work(self.runtime.sessions) as session:
            rows = delivery.claim(session, now=utcnow(), limit=self.concurrency, owner=self.runtime.instance)
            claimed = [(r.id, r.channel, r.user_id, delivery.replies_of(r), r.parts_done) for r in rows]
        for message_id, *_ in claimed:
            self.runtime.leases.hold(message_id)
        return claimed

    async def _one(self, message_id: int, channel: str, user_id: str, replies: list[Reply], done: int) -> None:
        outlet = self.outlets.get(channel)
        if outlet is None:
            await _record(self.runtime, message_id, "skipped", f"no outlet for {channel}")
            self.runtime.leases.release(message_id)
            return
        await send_claimed(self.runtime, outlet, message_id=message_id, channel=channel, user_id=user_id,
                           replies=replies, done=done)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            if loop.time() - self._recovered_at > min(2.0, self.runtime.leases.seconds / 4):
                self._recovered_at = loop.time()
                try:
                    await asyncio.to_thread(self._recover)
                except Exception:
                    log.exception("delivery: cannot recover stale messages")
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
                with self.runtime.sessions() as session:
                    return int(session.scalar(select(func.count()).select_from(OutgoingMessage).where(
                        OutgoingMessage.state.in_(["pending", "sending"]),
                        OutgoingMessage.not_before <= utcnow())) or 0)

            if await asyncio.to_thread(pending) == 0:
                return
            await asyncio.sleep(0.2)
