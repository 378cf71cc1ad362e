"""Questions handed over to officers (the province's queue)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.dashboard.deps import AccountDep, RuntimeDep
from bot.dashboard.pages import render
from bot.services import handovers
from bot.storage.db import utcnow
from reporting import areas
from reporting.clock import VIETNAM

router = APIRouter()


@router.get("/handovers")
def handovers_page(request: Request, account: AccountDep, runtime: RuntimeDep) -> HTMLResponse:
    with runtime.sessions() as session:
        rows = handovers.queue(session, province_code=account.province_code,  # a commune officer: their commune
                               commune_codes=[account.commune_code] if account.commune_code is not None else None)
    return render(request, "handovers.html", account, rows=rows, tz=VIETNAM, now=utcnow(), areas=areas)
