"""Broadcasts: the last ones with their delivery progress, and sending one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from bot.conversation import ids
from bot.dashboard import auth, communes
from bot.dashboard.deps import OFFICIALS_ONLY, CsrfAccountDep, OfficialPageDep, RuntimeDep, forbid
from bot.dashboard.pages import render
from bot.runtime import Runtime
from bot.sending import delivery
from bot.services import broadcasts
from bot.storage.db import unit_of_work, utcnow
from bot.storage.models import Broadcast
from reporting import areas
from reporting.clock import VIETNAM

router = APIRouter()


def _page(request: Request, runtime: Runtime, account: auth.Account, queued: int | None = None,
                    error: str | None = None, status_code: int = 200) -> HTMLResponse:
    with runtime.sessions() as session:
        stmt = select(Broadcast).order_by(Broadcast.id.desc()).limit(50)
        if account.province_code is not None:
            stmt = stmt.where(Broadcast.province_code == account.province_code)
        rows: list[tuple[Any, dict[str, int]]] = [(b, delivery.progress(session, broadcast_id=b.id))
                                                  for b in session.scalars(stmt)]
    provinces = sorted(areas.provinces().values(), key=lambda p: areas.fold(p.name))
    return render(request, "broadcasts.html", account, rows=rows, queued=queued, error=error, provinces=provinces,
                  topics=runtime.services.library.topics, tz=VIETNAM, status_code=status_code)


@router.get("/broadcasts")
def broadcasts_page(request: Request, account: OfficialPageDep, runtime: RuntimeDep,
                    queued: int | None = None) -> HTMLResponse:
    return _page(request, runtime, account, queued=queued)


@router.post("/broadcasts")
def send_broadcast(request: Request, account: CsrfAccountDep, runtime: RuntimeDep, topic: Annotated[str, Form()] = "",
                   text: Annotated[str, Form()] = "", province: Annotated[str, Form()] = "",
                   commune: Annotated[str, Form()] = "",
                   commune_code: Annotated[str, Form(max_length=12)] = "") -> Response:
    if account.scope.commune_only:  # province-wide: commune officers are refused
        raise forbid(request, account, OFFICIALS_ONLY)
    province_code = account.province_code or ids.number(province)
    try:  # the commune by name (accent-insensitive), within the account's province
        chosen = communes.pick(account.scope, commune, commune_code, province_code=province_code)
    except ValueError as exc:
        return _page(request, runtime, account, error=f"Chưa gửi: {exc}", status_code=422)
    if len(text.strip()) < 10:
        return _page(request, runtime, account, error="Nội dung tin quá ngắn.", status_code=422)
    with unit_of_work(runtime.sessions) as session:
        sent = broadcasts.create(session, by=f"dashboard:{account.username}", text=text.strip(), now=utcnow(),
                                 topic=topic or None, province_code=province_code,
                                 commune_code=chosen.code if chosen else None)
        count = sent.recipients
    return RedirectResponse(f"/admin/broadcasts?queued={count}", status_code=303)
