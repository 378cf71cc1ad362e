"""What the dashboard's pages share: the templates, rendering, the account's plans and periods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bot.dashboard import auth
from bot.runtime import Runtime
from bot.storage.db import utcnow
from reporting import reports
from reporting.clock import local_date
from reporting.numbers import format_number
from reporting.periods import Period, containing, parse
from reporting.plans import Plan, load_plans

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "web" / "templates"))
TEMPLATES.env.filters["vn"] = lambda value: "—" if value is None else format_number(round(float(value), 1))


def render(request: Request, name: str, account: auth.Account | None, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, {"account": account, **context}, status_code=status_code)


ERRORS = {  # status → (title, message) of the dashboard's error page
    403: ("Không có quyền truy cập", "Tài khoản của bạn không mở được trang này."),
    404: ("Không tìm thấy trang", "Không có trang hoặc mục này. Hãy kiểm tra đường dẫn."),
    405: ("Thao tác không hợp lệ", "Trang này không nhận thao tác đó. Hãy quay lại và thử lại từ trang."),
    422: ("Dữ liệu không hợp lệ", "Dữ liệu gửi lên không đúng hoặc thiếu. Hãy quay lại, kiểm tra và gửi lại."),
    503: ("Hệ thống tạm thời gián đoạn", "Chưa kết nối được cơ sở dữ liệu. Hãy thử lại sau ít phút; "
          "dữ liệu đã lưu không bị mất."),
}


def error_page(request: Request, status_code: int) -> HTMLResponse:
    """A Vietnamese page for a refused or unknown address under /admin (no account: no menu)."""
    title, message = ERRORS.get(status_code, ("Có lỗi", "Yêu cầu chưa thực hiện được. Hãy thử lại sau."))
    return render(request, "error.html", None, status_code=status_code, title=title, message=message)


def plans_for(account: auth.Account, runtime: Runtime | None = None) -> list[Plan]:
    """The account's plans; the province with the latest report first (where the work is)."""
    plans = [p for p in load_plans().values() if account.scope.sees_plan(p)]
    if runtime is not None and len({p.province_code for p in plans}) > 1:
        with runtime.sessions() as session:
            latest = reports.list_filed(session, limit=1)
        if latest:
            province = latest[0][1].province_code
            plans.sort(key=lambda p: (p.province_code != province, p.id != "ls-ktth-nn-2030"))
    return plans


def period_options(plan: Plan) -> list[tuple[str, str]]:
    today = local_date(utcnow())
    year = containing(today, "Y", plan.cutoff_day)
    half = containing(today, "S", plan.cutoff_day)
    options = [year, year.previous(), half, half.previous(), half.previous().previous()]
    return [(p.id, p.label(plan.cutoff_day)) for p in options]


def chosen_period(plan: Plan, asked: str | None) -> tuple[Period, list[tuple[str, str]]]:
    """The period asked for, or last year when none (or one that does not parse); and the options."""
    options = period_options(plan)
    try:
        return (parse(asked) if asked else parse(options[1][0])), options
    except ValueError:
        return parse(options[1][0]), options
