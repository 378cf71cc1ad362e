"""Reports an official can sign, from the province's side: units of reporting, invites, the
cross-check of forms/plans/indicators, skipped and half-year figures in the indicators, and
what the dashboard shows — through the real CLI, real HTTP and the real router, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.app import create_app
from bot.conversation.types import IncomingMessage
from bot.runtime import create_runtime
from bot.settings import Settings
from bot.storage.db import unit_of_work
from reporting import consistency, people
from reporting.forms import FormsError
from reporting.models import Member, ReportingUnit
from tests.builders import HUU_LUNG, baseline, filed
from tests.conftest import ROOT
from tests.fakes.server import serve
from tests.test_cli import run
from tests.test_report_conversations import Chat, invite, start_form

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
HUU_LIEN = 6400
YEN_BINH = 6391
PLAN = "ls-ktth-nn-2030"
PASSWORD = "admin-pass-123"


def _code(out) -> str:
    assert out.returncode == 0, out.stderr
    return next(line.split()[1] for line in out.stdout.splitlines() if line.startswith("code:"))


def _redeem(settings: Settings, code: str, user: str) -> None:
    rt = create_runtime(settings)
    try:
        text = rt.handle(IncomingMessage(channel="web", user_id=user, text=code, at=NOW))[0].text
        assert "Đăng ký thành công" in text
    finally:
        rt.close()


def _units(settings: Settings) -> dict[str, ReportingUnit]:
    rt = create_runtime(settings)
    try:
        with rt.sessions() as s:
            return {u.name: u for u in s.scalars(select(ReportingUnit))}
    finally:
        rt.close()


# -- invites and units by CLI ------------------------------------------------------------------
def test_invite_by_commune_name_says_where_and_warns_about_a_twin(settings: Settings) -> None:
    db = settings.database_url
    out = run("invite", "create", "--role", "cooperative", "--commune", "huu lung", "--unit", "HTX Xanh", env_db=db)
    assert "xã: Xã Hữu Lũng, Lạng Sơn (6385)" in out.stdout
    _redeem(settings, _code(out), "coop-a")
    twin = run("invite", "create", "--role", "cooperative", "--commune", str(HUU_LIEN), "--unit", "htx xanh",
               env_db=db)
    assert "xã: Xã Hữu Liên, Lạng Sơn (6400)" in twin.stdout
    assert "Chú ý: đã có HTX cùng tên: HTX Xanh (HTX, Xã Hữu Lũng, Lạng Sơn)" in twin.stderr
    assert "sẽ tạo một đơn vị mới ở xã đã chọn" in twin.stderr
    wrong = run("invite", "create", "--role", "cooperative", "--commune", "99999", "--unit", "HTX Lạ", env_db=db)
    assert wrong.returncode == 2 and "không có xã/phường mã 99999" in wrong.stderr
    unknown = run("invite", "create", "--role", "cooperative", "--commune", "xyz không có", "--unit", "HTX", env_db=db)
    assert unknown.returncode == 2 and "không tìm thấy xã/phường tên «xyz không có»" in unknown.stderr
    other_province = run("invite", "create", "--role", "extension_officer", "--commune", "4", "--province", "20",
                         env_db=db)
    assert other_province.returncode == 2 and "không thuộc tỉnh mã 20" in other_province.stderr
    for days in ("0", "-3", "abc"):
        bad = run("invite", "create", "--role", "extension_officer", "--commune", "6385", "--days", days, env_db=db)
        assert bad.returncode == 2 and "--days" in bad.stderr and "code:" not in bad.stdout


def test_units_are_renamed_merged_and_retired_by_cli_with_completeness_following(settings: Settings) -> None:
    db = settings.database_url
    _redeem(settings, _code(run("invite", "create", "--role", "cooperative", "--commune", "6385", "--unit",
                                "HTX Chè Hữu Lũng", env_db=db)), "coop-a")
    _redeem(settings, _code(run("invite", "create", "--role", "cooperative", "--commune", "6385", "--unit",
                                "HTX Che Huu Lung (trùng)", env_db=db)), "coop-b")
    _redeem(settings, _code(run("invite", "create", "--role", "cooperative", "--commune", str(YEN_BINH), "--unit",
                                "HTX Rau Yên Bình", env_db=db)), "coop-c")
    found = _units(settings)
    keep, twin, third = found["HTX Chè Hữu Lũng"], found["HTX Che Huu Lung (trùng)"], found["HTX Rau Yên Bình"]
    rt = create_runtime(settings)
    try:
        with unit_of_work(rt.sessions) as s:
            filed(s, s.get(ReportingUnit, twin.id), "cooperative", {
                "applies_process": False, "member_households": 40, "member_households_applying": 10,
                "member_hh_biogas": 10, "member_hh_bedding": 0, "member_hh_compost": 0, "member_hh_other": 0,
                "straw_collected_t": 5}, period="2026S2")
    finally:
        rt.close()

    def coop_line() -> str:
        table = run("indicators", "--plan", PLAN, "--period", "2026S2", env_db=db)
        assert table.returncode == 0, table.stderr
        return next(line for line in table.stdout.splitlines() if line.strip().startswith("Báo cáo HTX"))

    assert "(6 tháng cuối năm 2026, hạn 10/12/2026): nhận 1/3" in coop_line()
    listed = run("unit", "list", "--province", "20", env_db=db)
    assert f"{twin.id}\tHTX\tHTX Che Huu Lung (trùng)\tXã Hữu Lũng, Lạng Sơn\t1 báo cáo" in listed.stdout

    merged = run("unit", "merge", str(twin.id), "--into", str(keep.id), env_db=db)
    assert merged.returncode == 0 and "1 báo cáo chuyển sang" in merged.stdout
    assert "nhận 1/2" in coop_line()  # the twin left; its report now counts for the one it joined
    again = run("unit", "merge", str(twin.id), "--into", str(keep.id), env_db=db)
    assert again.returncode == 2 and "lỗi:" in again.stderr

    renamed = run("unit", "rename", str(keep.id), "HTX Chè Xanh Hữu Lũng", env_db=db)
    assert "đã đổi tên: HTX Chè Xanh Hữu Lũng (HTX, Xã Hữu Lũng, Lạng Sơn)" in renamed.stdout
    retired = run("unit", "retire", str(third.id), env_db=db)
    assert retired.returncode == 0 and "HTX Rau Yên Bình" in retired.stdout
    assert "nhận 1/1" in coop_line()
    listed = run("unit", "list", env_db=db).stdout
    assert f"[đã gộp vào {keep.id}]" in listed and "[ngừng báo cáo]" in listed and "HTX Chè Xanh Hữu Lũng" in listed
    assert run("unit", "retire", "99999", env_db=db).returncode == 2

    rt = create_runtime(settings)
    try:  # the twin's people now report for the unit it joined; the retired unit's person is told
        twin_chat = Chat(rt, "coop-b")
        assert "HTX Chè Xanh Hữu Lũng" in twin_chat.say("/baocao")
        third_chat = Chat(rt, "coop-c")
        assert "«HTX Rau Yên Bình» đã ngừng báo cáo" in third_chat.say("/baocao")
        with rt.sessions() as s:
            assert s.scalar(select(Member.unit_id).where(Member.user_id == "coop-b")) == keep.id
    finally:
        rt.close()


# -- units and invites on the dashboard --------------------------------------------------------
def _login(client: httpx.Client, url: str, page: str = "/admin/units") -> str:
    assert client.post(f"{url}/admin/login", data={"username": "admin", "password": PASSWORD}).status_code in (200, 303)
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(f"{url}{page}").text)
    assert found
    return found.group(1)


def test_dashboard_renames_merges_and_retires_units_with_an_audit_line(settings: Settings) -> None:
    cfg = Settings(**{**settings.model_dump(), "admin_password": PASSWORD})
    app = create_app(cfg)
    rt = app.state.runtime
    for user, name in (("coop-a", "HTX Na Sầm"), ("coop-b", "HTX Na Sam 2"), ("coop-c", "HTX Mai Pha")):
        Chat(rt, user).say(invite(rt, people.COOPERATIVE, unit=name))
    with rt.sessions() as s:
        ids = {u.name: u.id for u in s.scalars(select(ReportingUnit))}
    with serve(app) as url, httpx.Client(follow_redirects=True) as client:
        csrf = _login(client, url)
        page = client.get(f"{url}/admin/units").text
        assert "HTX Na Sầm" in page and "Xã Hữu Lũng, Lạng Sơn" in page and "Đang báo cáo" in page
        forged = client.post(f"{url}/admin/units/{ids['HTX Mai Pha']}/retire", data={"csrf": "forged"})
        assert forged.status_code == 403
        done = client.post(f"{url}/admin/units/{ids['HTX Na Sầm']}/rename", data={"csrf": csrf, "name": "HTX Nà Sầm"})
        assert done.status_code == 200 and "Đã đổi tên đơn vị." in done.text
        assert "Đổi tên: «HTX Na Sầm» → «HTX Nà Sầm»" in done.text and "tài khoản admin (bảng điều khiển)" in done.text
        done = client.post(f"{url}/admin/units/{ids['HTX Na Sam 2']}/merge",
                           data={"csrf": csrf, "into": str(ids["HTX Na Sầm"])})
        assert "Đã gộp" in done.text and f"Đã gộp vào đơn vị số {ids['HTX Na Sầm']}" in done.text
        same = client.post(f"{url}/admin/units/{ids['HTX Mai Pha']}/merge",
                           data={"csrf": csrf, "into": str(ids["HTX Mai Pha"])})
        assert same.status_code == 422 and "Không gộp một đơn vị vào chính nó." in same.text
        done = client.post(f"{url}/admin/units/{ids['HTX Mai Pha']}/retire", data={"csrf": csrf})
        assert "Ngừng báo cáo từ" in done.text
        missing = client.post(f"{url}/admin/units/99999/retire", data={"csrf": csrf})
        assert missing.status_code == 422 and "Không có đơn vị số 99999" in missing.text

        csrf = _login(client, url, "/admin/invites")
        made = client.post(f"{url}/admin/invites", data={"csrf": csrf, "role": "cooperative", "commune": "Hữu Lũng",
                                                          "unit": "htx na sầm"})
        assert made.status_code == 200 and "cho Xã Hữu Lũng, Lạng Sơn (6385)" in made.text
        assert "Chú ý: đã có HTX cùng tên" in made.text and "dành cho chính đơn vị đó" in made.text
        unclear = client.post(f"{url}/admin/invites", data={"csrf": csrf, "role": "extension_officer",
                                                             "commune": "không có xã này"})
        assert unclear.status_code == 422 and "không tìm thấy xã/phường" in unclear.text
    rt.close()


# -- forms, plans and indicators agree ---------------------------------------------------------
def _broken_indicators(tmp_path: Path) -> Path:
    path = tmp_path / "indicators.yaml"
    text = (ROOT / "reporting" / "indicators.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("fields: [straw_reused_t]", "fields: [straw_reused_tt]", 1), encoding="utf-8")
    return path


def test_a_misspelt_indicator_field_stops_the_start(tmp_path: Path, monkeypatch) -> None:
    broken = _broken_indicators(tmp_path)
    found = consistency.problems(indicators_path=broken)
    assert found == ["indicators.yaml: straw_reuse_pct: field 'straw_reused_tt' is not in the form 'commune'"]
    monkeypatch.setattr(consistency, "DEFINITIONS", broken)
    with pytest.raises(FormsError, match="straw_reuse_pct: field 'straw_reused_tt'"):
        create_runtime(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    monkeypatch.undo()
    assert consistency.problems() == []


def test_plans_name_only_forms_and_indicators_that_exist(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    shutil.copytree(ROOT / "reporting" / "plans", plans)
    path = plans / "ls-nq19-2030.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("forms: [commune]", "forms: [commune, comune]"),
                    encoding="utf-8")
    assert "plans/ls-nq19-2030.yaml: forms: no form 'comune'" in consistency.problems(plans_dir=plans)
    forms = tmp_path / "forms.yaml"
    text = (ROOT / "reporting" / "forms.yaml").read_text(encoding="utf-8")
    forms.write_text(text.replace("role: farm\n", "role: farmer\n", 1), encoding="utf-8")
    found = consistency.problems(forms_path=forms)
    assert "forms.yaml: farm.role: unknown role 'farmer'; use one of extension_officer, cooperative, farm" in found
    assert "forms.yaml: role: no form for the role 'farm'" in found


def test_content_check_checks_the_reporting_data_too() -> None:
    out = run("content", "check")
    assert out.returncode == 0 and "forms, plans and indicators agree" in out.stdout


# -- indicators: skipped is no data, a year needs both halves, the cooperative's households -------
def _indicators(settings: Settings, period: str) -> dict[str, dict]:
    out = run("indicators", "--plan", PLAN, "--period", period, "--format", "json", env_db=settings.database_url)
    assert out.returncode == 0, out.stderr
    return {r["id"]: r for r in json.loads(out.stdout)["indicators"]}


def _commune(code: int, result: dict) -> dict:
    return next(c for c in result["by_commune"] if c["code"] == code)


def _file_commune(session, code: int, user: str, period: str, **values) -> None:
    unit_id = people.redeem(session, channel="web", user_id=user, now=NOW, code=people.create_invite(
        session, role=people.EXTENSION_OFFICER, commune_code=code, now=NOW).code).unit_id
    base = {"households_applying": 100, "hh_biogas": 100, "hh_bedding": 0, "hh_compost": 0, "hh_other": 0,
            "straw_reused_t": 100, "farms_reached": 1, "coops_reached": 0, "staff_trained": 2}
    filed(session, session.get(ReportingUnit, unit_id), "commune", {**base, **values}, period=period)


def test_a_skipped_figure_is_no_data_not_zero(runtime, settings: Settings) -> None:
    with unit_of_work(runtime.sessions) as s:
        baseline(s, commune=HUU_LIEN, byproducts_generated_t=250, straw_generated_t=1000)
        baseline(s, commune=YEN_BINH, byproducts_generated_t=200, straw_generated_t=1000)
        _file_commune(s, YEN_BINH, "officer-yb", "2026S1", byproducts_reused_t=90)
    chat = start_form(runtime, "officer-hl", people.EXTENSION_OFFICER, commune=HUU_LIEN,
                      period="6 tháng đầu năm 2026")
    for answer in ("100", "100", "0", "0", "0", "200"):
        chat.say(answer)
    for _ in range(5):
        chat.press("Bỏ qua")
    chat.press("Bỏ qua")  # the by-products figure is not known: skipped
    for answer in ("ko co", "không có", "1", "0"):
        chat.say(answer)
    assert chat.say("2").count("(bỏ qua — thiếu số liệu)") == 8
    assert "✅ Đã gửi" in chat.press("Gửi")
    byproducts = _indicators(settings, "2026S1")["crop_byproduct_reuse_pct"]
    assert byproducts["value"] == pytest.approx(45.0)  # 90 of 200 t, not (90 + 0) / (200 + 250)
    assert byproducts["communes_reporting"] == 1
    skipped = _commune(HUU_LIEN, byproducts)
    assert skipped["status"] == "no_data" and skipped["status_label"] == "thiếu số liệu" and skipped["value"] is None
    assert "bỏ qua số liệu này (thiếu số liệu)" in byproducts["note"]
    straw = _indicators(settings, "2026S1")["straw_reuse_pct"]
    assert _commune(HUU_LIEN, straw)["status"] == "ok"  # the same report's other figures still count


def test_a_year_of_straw_counts_a_commune_only_with_both_halves(runtime, settings: Settings) -> None:
    with unit_of_work(runtime.sessions) as s:
        for code in (HUU_LUNG, HUU_LIEN):
            baseline(s, commune=code, straw_generated_t=1000, livestock_households=200)
        _file_commune(s, HUU_LUNG, "o1", "2026S1", straw_reused_t=300)
        s.flush()
        unit = s.scalar(select(ReportingUnit).where(ReportingUnit.commune_code == HUU_LUNG))
        filed(s, unit, "commune", {"households_applying": 100, "hh_biogas": 100, "hh_bedding": 0, "hh_compost": 0,
                                   "hh_other": 0, "straw_reused_t": 420, "farms_reached": 1, "coops_reached": 0,
                                   "staff_trained": 2}, period="2026S2")
        _file_commune(s, HUU_LIEN, "o2", "2026S1", straw_reused_t=900)  # the second half not in yet
    year = _indicators(settings, "2026")
    straw = year["straw_reuse_pct"]
    assert straw["value"] == pytest.approx(72.0)  # (300 + 420) / 1000; Hữu Liên's 900 t of half a year left out
    assert straw["communes_reporting"] == 1
    partial = _commune(HUU_LIEN, straw)
    assert partial["status"] == "partial" and partial["status_label"] == "thiếu 6 tháng cuối năm 2026"
    assert "Xã Hữu Liên (thiếu 6 tháng cuối năm 2026)" in straw["note"]
    # a stock (households) is whole in each report: both communes count for the year
    assert year["household_waste_treatment_pct"]["communes_reporting"] == 2
    half = _indicators(settings, "2026S2")["straw_reuse_pct"]
    assert "Lũy kế từ đầu năm, so với lượng phát sinh cả năm." in half["note"]
    assert half["value"] == pytest.approx(72.0)
    first = _indicators(settings, "2026S1")["straw_reuse_pct"]
    assert first["value"] == pytest.approx(60.0) and first["communes_reporting"] == 2  # (300 + 900) / 2000


def test_the_cooperative_indicator_uses_member_households(runtime, settings: Settings) -> None:
    for user, name, answer in (("coop-1", "HTX Một", "20 hộ biogas, 12 hộ đệm lót"), ("coop-2", "HTX Hai", "5 hộ ủ")):
        coop = start_form(runtime, user, people.COOPERATIVE, unit=name)
        coop.press("Không")
        coop.say("50" if user == "coop-1" else "30")
        coop.say("25" if user == "coop-1" else "5")
        coop.say(answer)
        coop.say("3")
        coop.press("Bỏ qua")
        coop.press("Bỏ qua")
        assert "✅ Đã gửi «Báo cáo HTX»" in coop.press("Gửi")
    result = _indicators(settings, "2026S2")["coop_member_households_treating_pct"]
    assert result["value"] == pytest.approx(37.5)  # (25 + 5) / (50 + 30) member households
    assert result["extra"] == {"member_hh_biogas": 20, "member_hh_bedding": 12, "member_hh_compost": 5,
                               "member_hh_other": 0}


# -- what a person reads --------------------------------------------------------------------------
def test_dashboard_audit_lines_and_periods_read_as_words(settings: Settings, tmp_path: Path) -> None:
    cfg = Settings(**{**settings.model_dump(), "admin_password": PASSWORD, "files_dir": tmp_path / "files"})
    app = create_app(cfg)
    rt = app.state.runtime
    chat = start_form(rt, "officer-1", people.EXTENSION_OFFICER)
    for answer in ("302", "302", "0", "0", "0", "100"):
        chat.say(answer)
    for _ in range(8):
        chat.press("Bỏ qua")
    for answer in ("1", "0", "2"):
        chat.say(answer)
    chat.press("Gửi")
    chat.say("/baocao")
    chat.press("Báo cáo cấp xã")
    chat.press("6 tháng cuối năm 2026")
    chat.press("Sửa báo cáo này")
    chat.press("Sửa")
    assert "Số hộ chăn nuôi trong xã đang áp dụng xử lý chất thải (hộ dùng hai cách chỉ tính một lần)" in chat.labels()
    chat.press("Số hộ dùng cách khác")
    assert "Xem lại" in chat.say("18")
    chat.press("Sửa")
    chat.press("Số hộ chăn nuôi trong xã")
    assert "Xem lại" in chat.say("320")
    text = chat.press("Gửi")
    assert "phiên bản 2" in text
    assert "Số hộ chăn nuôi trong xã đang áp dụng xử lý chất thải (hộ dùng hai cách chỉ tính một lần): 302 hộ → " \
           "320 hộ" in text
    with serve(app) as url, httpx.Client(follow_redirects=True) as client:
        _login(client, url, "/admin/reports")
        page = client.get(f"{url}/admin/reports").text
        assert "Số hộ dùng cách khác: 0 hộ → 18 hộ" in page
        assert "Cán bộ khuyến nông xã — Xã Hữu Lũng (qua trang web)" in page
        assert "6 tháng cuối năm 2026 (15/06/2026 – 14/12/2026)" in page
        assert "web:officer-1" not in page and "2026S2" not in re.sub(r'value="[^"]*"|href="[^"]*"', "", page)
        indicators = client.get(f"{url}/admin", params={"plan": PLAN, "period": "2026S2"}).text
        assert "Báo cáo cấp xã (6 tháng cuối năm 2026, hạn 10/12/2026): nhận 1/" in indicators
        book = client.get(f"{url}/api/indicators.xlsx", params={"plan": PLAN, "period": "2026S2"})
        path = tmp_path / "book.xlsx"
        path.write_bytes(book.content)
        names = load_workbook(path).sheetnames
        assert names[0] == "Tổng hợp" and names[-2:] == ["Tình hình báo cáo", "Chưa báo cáo"]
        assert all(not re.fullmatch(r"[a-z0-9_]+", n) and len(n) <= 31 for n in names)
        assert names[1] == "1. Tỷ lệ rơm rạ được thu gom,…"
    rt.close()


def test_in_the_console_typed_digits_answer_and_letters_press(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'console.db'}"
    code = _code(run("invite", "create", "--role", "extension_officer", "--commune", "Hữu Lũng", env_db=db))
    out = run("chat", "--user", "can-bo", env_db=db,
              stdin=f"{code}\n/baocao\n1\n1\n2\n2\na\nhuỷ\n")
    assert out.returncode == 0, out.stderr
    steps = out.stdout.split("bạn> ")
    assert "[a] ❌ Huỷ" in steps[4]  # the first question: its button has a letter, not a number
    assert "Câu 2/17" in steps[5] and "[a] ⬅️ Quay lại" in steps[5]  # «2» was the answer
    assert "Câu 3/17" in steps[6]
    assert "Câu 2/17" in steps[7]  # «a» pressed «Quay lại»
    assert "Huỷ báo cáo đang làm? 2 câu bác đã trả lời sẽ mất." in steps[8]


# -- what a fresh review found -------------------------------------------------------------------
def _by_id(db, plan: str, period: str, commune: int = HUU_LUNG) -> dict:
    from reporting.indicators import compute
    from reporting.periods import parse
    from reporting.plans import load_plans

    return {r.id: r for r in compute(db, plan=load_plans()[plan], period=parse(period), commune_code=commune).results}


def _officer_unit(db, user: str = "o", commune: int = HUU_LUNG) -> ReportingUnit:
    from tests.builders import member

    unit = db.get(ReportingUnit, member(db, people.EXTENSION_OFFICER, user_id=user, commune=commune).unit_id)
    assert unit is not None
    return unit


BASE = {"households_applying": 100, "hh_biogas": 100, "hh_bedding": 0, "hh_compost": 0, "hh_other": 0,
        "straw_reused_t": 100, "farms_reached": 1, "coops_reached": 0, "staff_trained": 2}


def test_a_stock_skipped_in_the_second_half_is_not_taken_from_the_first(db) -> None:
    baseline(db, aquaculture_area_ha=10, straw_generated_t=1000)
    unit = _officer_unit(db)
    filed(db, unit, "commune", {**BASE, "aquaculture_bio_area_ha": 8}, period="2026S1")
    filed(db, unit, "commune", {**BASE, "aquaculture_bio_area_ha": None}, period="2026S2")
    area = _by_id(db, "ls-cnsh-mt-2030", "2026")["aquaculture_bioproduct_area_pct"]
    assert area.value is None and area.by_commune[0].status_label == "thiếu số liệu"


def test_a_flow_skipped_in_a_filed_half_is_no_data_not_a_missing_half(db) -> None:
    baseline(db, byproducts_generated_t=200, straw_generated_t=1000)
    unit = _officer_unit(db)
    filed(db, unit, "commune", {**BASE, "byproducts_reused_t": 50}, period="2026S1")
    filed(db, unit, "commune", {**BASE, "byproducts_reused_t": None}, period="2026S2")
    result = _by_id(db, PLAN, "2026")
    assert result["crop_byproduct_reuse_pct"].by_commune[0].status_label == "thiếu số liệu"
    assert result["straw_reuse_pct"].value == pytest.approx(20.0)  # the same reports' straw counts: 200 of 1000


def test_a_quarter_says_half_year_figures_cannot_be_split(db) -> None:
    baseline(db, straw_generated_t=1000)
    filed(db, _officer_unit(db), "commune", BASE, period="2026S1")
    straw = _by_id(db, PLAN, "2026Q3")["straw_reuse_pct"]
    assert straw.value is None and "không tách được theo quý" in (straw.note or "")


def test_unit_changes_keep_invites_provinces_and_communes_straight(db) -> None:
    from reporting import unit_registry
    from reporting.models import Report

    coop = people.create_invite(db, role=people.COOPERATIVE, commune_code=HUU_LUNG, unit_name="HTX Cũ", now=NOW)
    people.redeem(db, channel="web", user_id="a", code=coop.code, now=NOW)
    pending = people.create_invite(db, role=people.COOPERATIVE, commune_code=HUU_LUNG, unit_name="HTX Cũ", now=NOW)
    unit = db.scalar(select(ReportingUnit).where(ReportingUnit.name == "HTX Cũ"))
    unit_registry.rename(db, unit_id=unit.id, name="HTX Mới", by="cli", now=NOW)
    joined = people.redeem(db, channel="web", user_id="b", code=pending.code, now=NOW)
    assert joined.unit_id == unit.id  # the code made before the rename joins the renamed unit, no twin
    assert db.scalar(select(func.count()).select_from(ReportingUnit).where(ReportingUnit.kind == "cooperative")) == 1

    commune_unit = _officer_unit(db)
    with pytest.raises(unit_registry.UnitError, match="luôn phải báo cáo"):
        unit_registry.retire(db, unit_id=commune_unit.id, by="cli", now=NOW)
    elsewhere = people.redeem(db, channel="web", user_id="c", now=NOW, code=people.create_invite(
        db, role=people.COOPERATIVE, commune_code=4, unit_name="HTX Hà Nội", now=NOW).code)
    with pytest.raises(unit_registry.UnitError, match="cùng một tỉnh"):
        unit_registry.merge(db, unit_id=elsewhere.unit_id, into_id=unit.id, by="cli", now=NOW)
    twin = people.redeem(db, channel="web", user_id="d", now=NOW, code=people.create_invite(
        db, role=people.COOPERATIVE, commune_code=HUU_LUNG, unit_name="HTX Mới 2", now=NOW).code)
    values = {"applies_process": False, "member_households": 10, "member_households_applying": 0,
              "member_hh_biogas": 0, "member_hh_bedding": 0, "member_hh_compost": 0, "member_hh_other": 0,
              "straw_collected_t": 1}
    filed(db, db.get(ReportingUnit, twin.unit_id), "cooperative", values, period="2026S1")
    filed(db, unit, "cooperative", values, period="2026S1")
    with pytest.raises(unit_registry.UnitError, match="kỳ 6 tháng đầu năm 2026"):
        unit_registry.merge(db, unit_id=twin.unit_id, into_id=unit.id, by="cli", now=NOW)
    assert db.scalar(select(func.count()).select_from(Report).where(Report.unit_id == twin.unit_id)) == 1


def test_a_correction_audits_what_the_person_changed_only(runtime) -> None:
    from reporting.models import ReportChange

    farm = start_form(runtime, "farm-1", people.FARM, unit="Trại Bình An")
    farm.press("Chưa xử lý")
    farm.press("Xong")
    for answer in ("120", "0", "0"):
        farm.say(answer)
    farm.press("Gửi")
    farm.say("/baocao")
    farm.press("6 tháng cuối năm 2026")
    farm.press("Sửa báo cáo này")
    farm.press("Sửa")
    farm.press("Trang trại xử lý chất thải chăn nuôi bằng cách nào")
    farm.press("Hầm biogas")
    farm.press("Xong")
    assert "phiên bản 2" in farm.press("Gửi")
    with runtime.sessions() as s:
        fields = [c.field for c in s.scalars(select(ReportChange))]
    assert fields == ["technologies"]  # not the derived «applies_treatment: 0 → 1»
