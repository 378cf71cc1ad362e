"""The on-track page: per plan, each indicator's values over the years against the path to its
target (a line chart), every commune against the path (a chart and a list that sorts and
filters by former district and status), and how each number is made."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from bot.dashboard.deps import AccountDep, OfficialPageDep, RuntimeDep
from bot.dashboard.pages import chosen_period, plans_for, render
from reporting import areas, charts
from reporting.indicators import area_communes
from reporting.periods import Period, parse
from reporting.plans import Plan
from reporting.progress import CommuneStanding, Tracked, figure, fraction_text, source_text, target_gap_text, track_plan

router = APIRouter()

SORTS = {"value_desc": "Giá trị cao → thấp", "value_asc": "Giá trị thấp → cao", "name": "Tên xã (A → Z)",
         "district": "Huyện cũ, rồi tên xã"}
COMMUNE_STATUSES = {"behind": "Dưới lộ trình", "on_track": "Đúng tiến độ", "ahead": "Trên lộ trình",
                    "reached": "Đã đạt mục tiêu", "no_data": "Chưa có số liệu",
                    "no_path": "Có số liệu (không có lộ trình)"}
CHART_HEADERS = {"Cache-Control": "private, no-store"}


def _sorted(rows: list[CommuneStanding], sort: str) -> list[CommuneStanding]:
    if sort == "value_asc":
        return sorted(rows, key=lambda s: (s.value is None, s.value or 0.0, areas.fold(s.name)))
    if sort == "name":
        return sorted(rows, key=lambda s: areas.fold(s.name))
    if sort == "district":
        return sorted(rows, key=lambda s: (areas.fold(s.district or "~"), areas.fold(s.name)))
    return rows  # already highest first, communes without a value last


def _districts(plan: Plan) -> dict[int, str]:
    names = areas.former_districts()
    return {c.code: names[c.code] for c in area_communes(plan) if c.code in names}


@router.get("/progress")
def progress_page(request: Request, account: AccountDep, runtime: RuntimeDep, plan: str | None = None,
                  period: str | None = None, indicator: str | None = None,
                  district: Annotated[str | None, Query(max_length=80)] = None,
                  status: Annotated[str | None, Query(max_length=20)] = None,
                  sort: Annotated[str, Query(max_length=20)] = "value_desc") -> HTMLResponse:
    plans = plans_for(account, runtime)
    if not plans:
        return render(request, "progress.html", account, plans=[], tracked=[])
    chosen = next((p for p in plans if p.id == plan), plans[0])
    period_obj, options = chosen_period(chosen, period)
    with runtime.sessions() as session:  # a commune officer: their commune
        tracked = track_plan(session, chosen, period_obj, commune_code=account.scope.commune_code)
    with_communes = [t for t in tracked if t.result.definition.numerator is not None and t.result.communes_total > 1]
    listed = next((t for t in with_communes if t.result.id == indicator), None) or next(
        (t for t in with_communes if t.result.communes_reporting), None) or next(iter(with_communes), None)
    districts = _districts(chosen)
    rows: list[CommuneStanding] = []
    if listed is not None:
        rows = listed.standings(districts)
        if district:
            rows = [r for r in rows if r.district == district]
        if status in COMMUNE_STATUSES:
            rows = [r for r in rows if r.status == status]
        rows = _sorted(rows, sort if sort in SORTS else "value_desc")
    return render(request, "progress.html", account, plans=plans, plan=chosen, period=period_obj,
                  period_options=options, tracked=tracked, with_communes=with_communes, listed=listed, rows=rows,
                  district_names=sorted(set(districts.values()), key=areas.fold), district=district,
                  status=status, sort=sort if sort in SORTS else "value_desc", sorts=SORTS,
                  commune_statuses=COMMUNE_STATUSES, figure=figure, fraction_text=fraction_text,
                  source_text=source_text, target_gap_text=target_gap_text,
                  # a commune officer: the value is the commune's, the status and the path the province's
                  commune=areas.commune(account.scope.commune_code) if account.scope.commune_code else None)


def _one(account: AccountDep, runtime: RuntimeDep, plan: str, period: str, indicator: str
         ) -> tuple[Tracked | None, Period | None]:
    chosen = next((p for p in plans_for(account) if p.id == plan), None)
    if chosen is None or not any(t.id == indicator for t in chosen.indicators):
        return None, None
    try:
        period_obj = parse(period)
    except ValueError:
        return None, None
    with runtime.sessions() as session:  # a commune officer: their commune
        tracked = track_plan(session, chosen, period_obj, commune_code=account.scope.commune_code)
    return next((t for t in tracked if t.result.id == indicator), None), period_obj


@router.get("/progress/line.png")
def line_chart(account: AccountDep, runtime: RuntimeDep, plan: Annotated[str, Query(max_length=64)],
               period: Annotated[str, Query(max_length=8)], indicator: Annotated[str, Query(max_length=64)]
               ) -> Response:
    tracked, _ = _one(account, runtime, plan, period, indicator)
    if tracked is None:
        return Response(status_code=404)
    return Response(charts.progress(tracked), media_type="image/png", headers=CHART_HEADERS)


@router.get("/progress/communes.png")
def commune_chart(account: OfficialPageDep, runtime: RuntimeDep, plan: Annotated[str, Query(max_length=64)],
                  period: Annotated[str, Query(max_length=8)], indicator: Annotated[str, Query(max_length=64)]
                  ) -> Response:
    tracked, _ = _one(account, runtime, plan, period, indicator)
    if tracked is None:
        return Response(status_code=404)
    return Response(charts.by_commune(tracked.result, path_now=tracked.commune_path), media_type="image/png",
                    headers=CHART_HEADERS)
