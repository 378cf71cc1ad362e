"""``GET /api/indicators`` (JSON), ``/api/indicators.xlsx``, ``.csv`` and ``.docx`` (the report
document), and ``/files/<name>``.

All need a dashboard session or an API token (``bot.http.access``). With
``AGRIBOT_PUBLISH_PROVINCE_FIGURES`` anyone reads the JSON's province-level figures; the unit
lists (figures by commune, who has not reported) never leave without a login."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.channels import web_identity
from bot.http.access import Reader, reader
from bot.runtime import Runtime
from bot.services import files
from bot.storage.db import utcnow
from reporting.completeness import completeness
from reporting.exports import Progress, progress_by_indicator, to_csv, to_json, to_xlsx
from reporting.indicators import IndicatorReport, area_communes, compute
from reporting.periods import Period, parse
from reporting.plans import load_plans
from reporting.progress import track_plan, with_assessments
from reporting.report_document import to_docx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PlanId = Annotated[str, Query(min_length=1, max_length=64, description="plan id, e.g. ls-ktth-nn-2030")]
PeriodId = Annotated[str, Query(min_length=4, max_length=8, description="2026, 2026S1, 2026Q3 or 202611")]
CommuneCode = Annotated[int | None, Query(ge=1, le=10_000_000)]
MIN_YEAR, MAX_YEAR = 2000, 2100  # «0000» has no calendar date; «9999» no plan
NEED_LOGIN = "Cần đăng nhập bảng điều khiển hoặc mã API (Authorization: Bearer …)."
NOT_YOURS = "Mã API hoặc tài khoản này không đọc được kế hoạch của tỉnh khác."
DENIED: dict[int | str, dict[str, Any]] = {
    401: {"description": "no dashboard session and no valid API token"},
    403: {"description": "a plan of another province"},
}


def _need_login() -> HTTPException:
    return HTTPException(401, NEED_LOGIN, headers={"WWW-Authenticate": "Bearer"})


def _province_only(data: dict) -> dict:
    """The JSON without its unit lists: no figures by commune, no list of who has not reported."""
    return {**data, "indicators": [{k: v for k, v in i.items() if k != "by_commune"} for i in data["indicators"]],
            "completeness": [{k: v for k, v in c.items() if k != "missing"} for c in data["completeness"]]}


def _inputs(plan: str, period: str, commune: int | None) -> tuple[object, Period]:
    found = load_plans().get(plan)
    if found is None:
        raise HTTPException(404, f"Không có kế hoạch này. Có: {', '.join(sorted(load_plans()))}")
    try:
        parsed = parse(period)
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise ValueError(period)
    except ValueError as exc:
        raise HTTPException(422, "Kỳ không hợp lệ: dùng 2026, 2026S1, 2026Q3 hoặc 202611") from exc
    if commune is not None and not area_communes(found, commune):
        raise HTTPException(404, "Xã này không thuộc địa bàn của kế hoạch")
    return found, parsed


def _build(runtime: Runtime, plan: str, period: str, commune: int | None,
           who: Reader | None) -> tuple[IndicatorReport, list]:
    report, rates, _ = _build_with_progress(runtime, plan, period, commune, who, progress=False)
    return report, rates


def _build_with_progress(runtime: Runtime, plan: str, period: str, commune: int | None, who: Reader | None, *,
                         progress: bool = True) -> tuple[IndicatorReport, list, Progress | None]:
    """The figures, completeness and (for the whole province, when asked) the on-track assessment."""
    found, parsed = _inputs(plan, period, commune)
    if who is not None and not who.reads(found.province_code):  # type: ignore[attr-defined]
        raise HTTPException(403, NOT_YOURS)
    with runtime.sessions() as session:
        report = compute(session, plan=found, period=parsed, commune_code=commune)  # type: ignore[arg-type]
        rates = completeness(session, plan=found, period=parsed, commune_code=commune)  # type: ignore[arg-type]
        assessed = (progress_by_indicator(session, found, parsed)  # type: ignore[arg-type]
                    if progress and commune is None else None)
    return report, rates, assessed


def _build_json(runtime: Runtime, plan: str, period: str, commune: int | None, who: Reader | None) -> dict:
    """The JSON, each indicator with its ``assessment`` on the path to the target (the province's
    status even when a commune is asked: the path is the province's)."""
    found, parsed = _inputs(plan, period, commune)
    if who is not None and not who.reads(found.province_code):  # type: ignore[attr-defined]
        raise HTTPException(403, NOT_YOURS)
    with runtime.sessions() as session:
        tracked = track_plan(session, found, parsed, commune_code=commune)  # type: ignore[arg-type]
        rates = completeness(session, plan=found, period=parsed, commune_code=commune)  # type: ignore[arg-type]
    report = IndicatorReport(found, parsed, commune, [t.result for t in tracked])  # type: ignore[arg-type]
    return with_assessments(to_json(report, rates), tracked)


def indicators_router() -> APIRouter:
    router = APIRouter()

    async def _reader(request: Request) -> Reader:
        who = await run_in_threadpool(reader, request, request.app.state.runtime)
        if who is None:
            raise _need_login()
        return who

    @router.get("/api/indicators", responses=DENIED)
    async def indicators(request: Request, plan: PlanId, period: PeriodId, commune: CommuneCode = None) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        who = await run_in_threadpool(reader, request, runtime)
        if who is None and not (runtime.settings.publish_province_figures and commune is None):
            raise _need_login()
        data = await run_in_threadpool(_build_json, runtime, plan, period, commune, who)
        return JSONResponse(data if who is not None else _province_only(data))

    @router.get("/api/indicators.xlsx", responses=DENIED)
    async def indicators_xlsx(
        request: Request, plan: PlanId, period: PeriodId, commune: CommuneCode = None
    ) -> Response:
        who = await _reader(request)
        runtime: Runtime = request.app.state.runtime
        report, rates, progress = await run_in_threadpool(_build_with_progress, runtime, plan, period, commune, who)
        data = await run_in_threadpool(partial(to_xlsx, report, rates, agency=runtime.settings.agency_name,
                                               progress=progress))
        name = f"chi-tieu-{plan}-{period}{'-' + str(commune) if commune else ''}.xlsx"
        return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @router.get("/api/indicators.docx", responses=DENIED)
    async def indicators_docx(request: Request, plan: PlanId, period: PeriodId) -> Response:
        """The report document for the provincial People's Committee (the whole plan area)."""
        who = await _reader(request)
        runtime: Runtime = request.app.state.runtime
        report, rates, progress = await run_in_threadpool(_build_with_progress, runtime, plan, period, None, who)
        data = await run_in_threadpool(partial(to_docx, report, rates, agency=runtime.settings.agency_name,
                                               progress=progress))
        name = f"bao-cao-{plan}-{period}.docx"
        return Response(data, media_type=DOCX, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @router.get("/api/indicators.csv", responses=DENIED)
    async def indicators_csv(request: Request, plan: PlanId, period: PeriodId, commune: CommuneCode = None) -> Response:
        who = await _reader(request)
        report, _ = await run_in_threadpool(_build, request.app.state.runtime, plan, period, commune, who)
        name = f"chi-tieu-{plan}-{period}.csv"
        return Response(to_csv(report).encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @router.get("/files/{name}", responses={**DENIED, 404: {"description": "no such file"}})
    async def generated_file(request: Request, name: str,
                             key: Annotated[str | None, Query(max_length=64)] = None) -> FileResponse:
        """A chart or workbook: for a dashboard user or API token, the web chat browser it was
        made for, or a link key (links sent through Zalo) until it expires."""
        runtime: Runtime = request.app.state.runtime
        path = files.resolve(runtime.settings.files_dir, name)
        if path is None:
            raise HTTPException(404, "Không tìm thấy tệp")
        web_user = web_identity.current_user(request)
        owner = f"{web_identity.CHANNEL}:{web_user}" if web_user else None
        if not files.may_fetch(path, user=owner, key=key, now=utcnow()) and \
                await run_in_threadpool(reader, request, runtime) is None:
            raise _need_login()
        return FileResponse(path, filename=name, headers={"Cache-Control": "private, no-store"})

    return router
