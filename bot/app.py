"""The FastAPI application of ``agribot serve``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import __version__
from bot.channels.registry import Channels
from bot.channels.web import STATIC, Health
from bot.channels.zalo import ZaloChannel
from bot.conversation.clean import BadInput
from bot.dashboard import auth
from bot.dashboard.deps import NotLoggedIn, Refused
from bot.dashboard.pages import error_page
from bot.dashboard.router import dashboard_router
from bot.http.indicators_api import indicators_router
from bot.http.limits import BAD_REQUEST, RequestLimits
from bot.http.metrics import Metrics, RequestMetrics, metrics_router
from bot.http.security_headers import SecurityHeaders
from bot.receiving import inbox
from bot.receiving.worker import InboxWorker
from bot.runtime import DatabaseDown, Runtime, create_runtime
from bot.scheduling.scheduler import Scheduler
from bot.sending import delivery
from bot.sending.worker import DeliveryWorker
from bot.settings import Settings
from bot.storage.db import unit_of_work, utcnow

log = logging.getLogger(__name__)


@dataclass
class Wiring:
    """Everything ``agribot serve`` runs, built in one place."""

    runtime: Runtime  # database, content, router
    channels: Channels  # the enabled chat channels
    worker: DeliveryWorker  # sends the delivery queue through the channels (while this process leads)
    scheduler: Scheduler | None  # jobs and the worker, in the one leader process
    inbox: InboxWorker  # handles the stored webhook and polling updates


VALIDATION_MESSAGES = {  # pydantic's error types, as a person reads them (never the input)
    "missing": "Thiếu giá trị này.",
    "string_too_short": "Quá ngắn: cần ít nhất {min_length} ký tự.",
    "string_too_long": "Quá dài: tối đa {max_length} ký tự.",
    "int_parsing": "Phải là một số nguyên.",
    "int_type": "Phải là một số nguyên.",
    "float_parsing": "Phải là một số.",
    "greater_than_equal": "Phải lớn hơn hoặc bằng {ge}.",
    "less_than_equal": "Phải nhỏ hơn hoặc bằng {le}.",
    "json_invalid": "Nội dung không phải JSON hợp lệ.",
    "model_attributes_type": "Nội dung phải là một đối tượng JSON.",
    "dict_type": "Nội dung phải là một đối tượng JSON.",
    "string_type": "Phải là một chuỗi chữ.",
    "extra_forbidden": "Không nhận trường này.",
}


def vietnamese_error(error: Any) -> str:
    """One validation error in Vietnamese: what is wrong, never the value sent."""
    template = VALIDATION_MESSAGES.get(str(error.get("type")), "Giá trị không hợp lệ.")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return "Giá trị không hợp lệ."


def wire(settings: Settings, runtime: Runtime | None = None) -> Wiring:
    """The one place that wires: engine, sessions, content and router (``create_runtime``), the
    channels, the delivery worker, the scheduler and the inbox worker."""
    runtime = runtime or create_runtime(settings)
    channels = Channels(runtime, settings)
    worker = DeliveryWorker(runtime, channels.outlets())
    scheduler = Scheduler(runtime, worker) if settings.scheduler_enabled else None
    inbox_worker = InboxWorker(runtime, channels.inlets(), concurrency=settings.inbox_concurrency)
    return Wiring(runtime, channels, worker, scheduler, inbox_worker)


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """Build the app; the runtime (database, content, router) is created here unless given."""
    wiring = wire(settings, runtime)
    runtime, channels, scheduler, inbox_worker = wiring.runtime, wiring.channels, wiring.scheduler, wiring.inbox
    zalo = channels.get(ZaloChannel)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        password = settings.admin_password.get_secret_value() if settings.admin_password else None
        with unit_of_work(runtime.sessions) as session:
            generated = auth.ensure_admin(session, password=password, now=utcnow())
        if generated:
            log.warning("dashboard /admin: user 'admin', password '%s' (generated; set AGRIBOT_ADMIN_PASSWORD)",
                        generated)
        runtime.use_database_threads()
        runtime.leases.start(runtime.sessions)  # keeps the leases of the replies this process sends
        await channels.start()
        inbox_worker.start()
        if scheduler is not None:
            scheduler.start()
        log.info("agribot %s ready with %d cards", __version__, len(runtime.services.library.cards))
        try:
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            await inbox_worker.stop()
            await channels.stop()
            await runtime.leases.stop()
            runtime.close()

    app = FastAPI(title="agribot", version=__version__, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.inbox = inbox_worker
    app.state.scheduler = scheduler
    app.state.metrics = operations_metrics(runtime, scheduler)
    app.include_router(metrics_router())
    channels.include(app)  # the chat API and the webhooks; app.state.telegram, app.state.zalo…
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(indicators_router())

    @app.get("/healthz", response_model=Health)
    async def healthz() -> JSONResponse:
        db_ok = await run_in_threadpool(runtime.database_ok)
        zalo_state: Literal["ok", "needs_reauth"] | None = None
        if zalo is not None and db_ok:
            zalo_state = "needs_reauth" if await run_in_threadpool(zalo.needs_reauth) else "ok"
        body = Health(
            status="ok" if db_ok and zalo_state != "needs_reauth" else "degraded",
            database="ok" if db_ok else "down",
            cards=len(runtime.services.library.cards),
            zalo=zalo_state,
        )
        return JSONResponse(body.model_dump(), status_code=200 if db_ok else 503)

    app.include_router(dashboard_router())

    @app.exception_handler(NotLoggedIn)
    async def _login_first(request: Request, exc: NotLoggedIn) -> RedirectResponse:
        return RedirectResponse("/admin/login", status_code=303)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        return exc.response

    app.add_middleware(RequestLimits, max_body=settings.max_body_bytes,
                       larger={"/admin/baseline": settings.max_upload_bytes})
    app.add_middleware(SecurityHeaders)  # on the 413s and 400s of RequestLimits too
    app.add_middleware(RequestMetrics)  # outermost: counts every answer

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """A dashboard page answers a Vietnamese page; elsewhere the JSON ``detail``, in Vietnamese
        where it was Starlette's English phrase («Not Found»)."""
        if request.url.path.startswith("/admin"):
            return error_page(request, exc.status_code)
        detail = exc.detail
        if isinstance(detail, str) and detail in PHRASES:
            detail = PHRASES[detail]
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        """FastAPI's 422 saying where and what, without the ``input`` (nor ``ctx``): the request is
        never echoed (it may not even be encodable: a lone surrogate). A dashboard page answers a
        Vietnamese page."""
        if request.url.path.startswith("/admin"):
            return error_page(request, 422)
        def safe(text: object, limit: int) -> str:
            return str(text)[:limit].encode("utf-8", "replace").decode("utf-8")

        detail = [{"type": e.get("type"), "loc": [safe(part, 64) for part in e.get("loc", ())],
                   "msg": vietnamese_error(e)} for e in exc.errors()[:20]]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(BadInput)
    async def _bad_input(request: Request, exc: BadInput) -> JSONResponse:
        return JSONResponse({"detail": BAD_REQUEST}, status_code=400)

    @app.exception_handler(StatementError)
    async def _unstorable(request: Request, exc: StatementError) -> JSONResponse:
        """A value the database cannot store (a NUL on PostgreSQL, a lone surrogate) that no
        cleaning caught: a 400, logged, never a 500."""
        if isinstance(exc, DataError) or isinstance(exc.orig, UnicodeError | ValueError):
            log.warning("unstorable input on %s %s (%s)", request.method, request.url.path, type(exc.orig).__name__)
            return JSONResponse({"detail": BAD_REQUEST}, status_code=400)
        log.exception("database error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "Lỗi máy chủ, vui lòng thử lại sau."}, status_code=500)

    @app.exception_handler(DatabaseDown)
    @app.exception_handler(OperationalError)  # a page's own query, the database away
    @app.exception_handler(PoolTimeout)  # no connection came free in time
    async def _database_down(request: Request, exc: Exception) -> Response:
        log.error("database unavailable on %s %s", request.method, request.url.path)
        if request.url.path.startswith("/admin"):
            page = error_page(request, 503)
            page.headers["Retry-After"] = "30"
            return page
        return JSONResponse({"detail": "Hệ thống tạm thời chưa lưu được dữ liệu, bác thử lại sau ít phút."},
                            status_code=503, headers={"Retry-After": "30"})

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "Lỗi máy chủ, vui lòng thử lại sau."}, status_code=500)

    return app


PHRASES = {"Not Found": "Không tìm thấy", "Method Not Allowed": "Phương thức không được hỗ trợ",
           "Unauthorized": "Cần đăng nhập", "Forbidden": "Không có quyền truy cập"}


def operations_metrics(runtime: Runtime, scheduler: Scheduler | None) -> Metrics:
    """The gauges of ``/metrics`` (README «Operations»): inbox and delivery queue depth and age, leadership."""
    metrics = Metrics()

    def queue() -> dict[tuple[str, str], tuple[int, float]]:
        with runtime.sessions() as session:
            return delivery.depth(session, now=utcnow())

    metrics.gauge("agribot_delivery_queue_depth", "Messages in the delivery queue, by channel and state "
                  "(pending: waiting, sending: on the wire)", ["channel", "state"],
                  lambda: [(key, n) for key, (n, _age) in queue().items()])
    metrics.gauge("agribot_delivery_queue_oldest_age_seconds", "Age of the oldest message waiting or being "
                  "sent, by channel and state", ["channel", "state"],
                  lambda: [(key, age) for key, (_n, age) in queue().items()])
    def waiting() -> inbox.Depth:
        with runtime.sessions() as session:
            return inbox.depth(session, now=utcnow())

    metrics.gauge("agribot_inbox_depth", "Updates acknowledged to a platform and not yet handled", [],
                  lambda: [((), float(waiting().waiting))])
    metrics.gauge("agribot_inbox_oldest_age_seconds", "How long the oldest update not yet handled has waited", [],
                  lambda: [((), waiting().oldest_seconds)])
    metrics.gauge("agribot_scheduler_leader", "1 when this process is the scheduler's leader (runs the jobs and "
                  "the delivery worker), else 0", [],
                  lambda: [((), 1.0 if scheduler is not None and scheduler.is_leader else 0.0)])
    return metrics
