"""On track, as officials see it: the dashboard's on-track page and the JSON over real HTTP,
and /chitieu in chat with a chart for the indicator picked. The demo province's data; the
expected statuses come from reporting.progress on the same database, the page must show them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.app import create_app
from bot.conversation.callbacks import MAX_BYTES
from bot.conversation.types import IncomingMessage
from bot.runtime import create_runtime
from bot.settings import Settings
from bot.storage.db import unit_of_work
from reporting import areas, demo, people
from reporting.periods import parse
from reporting.plans import load_plans
from reporting.progress import track_plan
from tests.fakes.server import serve

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
PLAN = "ls-ktth-nn-2030"
PASSWORD = "dashboard-pass-123"


@pytest.fixture
def seeded(settings: Settings, tmp_path: Path) -> Settings:
    cfg = Settings(**{**settings.model_dump(), "files_dir": tmp_path / "files", "admin_password": PASSWORD})
    rt = create_runtime(cfg)
    try:
        with unit_of_work(rt.sessions) as session:
            demo.seed(session, now=NOW)
    finally:
        rt.close()
    return cfg


def _tracked(cfg: Settings, period: str = "2026", plan: str = PLAN):
    rt = create_runtime(cfg)
    try:
        with rt.sessions() as session:
            return {t.result.id: t for t in track_plan(session, load_plans()[plan], parse(period))}
    finally:
        rt.close()


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _section(page: str, indicator: str) -> str:
    start = page.index(f'data-indicator="{indicator}"')
    return _text(page[start:page.index("</section>", start)])


@contextmanager
def _login(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=120) as client:
        r = client.post("/admin/login", data={"username": "admin", "password": PASSWORD})
        assert r.status_code in (200, 303)
        yield client


def test_the_on_track_page_shows_status_gap_and_how_numbers_are_made(seeded: Settings) -> None:
    tracked = _tracked(seeded)
    straw = tracked["straw_reuse_pct"]
    assert straw.assessment.status in ("on_track", "behind", "ahead", "reached")  # the demo has data
    with serve(create_app(seeded)) as url, _login(url) as client:
        for path in ("/admin/progress", "/admin/progress/line.png", "/admin/progress/communes.png"):
            anonymous = httpx.get(url + path, params={"plan": PLAN, "period": "2026", "indicator": "straw_reuse_pct"})
            assert anonymous.status_code != 200 and not anonymous.content.startswith(b"\x89PNG")
        page = client.get("/admin/progress", params={"plan": PLAN, "period": "2026"})
        assert page.status_code == 200
        for indicator, t in tracked.items():
            section = _section(page.text, indicator)
            assert t.assessment.status_label in section
            assert t.assessment.gap_text in section
            assert "-" not in t.assessment.gap_text
            if t.result.definition.definition:
                assert t.result.definition.definition in section
        section = _section(page.text, "straw_reuse_pct")
        numerator = f"{straw.result.numerator:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")
        numerator = numerator.removesuffix(",0")
        assert f"{numerator} tấn rơm rạ thu gom, tái sử dụng / " in section
        assert "tấn rơm rạ phát sinh" in section and "Nguồn Tử số: Báo cáo cấp xã" in section
        assert straw.assessment.path.start_text() in section
        # the line chart and the chart of every commune, for this indicator and no other
        line = client.get("/admin/progress/line.png", params={"plan": PLAN, "period": "2026",
                                                               "indicator": "straw_reuse_pct"})
        assert line.status_code == 200 and line.content[:4] == b"\x89PNG"
        communes = client.get("/admin/progress/communes.png", params={"plan": PLAN, "period": "2026",
                                                                      "indicator": "straw_reuse_pct"})
        assert communes.status_code == 200 and communes.content[:4] == b"\x89PNG"
        for forged in ({"indicator": "fish_cages"}, {"indicator": "x"}, {"period": "nam-nay"},
                       {"plan": "ag-ktth-2030", "indicator": "fish_cages"}):
            r = client.get("/admin/progress/line.png",
                           params={"plan": PLAN, "period": "2026", "indicator": "straw_reuse_pct", **forged})
            assert r.status_code == 404
        # the indicators page links here and shows the same status
        home = client.get("/admin", params={"plan": PLAN, "period": "2026"}).text
        assert "/admin/progress?plan=ls-ktth-nn-2030&amp;period=2026" in home
        row = home[home.index('data-indicator="straw_reuse_pct"'):]
        assert straw.assessment.gap_text in _text(row[:row.index("</tr>")])
        assert "Còn thiếu -" not in _text(home)


def test_every_commune_listed_sorted_and_filtered(seeded: Settings) -> None:
    hh = _tracked(seeded)["household_waste_treatment_pct"]
    standings = hh.standings(areas.former_districts())
    with serve(create_app(seeded)) as url, _login(url) as client:
        base = {"plan": PLAN, "period": "2026", "indicator": "household_waste_treatment_pct"}
        page = client.get("/admin/progress", params=base).text
        rows = re.findall(r'<tr data-commune="(\d+)" data-status="(\w+)"', page)
        assert len(rows) == 65 == hh.result.communes_total  # all communes, not the best 25
        assert [int(c) for c, _ in rows] == [s.code for s in standings]  # highest first, missing last
        behind = [s for s in standings if s.below_path]
        by_status = client.get("/admin/progress", params={**base, "status": "behind"}).text
        shown = re.findall(r'<tr data-commune="(\d+)" data-status="(\w+)"', by_status)
        assert [int(c) for c, _ in shown] == [s.code for s in behind]
        assert all(status == "behind" for _, status in shown)
        district = areas.former_district(standings[0].code)
        assert district
        in_district = client.get("/admin/progress", params={**base, "district": district, "sort": "name"}).text
        codes = [int(c) for c in re.findall(r"<tr data-commune=\"(\d+)\"", in_district)]
        expected = sorted((s for s in standings if s.district == district), key=lambda s: areas.fold(s.name))
        assert codes == [s.code for s in expected] and len(codes) < 65
        ascending = client.get("/admin/progress", params={**base, "sort": "value_asc"}).text
        values = [float(v) for v in re.findall(r'<td class="value" data-value="([\d.]+)"', ascending)]
        assert values == sorted(values) and len(values) == hh.result.communes_reporting


def test_the_json_has_the_assessment_and_a_real_zero(seeded: Settings) -> None:
    tracked = _tracked(seeded, "2025")
    with serve(create_app(seeded)) as url, _login(url) as client:
        data = client.get("/api/indicators", params={"plan": PLAN, "period": "2025"}).json()
    for row in data["indicators"]:
        a = tracked[row["id"]].assessment
        assert {"value", "gap", "numerator", "denominator", "by_commune"} <= set(row)  # old fields kept
        assert row["assessment"]["status"] == a.status and row["assessment"]["gap_text"] == a.gap_text
        expected = None if a.expected_now is None else round(a.expected_now, 2)
        assert row["assessment"]["expected_now"] == expected
    trainings = next(r for r in data["indicators"] if r["id"] == "trainings_held")
    zero = [c for c in trainings["by_commune"] if c["numerator"] == 0]
    assert zero and all(c["value"] == 0 and c["status"] == "ok" for c in zero)  # reported, held none: 0
    assert all(c["status"] == "missing" for c in trainings["by_commune"] if c["value"] is None)


def test_chitieu_status_on_the_path_and_the_chart_of_the_indicator_picked(seeded: Settings) -> None:
    tracked = _tracked(seeded, "2025")
    rt = create_runtime(seeded)
    try:
        with unit_of_work(rt.sessions) as session:
            code = people.create_invite(session, role=people.PROVINCIAL_OFFICIAL, province_code=20, now=NOW).code

        def say(text=None, button=None):
            return rt.handle(IncomingMessage(channel="web", user_id="official", text=text, button=button, at=NOW))

        say(code)
        replies = say(button=f"ind:show:{PLAN}:2025")
        summary = replies[0].text
        for t in tracked.values():
            line = next(x for x in summary.splitlines() if x.startswith(f"• {t.result.definition.title}:"))
            if t.assessment.status != "no_target":
                assert t.assessment.status_label in line
            if t.assessment.status in ("behind", "ahead", "reached"):
                assert t.assessment.gap_text.lower() in line.lower()
        buttons = [b for r in replies for row in r.buttons for b in row]
        assert all(len(b.data.encode()) <= MAX_BYTES for b in buttons)
        titles = {b.text.removeprefix("📈 "): b.data for b in buttons}
        farms = titles["Tỷ lệ trang trại áp dụng xử lý chất thải"]
        straw = titles["Tỷ lệ rơm rạ được thu gom, tái sử dụng"]
        farm_charts, straw_charts = say(button=farms), say(button=straw)
        # forged or stale buttons: another province's plan, a period not offered, no such indicator
        forged = [say(button=data) for data in (
            "ind:chart:ag-ktth-2030:2025:0", f"ind:chart:{PLAN}:2019:0", f"ind:chart:{PLAN}:2025:99",
            f"ind:chart:{PLAN}:2025:-1", f"ind:chart:{PLAN}:2025:0:extra", f"ind:show:{PLAN}:2031")]
    finally:
        rt.close()
    farm_captions = [r.text for r in farm_charts if r.image]
    straw_captions = [r.text for r in straw_charts if r.image]
    assert len(straw_captions) == 2 and all("rơm rạ" in c for c in straw_captions)
    assert farm_captions and all("trang trại" in c for c in farm_captions)
    a = tracked["straw_reuse_pct"].assessment
    assert f"— {a.status_label}. {a.gap_text}." in straw_captions[0]
    images = {r.image for r in farm_charts + straw_charts if r.image}
    assert len(images) == len(farm_captions) + len(straw_captions)  # each indicator its own chart
    for name in images:
        assert (seeded.files_dir / name.removeprefix("/files/")).read_bytes()[:4] == b"\x89PNG"
    for replies in forged:
        assert not any(r.image for r in replies)
        assert replies[0].text == "Bác xem chỉ tiêu của kế hoạch nào?"


def test_an_official_asks_in_words_and_gets_figures_not_a_card(seeded: Settings) -> None:
    """«tỷ lệ rơm rạ năm 2026», «tiến độ hộ chăn nuôi…», «xã nào chưa báo cáo»: figures and the
    status on the path; a farmer typing the same words gets the cards; the official can still
    ask for the cards with one tap."""
    tracked = _tracked(seeded, "2026")
    rt = create_runtime(seeded)
    try:
        with unit_of_work(rt.sessions) as session:
            code = people.create_invite(session, role=people.PROVINCIAL_OFFICIAL, province_code=20, now=NOW).code
            plan = load_plans()[PLAN]
            from reporting.completeness import completeness
            missing = {name for c in completeness(session, plan=plan, period=parse("2026")) for name in c.missing}

        def say(text=None, button=None, user="official"):
            return rt.handle(IncomingMessage(channel="web", user_id=user, text=text, button=button, at=NOW))

        say(code)
        straw = say("ty le rom ra nam 2026 dat bao nhieu")
        household = say("tiến độ hộ chăn nuôi xử lý chất thải")
        late = say("xã nào chưa báo cáo")
        half = say("tỷ lệ rơm rạ 6 tháng đầu năm 2026")  # the plan reports by year: said so
        cards = say(button=next(b.data for row in straw[0].buttons for b in row if b.data == "ask:cards"))
        farmer = say("ty le rom ra nam 2026 dat bao nhieu", user="farmer")
    finally:
        rt.close()
    a, r = tracked["straw_reuse_pct"].assessment, tracked["straw_reuse_pct"].result
    text = straw[0].text
    assert "Tỷ lệ rơm rạ được thu gom, tái sử dụng" in text and "Năm 2026" in text
    from reporting.progress import figure
    assert f"Giá trị: {figure(r.value, '%')}" in text
    assert "tấn" in text  # numerator and denominator with their unit
    assert f"Mục tiêu: {figure(a.target, '%')} năm {a.target_year}" in text
    assert a.summary in text and f"{r.communes_reporting}/{r.communes_total}" in text
    assert len(a.history) >= 2 and f"Qua các kỳ: {a.history_text}" in text  # the trend, year by year
    h = tracked["household_waste_treatment_pct"].assessment
    assert h.summary in household[0].text and "hộ chăn nuôi" in household[0].text.lower()
    assert "Tình hình báo cáo" in late[0].text
    assert "báo cáo theo năm, nên đây là số liệu cả năm" in half[0].text and "Năm 2026" in half[0].text
    assert missing and all(name in late[0].text for name in sorted(missing)[:5])
    # the same words from a farmer, and «Không, tôi hỏi kỹ thuật»: the cards, never figures
    for replies in (farmer, cards):
        assert "Giá trị:" not in replies[0].text and "Tiến độ:" not in replies[0].text


def test_the_workbook_and_the_summary_carry_every_year_with_the_path(seeded: Settings) -> None:
    """Item 1 in the exports and /chitieu: each year's value beside the path's value there."""
    import openpyxl

    tracked = _tracked(seeded, "2026")
    rt = create_runtime(seeded)
    try:
        with unit_of_work(rt.sessions) as session:
            code = people.create_invite(session, role=people.PROVINCIAL_OFFICIAL, province_code=20, now=NOW).code
        rt.handle(IncomingMessage(channel="web", user_id="official", text=code, at=NOW))
        replies = rt.handle(IncomingMessage(channel="web", user_id="official", button=f"ind:show:{PLAN}:2026", at=NOW))
    finally:
        rt.close()
    straw = tracked["straw_reuse_pct"].assessment
    assert f"Qua các kỳ: {straw.history_text}" in replies[0].text
    book = next(r.document for r in replies if r.document)
    sheet = openpyxl.load_workbook(seeded.files_dir / book.removeprefix("/files/"))["Tiến độ qua các năm"]
    rows = [row for row in sheet.iter_rows(min_row=8, values_only=True)
            if row[1] == "Tỷ lệ rơm rạ được thu gom, tái sử dụng"]
    assert [row[2] for row in rows] == [p.period.name for p in straw.history]
    assert [row[3] for row in rows] == [round(p.value, 1) for p in straw.history]
    assert rows[-1][4] == round(straw.expected_now, 1) and rows[-1][5] == "80 % năm 2030"


def test_the_workbook_gap_column_is_the_gap_to_the_path_even_once_the_target_is_reached(seeded: Settings) -> None:
    import io

    import openpyxl

    from reporting.completeness import completeness
    from reporting.exports import progress_by_indicator, to_xlsx
    from reporting.indicators import compute

    rt = create_runtime(seeded)
    try:
        with rt.sessions() as session:
            plan, period = load_plans()[PLAN], parse("2026")
            progress = progress_by_indicator(session, plan, period)
            book = to_xlsx(compute(session, plan=plan, period=period),
                           completeness(session, plan=plan, period=period), progress=progress)
    finally:
        rt.close()
    reached = [a for a in (progress or {}).values() if a.status == "reached" and not a.at_start]
    assert reached  # the demo's cooperatives reached is past its target
    sheet = openpyxl.load_workbook(io.BytesIO(book))["Tổng hợp"]
    header = [c.value for c in sheet[7]]
    column = header.index("Chênh lệch với lộ trình")
    for a in reached:
        row = next(r for r in sheet.iter_rows(min_row=8, values_only=True) if r[1] == a.title)
        assert row[column] == a.path_gap_text and "lộ trình" in row[column] and "mục tiêu" not in row[column]
