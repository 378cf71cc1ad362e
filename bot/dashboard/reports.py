"""Filed reports with their audit trail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.dashboard.deps import AccountDep, RuntimeDep
from bot.dashboard.pages import render
from bot.storage.db import utcnow
from reporting import people, reports
from reporting.clock import VIETNAM, local_date
from reporting.forms import load_forms, show
from reporting.periods import containing, parse

router = APIRouter()


@router.get("/reports")
def reports_page(request: Request, account: AccountDep, runtime: RuntimeDep, period: str | None = None,
                 form: str | None = None) -> HTMLResponse:
    with runtime.sessions() as session:
        found = reports.list_filed(session, province_code=account.province_code, period=period or None,
                                   form=form or None, commune_code=account.scope.commune_code)  # commune officer
        rows: list[dict[str, Any]] = [
            {"report": r, "unit": u,
             "history": [(c, people.who(session, c.changed_by)) for c in reports.history(session, report_id=r.id)],
             "period": parse(r.period).label(reports.cutoff_day(u)) if r.period else ""}
            for r, u in found]
    current = containing(local_date(utcnow()), "S")  # the last three years of half-years, by label
    options = []
    for _ in range(6):
        options.append((current.id, current.label()))
        current = current.previous()
    return render(request, "reports.html", account, rows=rows, forms=load_forms(), period=period or "",
                  form=form or "", tz=VIETNAM, show=show, change_text=reports.change_text, period_options=options)
