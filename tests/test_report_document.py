"""What the province sends as it is: the workbook (sheet names, letterhead on every sheet, units,
rounding, one missing unit per row, print setup) and the report document (.docx) — built from
the demo province in a real SQLite file, from the CLI and through the dashboard over HTTP."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from docx import Document
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.app import create_app
from bot.dashboard import auth
from bot.runtime import create_runtime
from bot.settings import Settings
from bot.storage.db import unit_of_work
from bot.storage.models import DashboardUser
from reporting import demo
from reporting.clock import local_date
from reporting.completeness import FormCompleteness, completeness
from reporting.exports import progress_by_indicator, to_xlsx
from reporting.indicators import IndicatorReport, compute, definitions
from reporting.numbers import format_number
from reporting.periods import parse
from reporting.plans import load_plans
from reporting.progress import Assessment
from reporting.report_document import to_docx
from tests.fakes.server import serve
from tests.test_cli import run

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)
PLAN = "ls-ktth-nn-2030"
PASSWORD = "Rơm-Rạ-Tuần-Hoàn-2026"
AGENCY = "Sở Nông nghiệp và Môi trường tỉnh Lạng Sơn"
PERIOD_ID = re.compile(r"\b\d{4}(S|Q)\d\b")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The demo province in a real SQLite file (seeded once: the tests only read it)."""
    root = tmp_path_factory.mktemp("report-document")
    cfg = Settings(database_url=f"sqlite:///{root / 'agribot.db'}", admin_password=PASSWORD,
                   files_dir=root / "files", scheduler_enabled=False, flood_limit_per_minute=1000)
    rt = create_runtime(cfg)
    try:
        with unit_of_work(rt.sessions) as session:
            demo.seed(session, now=NOW)
            session.add(DashboardUser(username="angiang", role="provincial_official", province_code=91,
                                      password_hash=auth.hash_password("an-giang-pass-1"), created_at=NOW))
    finally:
        rt.close()
    return cfg


def _figures(cfg: Settings, period: str, plan_id: str = PLAN) -> tuple[IndicatorReport, list[FormCompleteness]]:
    report, rates, _ = _with_progress(cfg, period, plan_id)
    return report, rates


def _with_progress(cfg: Settings, period: str, plan_id: str = PLAN
                   ) -> tuple[IndicatorReport, list[FormCompleteness], dict[str, Assessment]]:
    rt = create_runtime(cfg, load_content=False)
    try:
        with rt.sessions() as session:
            plan = load_plans()[plan_id]
            report = compute(session, plan=plan, period=parse(period))
            progress = progress_by_indicator(session, plan, parse(period), today=TODAY)
            assert progress is not None
            return report, completeness(session, plan=plan, period=parse(period)), progress
    finally:
        rt.close()


def _texts(ws: Worksheet) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


def _vn(value: float, places: int = 1) -> str:
    return format_number(round(value, places))


# -- the workbook ---------------------------------------------------------------------------------
def test_workbook_sheets_letterhead_and_print_setup(seeded: Settings) -> None:
    report, rates = _figures(seeded, "2026S2")
    wb = load_workbook(io.BytesIO(to_xlsx(report, rates, today=TODAY)))
    ids = set(definitions())
    assert wb.sheetnames[0] == "Tổng hợp" and wb.sheetnames[-2:] == ["Tình hình báo cáo", "Chưa báo cáo"]
    assert wb.sheetnames[1].startswith("1. Tỷ lệ rơm rạ")
    for ws in wb.worksheets:
        assert not any(i in ws.title for i in ids) and not PERIOD_ID.search(ws.title), ws.title
        # the letterhead on every sheet: agency (derived from the plan's province), document, period, date
        assert ws["A1"].value == AGENCY
        assert "Quyết định 540/QĐ-TTg" in ws["A2"].value
        assert ws["A3"].value == "Kỳ báo cáo: 6 tháng cuối năm 2026 (15/06/2026 – 14/12/2026)"
        assert ws["A4"].value == "Ngày xuất số liệu: 26/11/2026"
        # no id, no «2026S2» anywhere a person reads
        texts = _texts(ws)
        assert not [t for t in texts if PERIOD_ID.search(t)], ws.title
        assert not [t for t in texts if t in ids], ws.title
        # printed on A4 landscape, one page wide, the column header repeated on every page
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9  # A4
        assert int(ws.page_setup.fitToWidth) == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$7:$7" and ws["A7"].value == "STT"
        assert ws.freeze_panes == "A8"
    wb_named = load_workbook(io.BytesIO(to_xlsx(report, rates, agency="Sở NN&MT thử nghiệm", today=TODAY)))
    assert {ws["A1"].value for ws in wb_named.worksheets} == {"Sở NN&MT thử nghiệm"}


def test_workbook_figures_units_gaps_and_missing_units(seeded: Settings) -> None:
    report, rates, progress = _with_progress(seeded, "2026")
    wb = load_workbook(io.BytesIO(to_xlsx(report, rates, today=TODAY, progress=progress)))
    summary = wb["Tổng hợp"]
    header = [c.value for c in summary[7]]
    col = {title: i for i, title in enumerate(header)}
    rows = {r[1]: r for r in summary.iter_rows(min_row=8, values_only=True)}
    cells = {summary.cell(row=i, column=2).value: i for i in range(8, summary.max_row + 1)}
    exceeded = 0
    for r in report.results:
        row = rows[r.definition.title]
        if r.value is not None:
            assert row[col["Giá trị"]] == round(r.value, 1 if r.definition.unit == "%" else 0)
        if r.target is not None and r.value is not None and r.value > r.target:
            assert row[col["Còn thiếu so với mục tiêu"]] == "Vượt mục tiêu"  # never a negative gap
            exceeded += 1
        elif r.target is not None and r.value is not None:
            assert row[col["Còn thiếu so với mục tiêu"]] == round(r.target - r.value, 1) > 0
        # every figure as a person writes it: no 60884.40000000001
        for value in row:
            if isinstance(value, float):
                assert value == round(value, 1), (r.id, value)
        # the unit shown in the cell (number format) of every figure
        number_cell = summary.cell(row=cells[r.definition.title], column=col["Tử số"] + 1)
        if number_cell.value is not None:
            assert '"' in number_cell.number_format
    assert exceeded >= 1  # the demo's cooperatives reached exceed the 50 % target
    # on track: the path's value, the status and the gap to the path, as reporting/progress says
    statuses = set()
    for r in report.results:
        row, assessment = rows[r.definition.title], progress[r.id]
        assert row[col["Tiến độ so với lộ trình"]] == assessment.status_label
        assert row[col["Chênh lệch với lộ trình"]].startswith(assessment.path_gap_text)  # to the path
        if assessment.expected_now is not None and not assessment.at_start:
            assert row[col["Mức cần đạt theo lộ trình"]] == round(assessment.expected_now, 1)
        statuses.add(assessment.status)
    assert "behind" in statuses  # the demo's farms are behind the path to 100 %
    straw = rows["Tỷ lệ rơm rạ được thu gom, tái sử dụng"]
    assert "Tử số: Rơm rạ thu gom, tái sử dụng trong kỳ (tấn)" in straw[col["Cách tính"]]
    assert "Mẫu số: Lượng rơm rạ phát sinh cả năm (tấn)" in straw[col["Cách tính"]]
    straw_cell = summary.cell(row=cells["Tỷ lệ rơm rạ được thu gom, tái sử dụng"], column=col["Tử số"] + 1)
    assert straw_cell.number_format == '#,##0.0 "tấn"'
    # per commune: units in the column headers
    straw_sheet = wb["1. Tỷ lệ rơm rạ được thu gom,…"]
    assert [c.value for c in straw_sheet[7]][3:7] == [
        "Tử số: Rơm rạ thu gom, tái sử dụng trong kỳ (tấn)", "Mẫu số: Lượng rơm rạ phát sinh cả năm (tấn)",
        "Giá trị (%)", "So với lộ trình của tỉnh"]
    marks = {r[6] for r in straw_sheet.iter_rows(min_row=8, values_only=True) if r[5] is not None}
    assert marks and marks <= {"dưới lộ trình", "đúng tiến độ", "trên lộ trình", "đã đạt mục tiêu"}
    households = next(ws for ws in wb.worksheets if ws.title.startswith("3. Tỷ lệ hộ chăn nuôi"))
    assert [c.value for c in households[7]][4] == "Mẫu số: Số hộ chăn nuôi (hộ)"
    assert households.max_row == 7 + 65
    # one unit that has not reported per row, as many rows as units missing
    missing = wb["Chưa báo cáo"]
    listed = [r for r in missing.iter_rows(min_row=8, values_only=True)]
    expected = [(name, fc.title) for fc in rates for name in fc.missing]
    assert len(expected) > 10 and [(r[1], r[2]) for r in listed] == expected
    assert [r[0] for r in listed] == list(range(1, len(expected) + 1))
    assert all(r[3] == "6 tháng cuối năm 2026" for r in listed)
    forms = wb["Tình hình báo cáo"]
    commune_row = next(r for r in forms.iter_rows(min_row=8, values_only=True) if r[1] == "Báo cáo cấp xã")
    commune_rates = next(fc for fc in rates if fc.form == "commune")
    assert commune_row[4:7] == (commune_rates.expected, commune_rates.received, commune_rates.on_time)
    assert [c.value for c in forms[7]][4] == "Phải nộp (đơn vị)"


def test_a_real_zero_is_zero_and_missing_stays_empty(seeded: Settings) -> None:
    report, rates = _figures(seeded, "2026S2")
    wb = load_workbook(io.BytesIO(to_xlsx(report, rates, today=TODAY)))
    trainings = next(r for r in report.results if r.id == "trainings_held")
    rows = list(wb["8. Số buổi tập huấn"].iter_rows(min_row=8, values_only=True))
    by_name = {r[2]: r for r in rows}
    zero = [c for c in trainings.by_commune if c.numerator == 0]  # reported, held no training
    missing = [c for c in trainings.by_commune if c.status == "missing"]
    assert zero and missing
    assert all(by_name[c.name][3] == 0 and by_name[c.name][-1] == "có số liệu" for c in zero)
    assert all(by_name[c.name][3] is None and by_name[c.name][-1] == "chưa báo cáo" for c in missing)
    texts = _paragraphs(Document(io.BytesIO(to_docx(report, rates, today=TODAY))))
    assert f"8. Số buổi tập huấn: đạt {int(trainings.value or 0)} buổi. Số liệu của " \
           f"{trainings.communes_reporting}/65 xã có báo cáo." in texts
    empty, empty_rates = _figures(seeded, "2024")  # the plan's first year: nothing reported yet
    texts = _paragraphs(Document(io.BytesIO(to_docx(empty, empty_rates, today=TODAY))))
    assert any(t.startswith("3. Tỷ lệ hộ chăn nuôi áp dụng xử lý chất thải: chưa tính được (chưa có xã nào báo "
                            "cáo đủ số liệu).") for t in texts)
    summary = {r[1]: r for r in load_workbook(io.BytesIO(to_xlsx(empty, empty_rates, today=TODAY)))[
        "Tổng hợp"].iter_rows(min_row=8, values_only=True)}
    assert summary["Tỷ lệ hộ chăn nuôi áp dụng xử lý chất thải"][3] is None  # no report is no data, not 0


def test_a_figure_not_collected_is_not_a_report_missing(seeded: Settings) -> None:
    report, rates = _figures(seeded, "2026", "ls-cnsh-mt-2030")
    wb = load_workbook(io.BytesIO(to_xlsx(report, rates, today=TODAY)))
    enterprises = next(ws for ws in wb.worksheets if ws.title.startswith("3. Doanh nghiệp"))
    assert {r[-1] for r in enterprises.iter_rows(min_row=8, values_only=True)} == {"không thu qua báo cáo"}
    texts = _paragraphs(Document(io.BytesIO(to_docx(report, rates, today=TODAY))))
    assert any(t.startswith("3. Doanh nghiệp sản xuất chế phẩm sinh học xử lý chất thải: chưa thu thập qua báo "
                            "cáo của các đơn vị.") for t in texts)


# -- the report document --------------------------------------------------------------------------
def _paragraphs(doc) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for p in doc.paragraphs]


def test_report_document_shape_and_figures(seeded: Settings) -> None:
    report, rates, progress = _with_progress(seeded, "2026")
    doc = Document(io.BytesIO(to_docx(report, rates, today=TODAY, progress=progress)))
    heading = doc.tables[0].rows[0].cells
    assert heading[0].text.splitlines()[:2] == ["UBND TỈNH LẠNG SƠN", "SỞ NÔNG NGHIỆP VÀ MÔI TRƯỜNG"]
    assert heading[1].text.splitlines() == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                                            "Lạng Sơn, ngày 26 tháng 11 năm 2026"]
    texts = _paragraphs(doc)
    title = texts.index("BÁO CÁO")
    assert texts[title + 1] == ("Kết quả thực hiện kế hoạch «Kinh tế tuần hoàn trong nông nghiệp đến năm 2030 "
                                "(Lạng Sơn)», năm 2026")
    assert texts[title + 2] == "Kính gửi: Ủy ban nhân dân tỉnh Lạng Sơn"
    assert any(t.startswith("Căn cứ Kế hoạch thực hiện Đề án") and AGENCY in t for t in texts)
    assert "I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU" in texts and "II. TÌNH HÌNH BÁO CÁO CỦA CÁC ĐƠN VỊ" in texts
    # a paragraph per indicator, with the real figures
    for number, r in enumerate(report.results, start=1):
        paragraph = next(t for t in texts if t.startswith(f"{number}. {r.definition.title}: "))
        assert f"{r.communes_reporting}/{r.communes_total} xã" in paragraph
        if r.definition.unit == "%" and r.value is not None:
            assert f"đạt {_vn(r.value)} %" in paragraph
        if r.target is not None and r.value is not None:
            assert f"mục tiêu {_vn(r.target)} %" in paragraph
            assert ("vượt mục tiêu" in paragraph) == (r.value > r.target)
            if r.value < r.target:
                assert f"còn thiếu {_vn(r.target - r.value)} điểm %" in paragraph
        assessment = progress[r.id]
        said = f"so với lộ trình đến năm {assessment.target_year}: {assessment.status_label} ("
        assert (said in paragraph) == (assessment.status in ("behind", "ahead", "on_track")
                                       and not assessment.at_start), paragraph
    farms = next(t for t in texts if t.startswith("4. Tỷ lệ trang trại áp dụng"))
    assert progress["farm_waste_treatment_pct"].status == "behind"
    assert f"so với lộ trình đến năm 2030: chậm (chậm {_vn(progress['farm_waste_treatment_pct'].gap_points or 0)} " \
           f"điểm % so với lộ trình; mức cần đạt theo lộ trình " \
           f"{_vn(progress['farm_waste_treatment_pct'].expected_now or 0)} %)" in farms
    households = next(r for r in report.results if r.id == "household_waste_treatment_pct")
    line = next(t for t in texts if t.startswith("3. Tỷ lệ hộ chăn nuôi"))
    assert f"({_vn(households.numerator, 0)} hộ / {_vn(households.denominator, 0)} hộ)" in line
    assert next(t for t in texts if t.startswith("8. Số buổi tập huấn: đạt ")).split("đạt ")[1].split(" ")[1] \
        == "buổi."
    # the completeness table: a row per form, then every unit that has not reported
    forms, missing = doc.tables[1], doc.tables[2]
    assert [c.text for c in forms.rows[0].cells][:2] == ["STT", "Mẫu báo cáo"]
    assert [[c.text for c in row.cells][1:7] for row in forms.rows[1:]] == [
        [fc.title, fc.period_name, f"{fc.deadline:%d/%m/%Y}", str(fc.expected), str(fc.received), str(fc.on_time)]
        for fc in rates]
    assert [[c.text for c in row.cells][1:] for row in missing.rows[1:]] == [
        [name, fc.title] for fc in rates for name in fc.missing]
    # the signature block
    signature = doc.tables[-1].rows[0].cells
    assert signature[0].text.startswith("Nơi nhận:") and "UBND tỉnh Lạng Sơn (b/c)" in signature[0].text
    assert signature[1].text.splitlines()[0] == "GIÁM ĐỐC"


# -- from the CLI and the dashboard ---------------------------------------------------------------
def test_cli_report_end_to_end(seeded: Settings, tmp_path: Path) -> None:
    out = tmp_path / "bao-cao.docx"
    done = run("report", "--plan", PLAN, "--period", "2026S2", "-o", str(out), env_db=seeded.database_url)
    assert done.returncode == 0, done.stderr
    doc = Document(str(out))
    today = local_date(datetime.now(UTC))
    assert doc.tables[0].rows[0].cells[1].text.splitlines()[-1] == \
        f"Lạng Sơn, ngày {today:%d} tháng {today:%m} năm {today.year}"
    assert any(t.endswith("6 tháng cuối năm 2026") for t in _paragraphs(doc))
    assert any("so với lộ trình đến năm 2030: chậm (" in t for t in _paragraphs(doc))
    bad = run("report", "--plan", PLAN, "--period", "2026X", "-o", str(out), env_db=seeded.database_url)
    assert bad.returncode == 2 and "not a period id" in bad.stderr
    wrong = run("report", "--plan", PLAN, "--period", "2026", "-o", str(tmp_path / "x.pdf"),
                env_db=seeded.database_url)
    assert wrong.returncode == 2 and ".docx" in wrong.stderr


@pytest.fixture
def site(seeded: Settings) -> Iterator[str]:
    with serve(create_app(Settings(**{**seeded.model_dump(), "agency_name": "Sở Nông nghiệp và Môi trường "
                                                                             "tỉnh Lạng Sơn (thử)"}))) as url:
        yield url


def _login(client: httpx.Client, username: str, password: str) -> None:
    assert client.post("/admin/login", data={"username": username, "password": password}).status_code == 303


def test_dashboard_download_needs_a_session_of_the_province(site: str) -> None:
    query = {"plan": PLAN, "period": "2026"}
    refused = httpx.get(f"{site}/api/indicators.docx", params=query)
    assert refused.status_code == 401 and "Xã" not in refused.text
    with httpx.Client(base_url=site) as other:  # an official of An Giang reads only An Giang's plans
        _login(other, "angiang", "an-giang-pass-1")
        assert other.get("/api/indicators.docx", params=query).status_code == 403
    with httpx.Client(base_url=site) as admin:
        _login(admin, "admin", PASSWORD)
        page = admin.get("/admin", params={"plan": PLAN, "period": "2026"}).text
        link = re.search(r'id="download-docx" href="([^"]+)"', page)
        assert link is not None
        got = admin.get(link.group(1).replace("&amp;", "&"))
        assert got.status_code == 200 and got.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.wordprocessingml")
        assert 'filename="bao-cao-ls-ktth-nn-2030-2026.docx"' in got.headers["content-disposition"]
        doc = Document(io.BytesIO(got.content))
        assert "Sở Nông nghiệp và Môi trường tỉnh Lạng Sơn (thử)" in "\n".join(_paragraphs(doc))
        book = load_workbook(io.BytesIO(admin.get("/api/indicators.xlsx", params=query).content))
        assert book["Tổng hợp"]["A1"].value == "Sở Nông nghiệp và Môi trường tỉnh Lạng Sơn (thử)"
        assert admin.get("/api/indicators.docx", params={**query, "period": "2026X"}).status_code == 422
        assert admin.get("/api/indicators.docx", params={**query, "period": "0000"}).status_code == 422
        far = admin.get("/api/indicators.docx", params={**query, "period": "2099"})  # no path judged, no history
        assert far.status_code == 200 and "so với lộ trình" not in "\n".join(_paragraphs(Document(io.BytesIO(
            far.content))))
        assert admin.get("/api/indicators.docx", params={**query, "plan": "nope"}).status_code == 404
