"""Completeness you can act on: each missing unit with its people (name, channel, last seen) or
«chưa có cán bộ đăng ký»; «Nhắc» on the dashboard and ``agribot remind`` send a reminder through
the delivery queue, at most once a unit a Vietnamese day, the daily job included. Real SQLite and
PostgreSQL, real HTTP through the app, the real Telegram client against the fake Bot API."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from bot.dashboard import auth
from bot.dashboard.pages import period_options
from bot.runtime import create_runtime
from bot.scheduling import jobs
from bot.sending import delivery
from bot.services import reminders
from bot.settings import Settings
from bot.storage.db import unit_of_work
from bot.storage.models import ChatUser, DashboardUser, OutgoingMessage
from reporting import areas, people
from reporting.clock import VIETNAM, spoken
from reporting.completeness import report_period
from reporting.models import ReportingUnit, UnitReminder
from reporting.periods import Period, parse
from reporting.plans import load_plans
from tests.builders import HUU_LUNG, NOW, filed, member
from tests.fakes.server import wait_for
from tests.test_cli import run
from tests.test_telegram import CHAT, agribot, fake, tg_settings  # noqa: F401

PLAN = load_plans()["ls-ktth-nn-2030"]
PASSWORD = "Rơm-Rạ-Không-Đốt-2026"
COMMUNE_VALUES = {"households_applying": 1, "hh_biogas": 1, "hh_bedding": 0, "hh_compost": 0, "hh_other": 0,
                  "straw_reused_t": 1.0, "farms_reached": 0, "coops_reached": 0, "staff_trained": 0}
SEEN = datetime(2026, 11, 20, 3, 5, tzinfo=UTC)  # 10:05 on 20/11/2026 in Vietnam
OTHER = next(c.code for c in areas.communes_of(20) if c.code != HUU_LUNG)
THIRD = next(c.code for c in areas.communes_of(20) if c.code not in (HUU_LUNG, OTHER))


def _unit(session, commune: int = HUU_LUNG, kind: str = "commune") -> ReportingUnit:
    return session.scalars(select(ReportingUnit).where(ReportingUnit.commune_code == commune,
                                                       ReportingUnit.kind == kind)).one()


def _reminders_queued(session) -> int:
    return session.scalar(select(func.count()).select_from(OutgoingMessage).where(
        OutgoingMessage.kind == "reminder")) or 0


# -- who is behind each missing unit ---------------------------------------------------------
def test_spoken_times_are_vietnamese_days() -> None:
    now = datetime(2026, 11, 24, 17, 30, tzinfo=UTC)  # 00:30 on 25/11 in Vietnam
    assert spoken(datetime(2026, 11, 24, 17, 10, tzinfo=UTC), now) == "hôm nay lúc 00:10"
    assert spoken(datetime(2026, 11, 24, 16, 50, tzinfo=UTC), now) == "hôm qua lúc 23:50"
    assert spoken(datetime(2026, 11, 25, 23, 30, tzinfo=UTC), now) == "ngày mai lúc 06:30"
    assert spoken(SEEN, now) == "lúc 10:05 ngày 20/11/2026"


def test_missing_units_come_with_their_people_or_none(db) -> None:
    member(db, people.EXTENSION_OFFICER, channel="telegram", user_id="777")
    member(db, people.EXTENSION_OFFICER, channel="zalo", user_id="z-1", now=NOW + timedelta(minutes=1))
    db.add(ChatUser(channel="telegram", user_id="777", display_name="Lan", last_seen_at=SEEN, created_at=SEEN))
    member(db, people.EXTENSION_OFFICER, channel="web", user_id="done", commune=OTHER)
    filed(db, _unit(db, OTHER), "commune", COMMUNE_VALUES, period="2026S2", by="web:done")
    member(db, people.COOPERATIVE, channel="web", user_id="coop", unit="HTX Rau Sạch")
    db.add(ChatUser(channel="web", user_id="coop", display_name="Hùng", last_seen_at=SEEN, created_at=SEEN))
    db.flush()

    forms = {f.completeness.form: f for f in reminders.missing(db, plan=PLAN, period=Period(2026), now=NOW)}
    communes = {r.name: r for r in forms["commune"].rows}
    huu_lung = communes[areas.commune(HUU_LUNG).name]
    assert [(r.name, r.channel_label, r.last_seen) for r in huu_lung.reporters] == [
        ("Lan", "Telegram", SEEN), (None, "Zalo", None)]
    assert areas.commune(OTHER).name not in communes  # filed: not missing
    nobody = communes[areas.commune(THIRD).name]
    assert nobody.reporters == () and nobody.unit.unit_id is None
    assert len(forms["commune"].rows) == len(areas.communes_of(20)) - 1
    [coop] = forms["cooperative"].rows
    assert coop.name.startswith("HTX Rau Sạch") and [(r.name, r.channel_label) for r in coop.reporters] == [
        ("Hùng", "trang web")]
    assert huu_lung.today is None and huu_lung.last is None


def test_the_page_tells_a_reminder_zalo_did_not_let_through(db, services) -> None:
    member(db, people.EXTENSION_OFFICER, channel="zalo", user_id="z-1")
    unit_id = _unit(db).id
    sent = reminders.remind_unit(db, plan=PLAN, period=Period(2026), form="commune", unit_id=unit_id,
                                 by="dashboard:lan", now=NOW, t=services.messages)
    assert sent.goes_at == NOW  # 10:00 in Vietnam: no quiet hours
    [row] = delivery.claim(db, now=NOW, limit=10)
    rows = {r.unit.unit_id: r for f in reminders.missing(db, plan=PLAN, period=Period(2026), now=NOW) for r in f.rows}
    assert rows[unit_id].today is not None and rows[unit_id].today.delivery == "Zalo: đang gửi"
    delivery.finish(db, message_id=row.id, state="skipped", now=NOW)  # outside the 48-hour window
    rows = {r.unit.unit_id: r for f in reminders.missing(db, plan=PLAN, period=Period(2026), now=NOW) for r in f.rows}
    today = rows[unit_id].today
    assert today is not None and today.by == "tài khoản lan (bảng điều khiển)"
    assert today.delivery == "Zalo: không gửi được: Zalo chỉ cho nhắn trong 48 giờ sau tin cuối của người nhận"
    later = NOW + timedelta(days=1)
    rows = {r.unit.unit_id: r for f in reminders.missing(db, plan=PLAN, period=Period(2026), now=later) for r in f.rows}
    assert rows[unit_id].today is None and rows[unit_id].last is not None  # the next day «Nhắc» comes back


# -- «Nhắc» on the dashboard -----------------------------------------------------------------
def _daytime(now: datetime) -> datetime:
    """``now`` when it is daytime in Vietnam, else the last 20:00 before it (no quiet hours)."""
    local = now.astimezone(VIETNAM)
    if delivery.after_quiet_hours(now) == now:
        return now
    evening = local.replace(hour=20, minute=0, second=0, microsecond=0)
    return (evening if evening <= local else evening - timedelta(days=1)).astimezone(UTC)


def _login(client: httpx.Client, username: str = "admin", password: str = PASSWORD) -> str:
    assert client.post("/admin/login", data={"username": username, "password": password}).status_code == 303
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/admin/completeness").text)
    assert found
    return found.group(1)


def _unit_block(page: str, unit_id: int) -> str:
    start = page.index(f'<li class="missing-unit" data-unit="{unit_id}">')
    end = page.find('<li class="missing-unit"', start + 1)
    return page[start:end if end > 0 else len(page)]


def test_nhac_on_the_dashboard_reaches_the_officer_once(settings, fake, monkeypatch) -> None:  # noqa: F811
    tg, api = fake
    cfg = tg_settings(Settings(**{**settings.model_dump(), "admin_password": PASSWORD,
                                  "flood_limit_per_minute": 1000}), api)
    year = parse(period_options(PLAN)[0][0])  # the current year, as the page offers it
    due = report_period(year)
    assert due is not None
    rt = create_runtime(cfg)
    with unit_of_work(rt.sessions) as s:
        code = people.create_invite(s, role=people.EXTENSION_OFFICER, commune_code=HUU_LUNG, now=NOW).code
        coop = member(s, people.COOPERATIVE, channel="web", user_id="coop", unit="HTX Rau Sạch")
        member(s, people.EXTENSION_OFFICER, channel="web", user_id="done", commune=OTHER)
        filed(s, _unit(s, OTHER), "commune", COMMUNE_VALUES, period=due.id, by="web:done")
        for username, province in (("official", 20), ("vinhlong", 86)):
            s.add(DashboardUser(username=username, role="provincial_official", province_code=province,
                                password_hash=auth.hash_password(PASSWORD), created_at=NOW))
        done_unit, coop_unit = _unit(s, OTHER).id, coop.unit_id
    rt.close()
    now = _daytime(datetime.now(UTC))
    monkeypatch.setattr("bot.dashboard.completeness.utcnow", lambda: now)
    with agribot(cfg) as url:
        tg.queue(tg.text_update(CHAT, f"/start {code}"))  # the officer registers on Telegram
        wait_for(lambda: len(tg.sent(CHAT)) == 1, timeout=60)
        rt = create_runtime(cfg)
        with unit_of_work(rt.sessions) as s:
            s.get(ChatUser, ("telegram", str(CHAT))).last_seen_at = SEEN
            unit_id = _unit(s).id

        def queued() -> int:
            with rt.sessions() as s:
                return _reminders_queued(s)

        admin = httpx.Client(base_url=url, timeout=30)
        csrf = _login(admin)
        query = {"plan": PLAN.id, "period": year.id}
        page = admin.get("/admin/completeness", params=query).text
        block = _unit_block(page, unit_id)
        assert "Nam · Telegram · nhắn lần cuối lúc 10:05 ngày 20/11/2026" in block
        assert ">Nhắc</button>" in block
        nobody = page[page.index(f"<strong>{areas.commune(THIRD).name}</strong>"):]
        nobody = nobody[:nobody.index("</li>")]
        assert "chưa có cán bộ đăng ký" in nobody and "Nhắc" not in nobody

        form = {"csrf": csrf, **query, "form": "commune", "unit": str(unit_id)}
        pressed = admin.post("/admin/completeness/remind", data=form)
        assert pressed.status_code == 303
        after = admin.get(pressed.headers["location"]).text
        assert f"Đã gửi nhắc tới {areas.commune(HUU_LUNG).name} (Nam qua Telegram)." in after
        assert f"Đã nhắc {spoken(now, now)} — tài khoản admin (bảng điều khiển)." in _unit_block(after, unit_id)
        assert ">Nhắc</button>" not in _unit_block(after, unit_id)

        # through the queue, to the officer's chat (the worker runs in the scheduler's leader: on a
        # PostgreSQL shared with other test runs it may wait its turn for the leader lock)
        wait_for(lambda: len(tg.sent(CHAT)) == 2, timeout=90)
        message = tg.sent(CHAT)[1].params
        deadline = PLAN.deadline_for(due)
        assert deadline is not None
        assert "«Báo cáo" in message["text"] and f"năm {year.year}" in message["text"]
        assert f"{deadline:%d/%m/%Y}" in message["text"] and "/baocao" in message["text"]
        assert message["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"rpt:period:commune:{due.id}"

        wait_for(lambda: "Telegram: đã gửi." in _unit_block(
            admin.get("/admin/completeness", params=query).text, unit_id), timeout=30)  # what became of it

        again = admin.post("/admin/completeness/remind", data=form)  # the same day: refused, nothing sent
        assert again.status_code == 409
        assert f"Đã nhắc {areas.commune(HUU_LUNG).name} {spoken(now, now)} — tài khoản admin" in again.text
        assert "một lần mỗi ngày" in again.text
        time.sleep(1.5)
        assert len(tg.sent(CHAT)) == 2 and queued() == 1

        forged = [
            ({**form, "unit": str(done_unit)}, 422, "không nằm trong danh sách chưa báo cáo"),  # it has filed
            ({**form, "unit": "99999999"}, 422, "không nằm trong danh sách chưa báo cáo"),
            ({**form, "unit": "1 OR 1=1"}, 422, "Không rõ đơn vị"),
            ({**form, "period": "2019"}, 422, "Kỳ này không có trong danh sách"),
            ({**form, "period": f"{year.year}Q1"}, 422, "Kỳ này không có trong danh sách"),
            ({**form, "form": "farm", "unit": str(coop_unit)}, 422, "không nằm trong danh sách chưa báo cáo"),
            ({**form, "plan": "no-such-plan"}, 404, "Không có kế hoạch này"),
            ({**form, "csrf": "forged"}, 403, "Phiên làm việc không hợp lệ"),
        ]
        for data, status, text in forged:
            refused = admin.post("/admin/completeness/remind", data=data)
            assert (refused.status_code, text in refused.text) == (status, True), data
        assert queued() == 1

        official = httpx.Client(base_url=url, timeout=30)  # a provincial official of Lạng Sơn may remind
        other_csrf = _login(official, "official")
        coop_form = {**form, "csrf": other_csrf, "form": "cooperative", "unit": str(coop_unit)}
        assert official.post("/admin/completeness/remind", data=coop_form).status_code == 303
        outsider = httpx.Client(base_url=url, timeout=30)  # one of another province may not
        outsider_csrf = _login(outsider, "vinhlong")
        refused = outsider.post("/admin/completeness/remind",
                                data={**coop_form, "csrf": outsider_csrf, "unit": str(unit_id), "form": "commune"})
        assert refused.status_code == 404 and "Không có kế hoạch này" in refused.text
        assert queued() == 2
        with rt.sessions() as s:
            rows = [(r.unit_id, r.sent_by) for r in s.scalars(select(UnitReminder).order_by(UnitReminder.id))]
            coop_message = s.scalars(select(OutgoingMessage).where(OutgoingMessage.user_id == "coop")).one()
        assert rows == [(unit_id, "dashboard:admin"), (coop_unit, "dashboard:official")]
        assert "HTX Rau Sạch" in delivery.replies_of(coop_message)[0].text
        rt.close()


# -- agribot remind --------------------------------------------------------------------------
def test_remind_on_the_command_line(database_url) -> None:
    cfg = Settings(database_url=database_url, scheduler_enabled=False)
    rt = create_runtime(cfg)
    with unit_of_work(rt.sessions) as s:
        member(s, people.EXTENSION_OFFICER, channel="telegram", user_id="777")
        member(s, people.EXTENSION_OFFICER, channel="web", user_id="done", commune=OTHER)
        filed(s, _unit(s, OTHER), "commune", COMMUNE_VALUES, period="2025S2", by="web:done")
        coop = member(s, people.COOPERATIVE, channel="web", user_id="coop", unit="HTX Rau Sạch")
        assert reminders.record(s, unit_id=coop.unit_id, plan=PLAN.id, form="cooperative", period="2025S2",
                                by="dashboard:lan", now=datetime.now(UTC), recipients=1) is not None
    rt.close()
    nobody = len(areas.communes_of(20)) - 2

    first = run("remind", "--plan", PLAN.id, "--period", "2025", env_db=database_url)
    assert first.returncode == 0, first.stderr
    assert "Nhắc báo cáo năm 2025" in first.stdout
    assert "Đã gửi nhắc: 1 đơn vị" in first.stdout and f"· {areas.commune(HUU_LUNG).name}: 1 người nhận" in first.stdout
    assert "Đã được nhắc hôm nay rồi: 1 đơn vị" in first.stdout and " — tài khoản lan (bảng điều khiển)" in first.stdout
    assert f"Chưa có cán bộ đăng ký: {nobody} đơn vị" in first.stdout
    assert f"· {areas.commune(THIRD).name}\n" in first.stdout

    second = run("remind", "--plan", PLAN.id, "--period", "2025", env_db=database_url)
    assert second.returncode == 0, second.stderr
    assert "Đã gửi nhắc: 0 đơn vị" in second.stdout and "Đã được nhắc hôm nay rồi: 2 đơn vị" in second.stdout
    assert "quản trị (dòng lệnh)" in second.stdout

    rt = create_runtime(cfg)
    try:
        with rt.sessions() as s:
            [row] = s.scalars(select(OutgoingMessage).where(OutgoingMessage.kind == "reminder")).all()
        assert (row.channel, row.user_id) == ("telegram", "777")
        text = delivery.replies_of(row)[0].text
        assert "năm 2025" in text and "đã quá hạn" in text and "/baocao" in text
    finally:
        rt.close()

    for args, words in ((["--plan", "no-such-plan", "--period", "2025"], "Không có kế hoạch «no-such-plan»"),
                        (["--plan", PLAN.id, "--period", "hai nghìn"], "Không hiểu kỳ «hai nghìn»"),
                        (["--plan", PLAN.id, "--period", "2025Q3"], "không có báo cáo để nhắc"),
                        (["--plan", PLAN.id, "--period", "2099"], "không có báo cáo để nhắc"),
                        (["--plan", PLAN.id, "--period", "2025S1"], "không có hạn nộp báo cáo")):
        out = run("remind", *args, env_db=database_url)
        assert out.returncode == 2 and words in out.stderr and out.stderr.count("\n") == 1, out.stderr


# -- the daily job and «Nhắc» share the rule -------------------------------------------------
def test_the_daily_job_and_a_manual_reminder_count_as_one_a_day(settings) -> None:
    rt = create_runtime(Settings(**{**settings.model_dump(), "scheduler_enabled": False}))
    seven_days = datetime(2026, 12, 3, 0, 30, tzinfo=UTC)  # 07:30, 7 days before 10/12/2026
    two_days = datetime(2026, 12, 8, 0, 30, tzinfo=UTC)
    try:
        with unit_of_work(rt.sessions) as s:
            member(s, people.EXTENSION_OFFICER, channel="web", user_id="late")
            unit_id = _unit(s).id

        def press(now: datetime) -> reminders.Sent:
            with unit_of_work(rt.sessions) as s:
                return reminders.remind_unit(s, plan=PLAN, period=Period(2026), form="commune", unit_id=unit_id,
                                             by="dashboard:admin", now=now, t=rt.services.messages)

        press(seven_days - timedelta(minutes=20))
        assert jobs.send_reminders(rt, now=seven_days) == 0  # reminded by hand this morning
        assert jobs.send_reminders(rt, now=two_days) == 1
        with pytest.raises(reminders.Refused, match="lịch nhắc tự động"):
            press(two_days + timedelta(hours=3))
        assert press(two_days + timedelta(days=1)).recipients[0].channel == "web"  # the next day: again
        with rt.sessions() as s:
            kinds = [delivery.replies_of(r)[0].text[0] for r in s.scalars(
                select(OutgoingMessage).order_by(OutgoingMessage.id))]
        assert kinds == ["🔔", "⏰", "🔔"]
    finally:
        rt.close()


def test_two_officials_pressing_at_once_send_one_reminder(settings) -> None:
    rt = create_runtime(Settings(**{**settings.model_dump(), "scheduler_enabled": False}))
    try:
        with unit_of_work(rt.sessions) as s:
            member(s, people.EXTENSION_OFFICER, channel="web", user_id="late")
            unit_id = _unit(s).id

        def press(who: str) -> str:
            try:
                with unit_of_work(rt.sessions) as s:
                    reminders.remind_unit(s, plan=PLAN, period=Period(2026), form="commune", unit_id=unit_id,
                                          by=f"dashboard:{who}", now=NOW, t=rt.services.messages)
                return "sent"
            except reminders.Refused as exc:
                return str(exc)

        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes = list(pool.map(press, ["a", "b", "c", "d"]))
        assert outcomes.count("sent") == 1, outcomes
        assert all(o.startswith("Đã nhắc") or o == "Đơn vị này vừa được nhắc." for o in outcomes if o != "sent")
        with rt.sessions() as s:
            assert _reminders_queued(s) == 1
            assert s.scalar(select(func.count()).select_from(UnitReminder)) == 1
    finally:
        rt.close()
