"""Completeness: who has (not) reported for a plan and period."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.dashboard.deps import AccountDep, RuntimeDep
from bot.dashboard.pages import chosen_period, plans_for, render
from reporting.completeness import completeness

router = APIRouter()


@router.get("/completeness")
def completeness_page(request: Request, account: AccountDep, runtime: RuntimeDep, plan: str | None = None,
                      period: str | None = None) -> HTMLResponse:
    plans = plans_for(account, runtime)
    chosen = next((p for p in plans if p.id == plan), plans[0] if plans else None)
    if chosen is None:
        return render(request, "completeness.html", account, plans=[], rates=[])
    period_obj, options = chosen_period(chosen, period)
    with runtime.sessions() as session:
        rates = completeness(session, plan=chosen, period=period_obj,
                             commune_code=account.scope.commune_code)  # a commune officer: their units
    return render(request, "completeness.html", account, plans=plans, plan=chosen, period=period_obj,
                  period_options=options, rates=rates)
