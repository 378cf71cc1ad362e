"""Units of reporting with their history: rename, merge, retire (admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.conversation import ids
from bot.dashboard import auth
from bot.dashboard.deps import AccountDep, RuntimeDep, admin_only
from bot.dashboard.pages import render
from bot.runtime import Runtime
from bot.storage.db import unit_of_work, utcnow
from reporting import people, unit_registry
from reporting.clock import VIETNAM
from reporting.models import ReportingUnit

router = APIRouter()

DONE_TEXT = {"rename": "Đã đổi tên đơn vị.", "merge": "Đã gộp: báo cáo và người báo cáo đã chuyển sang đơn vị nhận.",
             "retire": "Đơn vị đã ngừng báo cáo và không còn được tính vào tình hình báo cáo."}


def _page(request: Request, runtime: Runtime, account: auth.Account, done: str | None = None,
          error: str | None = None, status_code: int = 200) -> HTMLResponse:
    with runtime.sessions() as session:
        rows = [r for r in unit_registry.listing(session, province_code=account.province_code)
                if account.scope.sees_commune(r.unit.commune_code)]  # a commune officer: their commune
        changes: dict[int, list[Any]] = {r.unit.id: [(c, people.who(session, c.changed_by))
                                                     for c in unit_registry.history(session, unit_id=r.unit.id)]
                                          for r in rows}
    return render(request, "units.html", account, rows=rows, changes=changes, kinds=unit_registry.KIND_LABELS,
                  change_text=unit_registry.change_text, done=DONE_TEXT.get(done or ""), error=error, tz=VIETNAM,
                  status_code=status_code)


def _admins_only(request: Request, runtime: Runtime, account: auth.Account) -> HTMLResponse:
    return _page(request, runtime, account, error="Chỉ quản trị viên được đổi đơn vị báo cáo.", status_code=403)


@router.get("/units")
def units_page(request: Request, account: AccountDep, runtime: RuntimeDep, done: str | None = None) -> HTMLResponse:
    return _page(request, runtime, account, done=done)


@router.post("/units/{unit_id}/{action}")
def change_unit(request: Request, account: Annotated[auth.Account, admin_only(_admins_only)], runtime: RuntimeDep,
                unit_id: int, action: str, name: Annotated[str, Form(max_length=200)] = "",
                into: Annotated[str, Form()] = "") -> Response:
    if action not in DONE_TEXT:
        return _page(request, runtime, account, error="Thao tác không có.", status_code=404)
    by = f"dashboard:{account.username}"
    try:
        with unit_of_work(runtime.sessions) as session:
            unit = session.get(ReportingUnit, unit_id)
            if unit is None or account.province_code not in (None, unit.province_code):
                raise unit_registry.UnitError(f"Không có đơn vị số {unit_id} trong tỉnh của bạn.")
            if action == "rename":
                unit_registry.rename(session, unit_id=unit_id, name=name, by=by, now=utcnow())
            elif action == "merge":
                target = session.get(ReportingUnit, into_id) if (into_id := ids.number(into)) else None
                if target is None or account.province_code not in (None, target.province_code):
                    raise unit_registry.UnitError("Hãy chọn đơn vị nhận báo cáo.")
                unit_registry.merge(session, unit_id=unit_id, into_id=target.id, by=by, now=utcnow())
            else:
                unit_registry.retire(session, unit_id=unit_id, by=by, now=utcnow())
    except unit_registry.UnitError as exc:
        return _page(request, runtime, account, error=str(exc), status_code=422)
    return RedirectResponse(f"/admin/units?done={action}", status_code=303)
