"""Indicator outputs as officials get them: CLI, HTTP (JSON, Excel, CSV), charts, chat, demo."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.app import create_app
from bot.conversation.types import IncomingMessage
from bot.runtime import create_runtime
from bot.services import api_tokens, files
from bot.settings import Settings
from bot.storage.db import unit_of_work
from reporting import charts, demo, people
from reporting.indicators import compute
from reporting.models import Report
from reporting.periods import parse
from reporting.plans import load_plans
from tests.fakes.server import serve
from tests.test_cli import run

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
PLAN = "ls-ktth-nn-2030"


@pytest.fixture
def seeded(settings: Settings, tmp_path: Path) -> Settings:
    cfg = Settings(**{**settings.model_dump(), "files_dir": tmp_path / "files"})
    rt = create_runtime(cfg)
    try:
        with unit_of_work(rt.sessions) as session:
            demo.seed(session, now=NOW)
    finally:
        rt.close()
    return cfg


def test_demo_seed_is_plausible_and_only_once(seeded: Settings) -> None:
    rt = create_runtime(seeded)
    try:
        with rt.sessions() as session:
            assert not demo.is_empty(session)
            late = session.scalar(select(func.count()).select_from(Report).where(Report.late.is_(True)))
            report = compute(session, plan=load_plans()[PLAN], period=parse("2025"))
    finally:
        rt.close()
    assert late > 0
    hh = next(r for r in report.results if r.id == "household_waste_treatment_pct")
    assert 10 < hh.value < 80 and 0 < hh.communes_reporting < hh.communes_total == 65
    out = run("demo", "seed", env_db=seeded.database_url)
    assert out.returncode == 1 and "already has reporting data" in out.stdout
    assert run("demo", "seed", "--if-empty", env_db=seeded.database_url).returncode == 0


def test_cli_formats(seeded: Settings, tmp_path: Path) -> None:
    table = run("indicators", "--plan", PLAN, "--period", "2025", env_db=seeded.database_url)
    assert table.returncode == 0, table.stderr
    assert "Tỷ lệ hộ chăn nuôi áp dụng xử lý chất thải" in table.stdout and "Kỳ: Năm 2025 (15/12/2024" in table.stdout
    as_json = run("indicators", "--plan", PLAN, "--period", "2025", "--format", "json", env_db=seeded.database_url)
    data = json.loads(as_json.stdout)
    assert data["period"] == "2025" and len(data["indicators"]) == len(load_plans()["ls-ktth-nn-2030"].indicators) == 10
    xlsx = tmp_path / "out.xlsx"
    out = run("indicators", "--plan", PLAN, "--period", "2025", "--format", "xlsx", "-o", str(xlsx),
              env_db=seeded.database_url)
    assert out.returncode == 0 and xlsx.stat().st_size > 5000
    bad = run("indicators", "--plan", "nope", "--period", "2025", env_db=seeded.database_url)
    assert bad.returncode == 2 and "no plan" in bad.stderr


def test_http_json_xlsx_csv_agree(seeded: Settings) -> None:
    app = create_app(seeded)
    with unit_of_work(app.state.runtime.sessions) as session:  # a province system's API token
        token = api_tokens.create(session, name="Sở NN&MT", province_code=20, created_by="admin", now=NOW)
    with serve(app) as url, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as system:
        api = system.get("/api/indicators", params={"plan": PLAN, "period": "2025"}).json()
        book = system.get("/api/indicators.xlsx", params={"plan": PLAN, "period": "2025"})
        csv_text = system.get("/api/indicators.csv", params={"plan": PLAN, "period": "2025"}).text
        assert system.get("/api/indicators", params={"plan": "x", "period": "2025"}).status_code == 404
        assert system.get("/api/indicators", params={"plan": PLAN, "period": "2025X"}).status_code == 422
        assert system.get("/api/indicators", params={"plan": PLAN}).status_code == 422
        assert system.get("/api/indicators",
                          params={"plan": PLAN, "period": "2025", "commune": 26734}).status_code == 404
    cli = json.loads(run("indicators", "--plan", PLAN, "--period", "2025", "--format", "json",
                         env_db=seeded.database_url).stdout)
    assert api == cli
    assert book.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "chi-tieu-ls-ktth-nn-2030-2025.xlsx" in book.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(book.content))
    summary = wb["Tổng hợp"]
    assert summary["A1"].value == "Sở Nông nghiệp và Môi trường tỉnh Lạng Sơn"
    assert "Quyết định 540/QĐ-TTg" in summary["A2"].value
    assert summary["A3"].value == "Kỳ báo cáo: Năm 2025 (15/12/2024 – 14/12/2025)"
    assert summary["A4"].value.startswith("Ngày xuất số liệu: ")
    assert summary.freeze_panes == "A8"
    assert [c.value for c in summary[7]][:5] == ["STT", "Chỉ tiêu", "Đơn vị", "Giá trị", "Mục tiêu"]
    hh_api = next(i for i in api["indicators"] if i["id"] == "household_waste_treatment_pct")
    row = next(r for r in summary.iter_rows(min_row=8, values_only=True) if r[1] == hh_api["title"])
    assert row[3] == round(hh_api["value"], 1) and row[4] == 60
    position = [i["id"] for i in api["indicators"]].index("household_waste_treatment_pct") + 1
    per_commune = wb.worksheets[position]  # sheets are named in Vietnamese: «4. Tỷ lệ hộ chăn nuôi …»
    assert per_commune.title.startswith(f"{position}. Tỷ lệ hộ chăn nuôi")
    assert any(hh_api["title"] in str(c.value) for row in per_commune.iter_rows(max_row=5) for c in row)
    assert per_commune.max_row == 7 + 65
    assert wb.sheetnames[-2:] == ["Tình hình báo cáo", "Chưa báo cáo"]
    assert csv_text.splitlines()[0].startswith("\ufeffplan,period,indicator")
    assert sum(1 for line in csv_text.splitlines() if ",household_waste_treatment_pct," in line) == 66


def test_charts_are_png(seeded: Settings) -> None:
    rt = create_runtime(seeded)
    try:
        with rt.sessions() as session:
            report = compute(session, plan=load_plans()[PLAN], period=parse("2025"))
    finally:
        rt.close()
    png = charts.by_commune(report.results[0])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    trend = charts.over_periods("Hộ xử lý chất thải", "%", [("2025", 35.0), ("2026", None)], 60)
    assert trend[:8] == b"\x89PNG\r\n\x1a\n"


def test_official_gets_summary_chart_and_workbook_in_chat(seeded: Settings) -> None:
    rt = create_runtime(seeded)
    try:
        with unit_of_work(rt.sessions) as session:
            code = people.create_invite(session, role=people.PROVINCIAL_OFFICIAL, province_code=20, now=NOW).code

        def say(text=None, button=None, user="official"):
            return rt.handle(IncomingMessage(channel="web", user_id=user, text=text, button=button, at=NOW))

        assert "dành cho cán bộ tỉnh" in say("/chitieu", user="farmer")[0].text
        say(code)
        replies = say("/chitieu")
        plan_button = next(b.data for row in replies[0].buttons for b in row if b.data == f"ind:plan:{PLAN}")
        replies = say(button=plan_button)
        labels = [b.text for row in replies[0].buttons for b in row]
        assert labels[0].startswith("Năm 2026") and labels[1].startswith("Năm 2025")
        replies = say(button=f"ind:show:{PLAN}:2025")
        # the charts are for the indicator picked (a button per indicator)
        pick = next(b.data for r in replies for row in r.buttons for b in row if "hộ chăn nuôi" in b.text)
        charted = say(button=pick)
    finally:
        rt.close()
    assert "📊" in replies[0].text and "Tỷ lệ hộ chăn nuôi áp dụng xử lý chất thải" in replies[0].text
    assert "mục tiêu 60 %" in replies[0].text and "Báo cáo cấp xã, kỳ 6 tháng cuối năm 2025: nhận " in replies[0].text
    image = next(r.image for r in charted if r.image)
    document = next(r.document for r in replies if r.document)
    assert (seeded.files_dir / image.removeprefix("/files/")).read_bytes()[:4] == b"\x89PNG"
    assert load_workbook(seeded.files_dir / document.removeprefix("/files/")).sheetnames[0] == "Tổng hợp"
    with serve(create_app(seeded)) as url:
        assert httpx.get(f"{url}{image}").status_code == 401  # knowing the name is not enough
        # the link a Zalo message carries holds the file's key
        assert httpx.get(f"{url}{files.share_link(seeded.files_dir, image)}").content[:4] == b"\x89PNG"
        assert httpx.get(f"{url}/files/../../etc/passwd").status_code == 404
