"""Sending within Telegram's limits: about 30 messages/s overall and 1/s in one chat.

A python-telegram-bot ``BaseRateLimiter``: every Bot API call passes through it. On 429 it
waits ``retry_after`` (holding back every other send meanwhile) and retries that call once;
on a network error where nothing reached Telegram it retries with backoff. A timed-out call
is not retried, because Telegram may already have delivered it (no duplicates).

``rate_limit_args`` may carry an "on the wire" callback: it runs once the request has been
written (``bot.sending.on_wire``: after the slot, the connection pool, the connect and the
write), so the delivery queue records the call there: a crash after it never makes the call
twice, a crash before it makes it again. A call that failed before its request was written
(waiting for a connection, connecting, writing) was not sent: it is tried again like a network
error; one that failed after (a read timeout, a reset while reading) is never tried again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

from bot.sending import on_wire

log = logging.getLogger(__name__)

JSON = bool | dict[str, Any] | list[dict[str, Any]]
# Calls that put a message in a chat (and so count against the per-chat limit).
CHAT_SENDS = ("send", "edit", "copy", "forward")
UNLIMITED = {"getUpdates", "getMe", "answerCallbackQuery", "setWebhook", "deleteWebhook",
             "setMyCommands", "getWebhookInfo", "sendChatAction", "close", "logOut"}
MAX_CHATS = 10_000
OnWire = on_wire.OnWire
NETWORK_RETRIES = 3


class SendLimiter(BaseRateLimiter[OnWire]):
    def __init__(self, *, overall_per_second: float = 30.0, per_chat_per_second: float = 1.0,
                 backoff_seconds: float = 0.5) -> None:
        # a capacity of one: sends are spaced evenly, never a burst that a sliding window would refuse
        self._overall = AsyncLimiter(1, 1 / overall_per_second)
        self._per_chat_rate = per_chat_per_second
        self._chats: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._open = asyncio.Event()
        self._open.set()
        self._backoff = backoff_seconds
        self.retries_after_429 = 0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _chat_limiter(self, chat_id: object) -> AsyncLimiter:
        key = str(chat_id)
        limiter = self._chats.get(key)
        if limiter is None:
            # a capacity of one message: sends to a chat are spaced, never bursty
            limiter = AsyncLimiter(1, 1 / self._per_chat_rate)
            self._chats[key] = limiter
            while len(self._chats) > MAX_CHATS:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(key)
        return limiter

    async def _once(self, callback: Callable[..., Coroutine[Any, Any, JSON]], args: Any,
                    kwargs: dict[str, Any], endpoint: str, data: dict[str, Any], on_wire: OnWire | None) -> JSON:
        await self._open.wait()
        if endpoint in UNLIMITED:
            return await callback(*args, **kwargs)
        chat_id = data.get("chat_id")
        if chat_id is not None and endpoint.startswith(CHAT_SENDS):
            async with self._chat_limiter(chat_id), self._overall:
                return await self._call(callback, args, kwargs, on_wire)
        async with self._overall:
            return await self._call(callback, args, kwargs, on_wire)

    @staticmethod
    async def _call(callback: Callable[..., Coroutine[Any, Any, JSON]], args: Any, kwargs: dict[str, Any],
                    mark: OnWire | None) -> JSON:
        token = on_wire.CURRENT.set(mark)  # run by the transport once the request is written
        try:
            return await callback(*args, **kwargs)
        finally:
            on_wire.CURRENT.reset(token)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: OnWire | None,
    ) -> JSON:
        network_tries = 0
        retried_429 = False
        written = False  # the request was wholly written once: Telegram may have acted on it

        async def mark() -> None:
            nonlocal written
            written = True
            if rate_limit_args is not None:
                await rate_limit_args()

        while True:
            try:
                return await self._once(callback, args, kwargs, endpoint, data, mark)
            except RetryAfter as exc:
                if retried_429:
                    raise
                retried_429 = True
                self.retries_after_429 += 1
                wait = exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") \
                    else float(exc.retry_after)
                log.warning("telegram 429 on %s: waiting %.1f s, then one retry", endpoint, wait)
                self._open.clear()
                try:
                    await asyncio.sleep(wait)
                finally:
                    self._open.set()
            except TimedOut as exc:
                if written or not on_wire.not_sent(exc):
                    raise  # may have been delivered: never send it again
                network_tries += 1  # timed out before its request was written: not sent, so tried again
                if network_tries > NETWORK_RETRIES:
                    raise NetworkError("no connection to Telegram") from exc
                await asyncio.sleep(self._backoff * 2 ** (network_tries - 1))
            except NetworkError as exc:
                if written and on_wire.cut_off(exc):  # e.g. a reset while reading the answer
                    raise TimedOut("the request was sent; its answer was lost") from exc
                network_tries += 1
                if network_tries > NETWORK_RETRIES or endpoint == "getUpdates":
                    raise
                await asyncio.sleep(self._backoff * 2 ** (network_tries - 1))
