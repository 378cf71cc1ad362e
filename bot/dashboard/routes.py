"""Dashboard pages. Every page needs a session; every form carries the session's CSRF token."""

from __future__ import annotations

import hmac
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.conversation import ids
from bot.dashboard import auth
from bot.knowledge.normalize import fold
from bot.runtime import Runtime
from bot.sending import delivery
from bot.services import broadcasts, feedback, handovers, learned, questions
from bot.storage.db import unit_of_work, utcnow
from bot.storage.models import Broadcast
from reporting import areas, charts, people, reports, unit_registry
from reporting.baseline import BaselineError, import_file
from reporting.clock import VIETNAM, local_date
from reporting.completeness import completeness
from reporting.exports import STATUS, value_text
from reporting.forms import load_forms, show
from reporting.indicators import compute
from reporting.models import ReportingUnit
from reporting.numbers import format_number
from reporting.periods import containing, parse
from reporting.plans import Plan, load_plans

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "web" / "templates"))
TEMPLATES.env.filters["vn"] = lambda value: "—" if value is None else format_number(round(float(value), 1))
COOKIE = "agribot_session"
T = TypeVar("T")
ROLE_LABELS = people.ROLE_LABELS


class NotLoggedIn(Exception):
    pass


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _account(request: Request) -> auth.Account:
    runtime = _runtime(request)
    with unit_of_work(runtime.sessions) as session:
        account = auth.current(session, token=request.cookies.get(COOKIE), now=utcnow())
    if account is None:
        raise NotLoggedIn
    return account


async def _read(request: Request, fn: Callable[[Session], T]) -> T:
    """Run a read-only query function on a fresh session, off the event loop."""
    runtime = _runtime(request)

    def run() -> T:
        with runtime.sessions() as session:
            return fn(session)

    return await run_in_threadpool(run)


def _check_csrf(account: auth.Account, token: str) -> bool:
    return hmac.compare_digest(account.csrf.encode(), token.encode())


def _plans(account: auth.Account, runtime: Runtime | None = None) -> list[Plan]:
    """The account's plans; the province with the latest report first (where the work is)."""
    plans = [p for p in load_plans().values() if account.province_code in (None, p.province_code)]
    if runtime is not None and len({p.province_code for p in plans}) > 1:
        with runtime.sessions() as session:
            latest = reports.list_filed(session, limit=1)
        if latest:
            province = latest[0][1].province_code
            plans.sort(key=lambda p: (p.province_code != province, p.id != "ls-ktth-nn-2030"))
    return plans


def _render(request: Request, name: str, account: auth.Account | None, status_code: int = 200,
            **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, {"account": account, **context}, status_code=status_code)


def _period_options(plan: Plan) -> list[tuple[str, str]]:
    today = local_date(utcnow())
    year = containing(today, "Y", plan.cutoff_day)
    half = containing(today, "S", plan.cutoff_day)
    options = [year, year.previous(), half, half.previous(), half.previous().previous()]
    return [(p.id, p.label(plan.cutoff_day)) for p in options]


def dashboard_router() -> APIRouter:
    router = APIRouter(prefix="/admin", include_in_schema=False)

    @router.get("/login")
    async def login_page(request: Request) -> HTMLResponse:
        return _render(request, "login.html", None, error=None)

    @router.post("/login")
    async def login(request: Request, username: str = Form(max_length=64), password: str = Form(max_length=256),
                    ) -> Response:
        runtime = _runtime(request)

        def attempt() -> auth.NewSession | auth.LoginError:
            # the failed attempt is counted and committed, so the error is returned, not raised
            with unit_of_work(runtime.sessions) as session:
                try:
                    return auth.login(session, username=username, password=password, now=utcnow())
                except auth.LoginError as exc:
                    return exc

        new = await run_in_threadpool(attempt)
        if isinstance(new, auth.LoginError):
            exc = new
            error = (f"Tài khoản tạm khoá vì nhập sai nhiều lần. Thử lại sau {exc.minutes} phút."
                     if exc.reason == "locked" else "Sai tên đăng nhập hoặc mật khẩu.")
            return _render(request, "login.html", None, status_code=401, error=error)
        response = RedirectResponse("/admin", status_code=303)
        response.set_cookie(COOKIE, new.token, httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https", max_age=int(auth.SESSION_TTL.total_seconds()))
        return response

    @router.post("/logout")
    async def logout(request: Request, csrf: str = Form("")) -> Response:
        account = _account(request)
        if _check_csrf(account, csrf):
            with unit_of_work(_runtime(request).sessions) as session:
                auth.logout(session, token=request.cookies.get(COOKIE))
        response = RedirectResponse("/admin/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("")
    async def indicators_page(request: Request, plan: str | None = None, period: str | None = None,
                              commune_code: str | None = Query(None, alias="commune")) -> HTMLResponse:
        account = _account(request)
        commune = ids.number(commune_code)
        plans = _plans(account, _runtime(request))
        if not plans:
            return _render(request, "indicators.html", account, plans=[], report=None)
        chosen = next((p for p in plans if p.id == plan), plans[0])
        options = _period_options(chosen)
        try:
            period_obj = parse(period) if period else parse(options[1][0])
        except ValueError:
            period_obj = parse(options[1][0])
        runtime = _runtime(request)

        def data() -> tuple[Any, Any]:
            with runtime.sessions() as session:
                return (compute(session, plan=chosen, period=period_obj, commune_code=commune),
                        completeness(session, plan=chosen, period=period_obj, commune_code=commune))

        report, rates = await run_in_threadpool(data)
        communes = [c for c in areas.communes_of(chosen.province_code)
                    if chosen.former_province_code is None or chosen.former_province_code in c.former_province_codes]
        return _render(request, "indicators.html", account, plans=plans, plan=chosen, period=period_obj,
                       period_options=options, report=report, rates=rates, commune=commune, communes=communes,
                       value_text=value_text, status=STATUS)

    @router.get("/chart.png")
    async def chart(request: Request, plan: str, period: str, indicator: str) -> Response:
        account = _account(request)
        chosen = next((p for p in _plans(account) if p.id == plan), None)
        if chosen is None:
            return Response(status_code=404)
        try:
            period_obj = parse(period)
        except ValueError:
            return Response(status_code=422)
        runtime = _runtime(request)

        def draw() -> bytes | None:
            with runtime.sessions() as session:
                report = compute(session, plan=chosen, period=period_obj)
            result = next((r for r in report.results if r.id == indicator), None)
            return charts.by_commune(result) if result else None

        png = await run_in_threadpool(draw)
        if png is None:
            return Response(status_code=404)
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    @router.get("/completeness")
    async def completeness_page(request: Request, plan: str | None = None, period: str | None = None) -> HTMLResponse:
        account = _account(request)
        plans = _plans(account, _runtime(request))
        chosen = next((p for p in plans if p.id == plan), plans[0] if plans else None)
        if chosen is None:
            return _render(request, "completeness.html", account, plans=[], rates=[])
        options = _period_options(chosen)
        try:
            period_obj = parse(period) if period else parse(options[1][0])
        except ValueError:
            period_obj = parse(options[1][0])
        runtime = _runtime(request)

        def data() -> Any:
            with runtime.sessions() as session:
                return completeness(session, plan=chosen, period=period_obj)

        rates = await run_in_threadpool(data)
        return _render(request, "completeness.html", account, plans=plans, plan=chosen, period=period_obj,
                       period_options=options, rates=rates)

    @router.get("/reports")
    async def reports_page(request: Request, period: str | None = None, form: str | None = None) -> HTMLResponse:
        account = _account(request)
        runtime = _runtime(request)

        def data() -> list[dict[str, Any]]:
            with runtime.sessions() as session:
                rows = reports.list_filed(session, province_code=account.province_code, period=period or None,
                                          form=form or None)
                return [{"report": r, "unit": u,
                         "history": [(c, people.who(session, c.changed_by))
                                     for c in reports.history(session, report_id=r.id)],
                         "period": parse(r.period).label(reports.cutoff_day(u)) if r.period else ""}
                        for r, u in rows]

        rows = await run_in_threadpool(data)
        current = containing(local_date(utcnow()), "S")  # the last three years of half-years, by label
        options = []
        for _ in range(6):
            options.append((current.id, current.label()))
            current = current.previous()
        return _render(request, "reports.html", account, rows=rows, forms=load_forms(), period=period or "",
                       form=form or "", tz=VIETNAM, show=show, change_text=reports.change_text,
                       period_options=options)

    def _card_choices(request: Request) -> list[tuple[str, str]]:
        library = _runtime(request).services.library
        titles = {t.id: t.title for t in library.topics}
        return [(c.id, f"{titles.get(c.topic, c.topic)} — {c.title}")
                for t in library.topics for c in library.cards_in(t.id)]

    @router.get("/questions")
    async def questions_page(request: Request, attached: str | None = None) -> HTMLResponse:
        account = _account(request)

        def data() -> tuple[Any, Any]:
            with _runtime(request).sessions() as session:
                rows = questions.list_recent(session, limit=300)
                return rows, learned.attached(session, [r.text for r in rows])

        rows, done = await run_in_threadpool(data)
        return _render(request, "questions.html", account, rows=rows, tz=VIETNAM, cards=_card_choices(request),
                       done=done, fold=fold, notice=attached)

    @router.post("/questions/attach")
    async def attach_question(request: Request, csrf: str = Form(""), text: str = Form("", max_length=2000),
                              card: str = Form("", max_length=120), action: str = Form("attach"),
                              back: str = Form("questions")) -> Response:
        account = _account(request)
        if not _check_csrf(account, csrf):
            return Response("Phiên làm việc không hợp lệ, tải lại trang.", status_code=403)
        runtime = _runtime(request)
        card_id = None if action == "out_of_scope" else card

        def store() -> str | None:
            with unit_of_work(runtime.sessions) as session:
                try:
                    learned.attach(session, text=text, card_id=card_id, by=account.username,
                                   known_cards=runtime.services.library.cards)
                except learned.AttachError as exc:
                    return str(exc)
            with runtime.sessions() as session:  # the running index learns it at once
                runtime.services.index.refresh(session, force=True)
            return None

        error = await run_in_threadpool(store)
        if error is not None:
            return Response(error, status_code=422)
        page = "feedback" if back == "feedback" else "questions"
        return RedirectResponse(f"/admin/{page}?attached=1", status_code=303)

    @router.get("/invites")
    async def invites_page(request: Request) -> HTMLResponse:
        return await _invites(request, _account(request))

    async def _invites(request: Request, account: auth.Account, new_code: str | None = None,
                       error: str | None = None, status_code: int = 200, where: str = "",
                       warnings: list[str] | None = None) -> HTMLResponse:
        runtime = _runtime(request)

        def data() -> list[Any]:
            with runtime.sessions() as session:
                rows = people.list_invites(session)
                return [i for i in rows if account.province_code in (None, i.province_code)]

        username = runtime.settings.telegram_bot_username
        return _render(request, "invites.html", account, rows=await run_in_threadpool(data), new_code=new_code,
                       error=error, roles=ROLE_LABELS, tz=VIETNAM, now=utcnow(), bot_username=username,
                       status_code=status_code, where=where, warnings=warnings or [], commune_name=areas.full_name)

    @router.post("/invites")
    async def create_invite(request: Request, csrf: str = Form(""), role: str = Form(""),
                            commune: str = Form(""), province: str = Form(""), unit: str = Form("")) -> Response:
        account = _account(request)
        if not _check_csrf(account, csrf):
            return Response("Phiên làm việc không hợp lệ, tải lại trang.", status_code=403)
        if account.role != "admin":
            return await _invites(request, account, error="Chỉ quản trị viên được tạo mã mời.", status_code=403)
        runtime = _runtime(request)

        def create() -> tuple[str, str, list[str]]:
            province_code = ids.number(province) or account.province_code
            commune_code = None
            if commune.strip():
                commune_code = areas.resolve_commune(commune, province_code=account.province_code).code
            with unit_of_work(runtime.sessions) as session:
                new = people.create_invite(
                    session, role=role, commune_code=commune_code, province_code=province_code,
                    unit_name=unit or None, created_by=f"dashboard:{account.username}", now=utcnow())
                warnings = unit_registry.same_name_warnings(session, role=role, name=unit or None,
                                                            commune_code=commune_code)
                where = areas.full_name(commune_code) if commune_code else ""
                return people.format_code(new.code), where, warnings

        try:
            code, where, warnings = await run_in_threadpool(create)
        except ValueError as exc:
            return await _invites(request, account, error=f"Chưa tạo được mã: {exc}", status_code=422)
        return await _invites(request, account, new_code=code, where=where, warnings=warnings)

    @router.post("/invites/{invite_id}/revoke")
    async def revoke_invite(request: Request, invite_id: int, csrf: str = Form("")) -> Response:
        account = _account(request)
        if not _check_csrf(account, csrf) or account.role != "admin":
            return Response("Phiên làm việc không hợp lệ, tải lại trang.", status_code=403)
        with unit_of_work(_runtime(request).sessions) as session:
            people.revoke(session, invite_id=invite_id, now=utcnow())
        return RedirectResponse("/admin/invites", status_code=303)

    @router.get("/baseline")
    async def baseline_page(request: Request) -> HTMLResponse:
        return _render(request, "baseline.html", _account(request), errors=None, result=None)

    @router.post("/baseline")
    async def baseline_upload(request: Request, file: UploadFile, csrf: str = Form("")) -> Response:
        account = _account(request)
        if not _check_csrf(account, csrf):
            return Response("Phiên làm việc không hợp lệ, tải lại trang.", status_code=403)
        suffix = Path(file.filename or "").suffix.lower()
        data = await file.read(10 * 1024 * 1024 + 1)
        if len(data) > 10 * 1024 * 1024:
            return _render(request, "baseline.html", account, errors=["Tệp lớn quá 10 MB."], result=None,
                           status_code=413)
        runtime = _runtime(request)

        def load() -> Any:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"baseline{suffix}"
                path.write_bytes(data)
                with unit_of_work(runtime.sessions) as session:
                    return import_file(session, path, now=utcnow())

        try:
            result = await run_in_threadpool(load)
        except BaselineError as exc:
            return _render(request, "baseline.html", account, errors=[str(e) for e in exc.errors], result=None,
                           status_code=422)
        except Exception:  # an unreadable spreadsheet
            return _render(request, "baseline.html", account, status_code=422, result=None,
                           errors=["Không đọc được tệp. Dùng tệp .csv (UTF-8) hoặc .xlsx có dòng tiêu đề."])
        return _render(request, "baseline.html", account, errors=None, result=result)

    @router.get("/handovers")
    async def handovers_page(request: Request) -> HTMLResponse:
        account = _account(request)
        rows = await _read(request, lambda session: handovers.queue(session, province_code=account.province_code))
        return _render(request, "handovers.html", account, rows=rows, tz=VIETNAM, now=utcnow(), areas=areas)

    @router.get("/feedback")
    async def feedback_page(request: Request, attached: str | None = None) -> HTMLResponse:
        account = _account(request)

        def data() -> tuple[Any, Any, Any]:
            with _runtime(request).sessions() as session:
                groups = feedback.groups(session)
                return (groups, learned.attached(session, [g.text for g in groups]),
                        learned.weekly_shares(session, now=utcnow()))

        groups, done, weeks = await run_in_threadpool(data)
        return _render(request, "feedback.html", account, groups=groups, cards=_card_choices(request), done=done,
                       fold=fold, weeks=weeks, notice=attached)

    @router.get("/broadcasts")
    async def broadcasts_page(request: Request, queued: int | None = None) -> HTMLResponse:
        return await _broadcasts(request, _account(request), queued=queued)

    async def _broadcasts(request: Request, account: auth.Account, queued: int | None = None,
                          error: str | None = None, status_code: int = 200) -> HTMLResponse:
        runtime = _runtime(request)

        def data() -> list[tuple[Any, dict[str, int]]]:
            with runtime.sessions() as session:
                stmt = select(Broadcast).order_by(Broadcast.id.desc()).limit(50)
                if account.province_code is not None:
                    stmt = stmt.where(Broadcast.province_code == account.province_code)
                return [(b, delivery.progress(session, broadcast_id=b.id)) for b in session.scalars(stmt)]

        return _render(request, "broadcasts.html", account, rows=await run_in_threadpool(data), queued=queued,
                       error=error, topics=runtime.services.library.topics, tz=VIETNAM, status_code=status_code)

    @router.post("/broadcasts")
    async def send_broadcast(request: Request, csrf: str = Form(""), topic: str = Form(""), text: str = Form(""),
                             province: str = Form(""), commune: str = Form("")) -> Response:
        account = _account(request)
        if not _check_csrf(account, csrf):
            return Response("Phiên làm việc không hợp lệ, tải lại trang.", status_code=403)
        if len(text.strip()) < 10:
            return await _broadcasts(request, account, error="Nội dung tin quá ngắn.", status_code=422)
        province_code = account.province_code or ids.number(province)
        commune_code = ids.number(commune)
        runtime = _runtime(request)

        def create() -> int:
            with unit_of_work(runtime.sessions) as session:
                sent = broadcasts.create(session, by=f"dashboard:{account.username}", text=text.strip(),
                                         now=utcnow(), topic=topic or None, province_code=province_code,
                                         commune_code=commune_code)
                return sent.recipients

        count = await run_in_threadpool(create)
        return RedirectResponse(f"/admin/broadcasts?queued={count}", status_code=303)

    @router.get("/units")
    async def units_page(request: Request, done: str | None = None) -> HTMLResponse:
        return await _units(request, _account(request), done=done)

    async def _units(request: Request, account: auth.Account, done: str | None = None, error: str | None = None,
                     status_code: int = 200) -> HTMLResponse:
        runtime = _runtime(request)

        def data() -> tuple[list[Any], dict[int, list[Any]]]:
            with runtime.sessions() as session:
                rows = unit_registry.listing(session, province_code=account.province_code)
                changes = {r.unit.id: [(c, people.who(session, c.changed_by))
                                       for c in unit_registry.history(session, unit_id=r.unit.id)] for r in rows}
                return rows, changes

        rows, changes = await run_in_threadpool(data)
        return _render(request, "units.html", account, rows=rows, changes=changes, kinds=unit_registry.KIND_LABELS,
                       change_text=unit_registry.change_text, done=DONE_TEXT.get(done or ""), error=error, tz=VIETNAM,
                       status_code=status_code)

    @router.post("/units/{unit_id}/{action}")
    async def change_unit(request: Request, unit_id: int, action: str, csrf: str = Form(""),
                          name: str = Form("", max_length=200), into: str = Form("")) -> Response:
        account = _account(request)
        if not _check_csrf(account, csrf):
            return Response("Phiên làm việc không hợp lệ, tải lại trang.", status_code=403)
        if account.role != "admin":
            return await _units(request, account, error="Chỉ quản trị viên được đổi đơn vị báo cáo.", status_code=403)
        if action not in DONE_TEXT:
            return await _units(request, account, error="Thao tác không có.", status_code=404)
        runtime = _runtime(request)
        by = f"dashboard:{account.username}"

        def change() -> None:
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

        try:
            await run_in_threadpool(change)
        except unit_registry.UnitError as exc:
            return await _units(request, account, error=str(exc), status_code=422)
        return RedirectResponse(f"/admin/units?done={action}", status_code=303)

    return router


DONE_TEXT = {"rename": "Đã đổi tên đơn vị.", "merge": "Đã gộp: báo cáo và người báo cáo đã chuyển sang đơn vị nhận.",
             "retire": "Đơn vị đã ngừng báo cáo và không còn được tính vào tình hình báo cáo."}
