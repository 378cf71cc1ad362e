"""The indicators page (the dashboard's home) and its charts by commune."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from bot.conversation import ids
from bot.dashboard.deps import AccountDep, OfficialPageDep, RuntimeDep
from bot.dashboard.pages import chosen_period, plans_for, render
from reporting import areas, charts
from reporting.completeness import completeness
from reporting.exports import STATUS, value_text
from reporting.indicators import IndicatorReport
from reporting.periods import parse
from reporting.progress import figure, fraction_text, source_text, target_gap_text, track_plan

router = APIRouter()


@router.get("")
def indicators_page(request: Request, account: AccountDep, runtime: RuntimeDep, plan: str | None = None,
                    period: str | None = None,
                    commune_code: Annotated[str | None, Query(alias="commune")] = None) -> HTMLResponse:
    commune = account.scope.commune_filter(ids.number(commune_code))  # a commune officer: their commune
    plans = plans_for(account, runtime)
    if not plans:
        return render(request, "indicators.html", account, plans=[], report=None)
    chosen = next((p for p in plans if p.id == plan), plans[0])
    period_obj, options = chosen_period(chosen, period)
    with runtime.sessions() as session:
        tracked = track_plan(session, chosen, period_obj, commune_code=commune)
        rates = completeness(session, plan=chosen, period=period_obj, commune_code=commune)
    report = IndicatorReport(chosen, period_obj, commune, [t.result for t in tracked])
    communes = account.scope.communes(c for c in areas.communes_of(chosen.province_code)
                                      if chosen.former_province_code is None
                                      or chosen.former_province_code in c.former_province_codes)
    return render(request, "indicators.html", account, plans=plans, plan=chosen, period=period_obj,
                  period_options=options, report=report, rates=rates, commune=commune, communes=communes,
                  value_text=value_text, status=STATUS, assessments={t.result.id: t.assessment for t in tracked},
                  # one commune: its value against the province's path, not the province's status
                  standings={t.result.id: (t.standings()[0], t.path_now) for t in tracked if commune
                             and t.result.definition.is_ratio and t.result.by_commune},
                  figure=figure, fraction_text=fraction_text, source_text=source_text,
                  target_gap_text=target_gap_text)


@router.get("/chart.png")
def chart(account: OfficialPageDep, runtime: RuntimeDep, plan: str, period: str, indicator: str) -> Response:
    chosen = next((p for p in plans_for(account) if p.id == plan), None)
    if chosen is None:
        return Response(status_code=404)
    try:
        period_obj = parse(period)
    except ValueError:
        return Response(status_code=422)
    with runtime.sessions() as session:
        tracked = next((t for t in track_plan(session, chosen, period_obj) if t.result.id == indicator), None)
    if tracked is None:
        return Response(status_code=404)
    return Response(charts.by_commune(tracked.result, path_now=tracked.commune_path), media_type="image/png",
                    headers={"Cache-Control": "no-store"})
