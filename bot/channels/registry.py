"""The channels of ``agribot serve``, built once from the settings by ``bot.app``.

A new channel is its adapter module here (a class that is a ``Channel`` and an ``Adapter``),
its fake under tests/fakes/, its tests, and one line in ``ADAPTERS``. The console is not
listed: only ``agribot chat`` opens it (``bot.channels.console``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, TypeVar

from fastapi import APIRouter, FastAPI

from bot.channels.base import Channel
from bot.channels.telegram import TelegramChannel
from bot.channels.web import WebChannel
from bot.channels.zalo import ZaloChannel
from bot.receiving.worker import Inlet
from bot.runtime import Runtime
from bot.sending.worker import Outlet
from bot.settings import Settings

C = TypeVar("C")


class Adapter(Protocol):
    """A channel's class: when the settings turn it on, its routes, and how it is built."""

    name: str

    def enabled(self, settings: Settings, /) -> bool: ...

    def router(self) -> APIRouter: ...

    def __call__(self, runtime: Runtime, settings: Settings, /) -> Channel: ...


# Every channel the service can run, in the order they start; one line each.
ADAPTERS: tuple[Adapter, ...] = (
    WebChannel,  # always
    TelegramChannel,  # TELEGRAM_BOT_TOKEN
    ZaloChannel,  # ZALO_APP_ID and ZALO_OA_SECRET_KEY
)


class Channels:
    """The enabled channels, each built once."""

    def __init__(self, runtime: Runtime, settings: Settings, adapters: tuple[Adapter, ...] = ADAPTERS) -> None:
        self.adapters = adapters
        self._on = {a.name: a(runtime, settings) for a in adapters if a.enabled(settings)}

    def __iter__(self) -> Iterator[Channel]:
        return iter(self._on.values())

    def get(self, kind: type[C]) -> C | None:
        """The channel of that adapter class, if it is enabled."""
        return next((c for c in self._on.values() if isinstance(c, kind)), None)

    def outlets(self) -> dict[str, Outlet]:
        """For the delivery queue: channel name → how a queued message is sent there."""
        return {name: channel.deliver for name, channel in self._on.items()}

    def inlets(self) -> dict[str, Inlet]:
        """For the inbox: channel name → how a stored update is handled (channels with an inbox)."""
        return {name: inlet for name, channel in self._on.items()
                if (inlet := getattr(channel, "inlet", None)) is not None}

    def include(self, app: FastAPI) -> None:
        """Every adapter's routes (a disabled channel's webhook answers 404) and
        ``app.state.<name>``, the channel the routes use (None when disabled)."""
        for adapter in self.adapters:
            setattr(app.state, adapter.name, self._on.get(adapter.name))
            app.include_router(adapter.router())

    async def start(self) -> None:
        for channel in self:
            await channel.start()

    async def start_sending(self) -> None:
        """Only what sending needs (``agribot worker``): no webhook registered, no polling."""
        for channel in self:
            start = getattr(channel, "start_sending", None)
            if start is not None:
                await start()

    async def stop(self) -> None:
        for channel in self:
            await channel.stop()
