"""Completeness: who has (not) reported for a plan and period, who their people are, and «Nhắc»."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.conversation import ids
from bot.dashboard import auth
from bot.dashboard.deps import AccountDep, CsrfAccountDep, RuntimeDep
from bot.dashboard.pages import chosen_period, period_options, plans_for, render
from bot.runtime import Runtime
from bot.services import reminders
from bot.storage.db import unit_of_work, utcnow
from reporting.clock import spoken
from reporting.periods import Period, parse
from reporting.plans import Plan
from reporting.vocabulary import Role

router = APIRouter()


def may_remind(account: auth.Account, plan: Plan) -> bool:
    """An admin (of every province, or of the plan's), or a provincial official of the plan's province."""
    if account.role == Role.ADMIN:
        return account.province_code in (None, plan.province_code)
    return account.role == Role.PROVINCIAL_OFFICIAL and account.province_code == plan.province_code


def _page(request: Request, runtime: Runtime, account: auth.Account, plan: str | None, period: str | None,
          *, notice: str | None = None, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    plans = plans_for(account, runtime)
    chosen = next((p for p in plans if p.id == plan), plans[0] if plans else None)
    if chosen is None:
        return render(request, "completeness.html", account, plans=[], forms=[], notice=notice, error=error,
                      status_code=status_code)
    period_obj, options = chosen_period(chosen, period)
    now = utcnow()
    with runtime.sessions() as session:
        forms = reminders.missing(session, plan=chosen, period=period_obj, now=now,
                                  commune_code=account.scope.commune_code)  # a commune officer: their units

    def when(moment: datetime | None) -> str | None:
        return spoken(moment, now) if moment is not None else None

    return render(request, "completeness.html", account, plans=plans, plan=chosen, period=period_obj,
                  period_options=options, forms=forms, may_remind=may_remind(account, chosen), when=when,
                  notice=notice, error=error, status_code=status_code)


@router.get("/completeness")
def completeness_page(request: Request, account: AccountDep, runtime: RuntimeDep, plan: str | None = None,
                      period: str | None = None, reminded: str | None = None) -> HTMLResponse:
    notice = None
    unit_id = ids.number(reminded or "")
    if unit_id is not None:
        with runtime.sessions() as session:  # only a unit this account may see (the id is from the address bar)
            sent = reminders.sent_today(session, unit_id=unit_id, now=utcnow(), visible=account.scope.sees_commune)
        notice = sent.notice() if sent is not None else None
    return _page(request, runtime, account, plan, period, notice=notice)


@router.post("/completeness/remind")
def remind(request: Request, account: CsrfAccountDep, runtime: RuntimeDep,
           plan: Annotated[str, Form(max_length=64)] = "", period: Annotated[str, Form(max_length=16)] = "",
           form: Annotated[str, Form(max_length=32)] = "", unit: Annotated[str, Form(max_length=20)] = "") -> Response:
    """«Nhắc»: remind one missing unit now. Everything in the form is checked again here: the plan
    the account may act on, a period the page offers, a unit missing for that plan and period."""
    found = next((p for p in plans_for(account) if p.id == plan), None)

    def refuse(text: str, status: int) -> HTMLResponse:
        return _page(request, runtime, account, found.id if found else None, period, error=text, status_code=status)

    if found is None:
        return refuse("Không có kế hoạch này trong tỉnh của bạn.", 404)
    if not may_remind(account, found):
        return refuse("Chỉ quản trị viên và cán bộ tỉnh của tỉnh này được gửi nhắc.", 403)
    if period not in {pid for pid, _ in period_options(found)}:
        return refuse("Kỳ này không có trong danh sách để nhắc; hãy chọn kỳ trên trang.", 422)
    unit_id = ids.number(unit)
    if unit_id is None:
        return refuse("Không rõ đơn vị cần nhắc; hãy tải lại trang.", 422)
    chosen: Period = parse(period)
    try:
        with unit_of_work(runtime.sessions) as session:
            reminders.remind_unit(session, plan=found, period=chosen, form=form, unit_id=unit_id,
                                         by=f"dashboard:{account.username}", now=utcnow(),
                                         t=runtime.services.messages)
    except reminders.Refused as exc:
        already = str(exc).startswith("Đã nhắc")
        return refuse(str(exc), 409 if already else 422)
    query = urlencode({"plan": found.id, "period": chosen.id, "reminded": unit_id})
    return RedirectResponse(f"/admin/completeness?{query}", status_code=303)
