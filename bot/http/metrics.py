"""``GET /metrics`` in the Prometheus text format (prometheus-client).

Counters live in ``bot.telemetry`` (counted where things happen); gauges are read when Prometheus
scrapes, from callbacks registered on the app's ``Metrics`` (``app.state.metrics``)::

    app.state.metrics.gauge("agribot_inbox_depth", "Updates waiting in the inbox", ["platform"],
                            lambda: [((platform,), n) for platform, n in count_inbox()])

A callback returns (label values, value) pairs; one that fails (the database is down) is left
out of that scrape and logged. ``RequestMetrics`` counts requests by route template and status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import telemetry

log = logging.getLogger(__name__)

Samples = Iterable[tuple[Sequence[str], float]]


@dataclass(frozen=True)
class _Gauge:
    name: str
    documentation: str
    labels: Sequence[str]
    read: Callable[[], Samples]


class Metrics(Collector):
    """The app's gauges, read at scrape time, and the rendering of every metric."""

    def __init__(self) -> None:
        self._gauges: list[_Gauge] = []
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def gauge(self, name: str, documentation: str, labels: Sequence[str], read: Callable[[], Samples]) -> None:
        """Add a gauge whose samples ``read()`` returns at each scrape."""
        if any(g.name == name for g in self._gauges):
            raise ValueError(f"gauge {name} registered twice")
        self._gauges.append(_Gauge(name, documentation, tuple(labels), read))

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for gauge in self._gauges:
            family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=list(gauge.labels))
            try:
                for values, value in gauge.read():
                    family.add_metric([str(v) for v in values], float(value))
            except Exception as exc:
                log.warning("metrics: gauge %s not read (%s)", gauge.name, type(exc).__name__)
                continue
            yield family

    def describe(self) -> list[GaugeMetricFamily]:
        return []

    def render(self) -> bytes:
        return generate_latest(telemetry.REGISTRY) + generate_latest(self.registry)


def metrics_router() -> APIRouter:
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        body = await run_in_threadpool(request.app.state.metrics.render)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router


class RequestMetrics:
    """ASGI middleware: ``agribot_http_requests_total{method, route, status}``; the route is the
    template (``/files/{name}``), ``unmatched`` for a path no route has, so labels stay few."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            telemetry.HTTP_REQUESTS.labels(method, _template(scope), str(status)).inc()


_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


def _template(scope: Scope) -> str:
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return str(route.path)
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", ()):
        match, _ = candidate.matches({**scope, "type": "http"})
        if match == Match.FULL:
            return str(getattr(candidate, "path", "unmatched"))
    return "unmatched"
