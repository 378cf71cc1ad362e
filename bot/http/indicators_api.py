"""``GET /api/indicators`` (JSON), ``/api/indicators.xlsx`` and ``.csv``, and ``/files/<name>``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.runtime import Runtime
from bot.services import files
from reporting.completeness import completeness
from reporting.exports import to_csv, to_json, to_xlsx
from reporting.indicators import IndicatorReport, area_communes, compute
from reporting.periods import Period, parse
from reporting.plans import load_plans

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PlanId = Annotated[str, Query(min_length=1, max_length=64, description="plan id, e.g. ls-ktth-nn-2030")]
PeriodId = Annotated[str, Query(min_length=4, max_length=8, description="2026, 2026S1, 2026Q3 or 202611")]
CommuneCode = Annotated[int | None, Query(ge=1, le=10_000_000)]


def _inputs(plan: str, period: str, commune: int | None) -> tuple[object, Period]:
    found = load_plans().get(plan)
    if found is None:
        raise HTTPException(404, f"Không có kế hoạch «{plan}». Có: {', '.join(sorted(load_plans()))}")
    try:
        parsed = parse(period)
    except ValueError as exc:
        raise HTTPException(422, f"Kỳ «{period}» không hợp lệ: dùng 2026, 2026S1, 2026Q3 hoặc 202611") from exc
    if commune is not None and not area_communes(found, commune):
        raise HTTPException(404, f"Xã mã {commune} không thuộc địa bàn của kế hoạch {plan}")
    return found, parsed


def _build(runtime: Runtime, plan: str, period: str, commune: int | None) -> tuple[IndicatorReport, list]:
    found, parsed = _inputs(plan, period, commune)
    with runtime.sessions() as session:
        report = compute(session, plan=found, period=parsed, commune_code=commune)  # type: ignore[arg-type]
        rates = completeness(session, plan=found, period=parsed, commune_code=commune)  # type: ignore[arg-type]
    return report, rates


def indicators_router() -> APIRouter:
    router = APIRouter()

    @router.get("/api/indicators")
    async def indicators(request: Request, plan: PlanId, period: PeriodId, commune: CommuneCode = None) -> JSONResponse:
        report, rates = await run_in_threadpool(_build, request.app.state.runtime, plan, period, commune)
        return JSONResponse(to_json(report, rates))

    @router.get("/api/indicators.xlsx")
    async def indicators_xlsx(
        request: Request, plan: PlanId, period: PeriodId, commune: CommuneCode = None
    ) -> Response:
        report, rates = await run_in_threadpool(_build, request.app.state.runtime, plan, period, commune)
        data = await run_in_threadpool(to_xlsx, report, rates)
        name = f"chi-tieu-{plan}-{period}{'-' + str(commune) if commune else ''}.xlsx"
        return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @router.get("/api/indicators.csv")
    async def indicators_csv(request: Request, plan: PlanId, period: PeriodId, commune: CommuneCode = None) -> Response:
        report, _ = await run_in_threadpool(_build, request.app.state.runtime, plan, period, commune)
        name = f"chi-tieu-{plan}-{period}.csv"
        return Response(to_csv(report).encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @router.get("/files/{name}")
    async def generated_file(request: Request, name: str) -> FileResponse:
        runtime: Runtime = request.app.state.runtime
        path = files.resolve(runtime.settings.files_dir, name)
        if path is None:
            raise HTTPException(404, "Không tìm thấy tệp")
        return FileResponse(path, filename=name)

    return router
