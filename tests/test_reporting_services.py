"""Reporting services on a real database (SQLite and PostgreSQL), each test rolled back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.storage.db import Base
from reporting import baseline as baseline_import
from reporting import people, reports
from reporting.forms import Problem, load_forms
from reporting.models import Baseline, ProvinceBaseline, ReportingUnit
from tests.builders import HUU_LUNG, NOW, baseline, filed, member

COMMUNE_VALUES = {
    "households_applying": 150, "hh_biogas": 100, "hh_bedding": 60, "hh_compost": 10, "hh_other": 0,
    "straw_reused_t": 300.0, "farms_reached": 2, "coops_reached": 1, "staff_trained": 4,
}


def test_migrations_match_the_models(db) -> None:
    diff = compare_metadata(MigrationContext.configure(db.connection()), Base.metadata)
    assert diff == []


def test_invite_binds_a_person_to_a_role_and_unit_once(db) -> None:
    new = people.create_invite(db, role=people.COOPERATIVE, commune_code=HUU_LUNG, unit_name="HTX Hữu Lũng Xanh",
                               now=NOW)
    assert people.looks_like_code(people.format_code(new.code))
    m = people.redeem(db, channel="telegram", user_id="42", code=people.format_code(new.code).lower(), now=NOW)
    unit = db.get(ReportingUnit, m.unit_id)
    assert (m.role, unit.kind, unit.name, unit.province_code) == ("cooperative", "cooperative", "HTX Hữu Lũng Xanh", 20)
    with pytest.raises(people.InviteError) as err:
        people.redeem(db, channel="web", user_id="other", code=new.code, now=NOW)
    assert err.value.reason == "used"


def test_expired_revoked_and_wrong_codes_are_refused(db) -> None:
    old = people.create_invite(db, role=people.FARM, commune_code=HUU_LUNG, unit_name="Trại A", now=NOW,
                               valid_days=1)
    with pytest.raises(people.InviteError) as err:
        people.redeem(db, channel="web", user_id="a", code=old.code, now=NOW + timedelta(days=2))
    assert err.value.reason == "expired"
    revoked = people.create_invite(db, role=people.FARM, commune_code=HUU_LUNG, unit_name="Trại B", now=NOW)
    assert people.revoke(db, invite_id=revoked.invite.id, now=NOW)
    with pytest.raises(people.InviteError) as err:
        people.redeem(db, channel="web", user_id="a", code=revoked.code, now=NOW)
    assert err.value.reason == "revoked"


def test_repeated_wrong_codes_are_slowed_down(db) -> None:
    good = people.create_invite(db, role=people.EXTENSION_OFFICER, commune_code=HUU_LUNG, now=NOW)
    for _ in range(people.MAX_FAILURES):
        with pytest.raises(people.InviteError):
            people.redeem(db, channel="web", user_id="guesser", code="AAAA-BBBB", now=NOW)
    with pytest.raises(people.InviteError) as err:
        people.redeem(db, channel="web", user_id="guesser", code=good.code, now=NOW)
    assert err.value.reason == "slow_down" and err.value.wait_minutes >= 1
    later = NOW + people.FAILURE_WINDOW + timedelta(seconds=1)
    assert people.redeem(db, channel="web", user_id="guesser", code=good.code, now=later).role == "extension_officer"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "boss", "commune_code": HUU_LUNG}, "unknown role"),
        ({"role": "farm", "commune_code": HUU_LUNG}, "needs --unit"),
        ({"role": "extension_officer"}, "needs --commune"),
        ({"role": "extension_officer", "commune_code": 999999}, "no commune"),
    ],
)
def test_invites_need_a_complete_unit(db, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        people.create_invite(db, now=NOW, **kwargs)


def test_filing_marks_late_after_the_earliest_deadline(db) -> None:
    officer = member(db, people.EXTENSION_OFFICER)
    unit = db.get(ReportingUnit, officer.unit_id)
    on_time = filed(db, unit, "commune", COMMUNE_VALUES, period="2026S2", now=datetime(2026, 11, 20, tzinfo=UTC))
    assert (on_time.status, on_time.version, on_time.late) == ("filed", 1, False)
    assert on_time.deadline.isoformat() == "2026-11-30"  # Lạng Sơn's biotech plan is first
    late = filed(db, unit, "commune", COMMUNE_VALUES, period="2026S1", now=datetime(2026, 11, 20, tzinfo=UTC))
    assert late.late is True and late.deadline.isoformat() == "2026-06-15"


def test_filing_twice_files_once_and_a_new_report_for_a_period_is_a_correction(db) -> None:
    officer = member(db, people.EXTENSION_OFFICER)
    unit = db.get(ReportingUnit, officer.unit_id)
    form = load_forms()["commune"]
    draft = reports.create_draft(db, unit=unit, form=form, by="web:u", now=NOW, period="2026S2")
    for k, v in COMMUNE_VALUES.items():
        reports.set_value(db, draft=draft, key=k, value=v, now=NOW)
    first = reports.file(db, draft=draft, form=form, by="web:u", now=NOW)
    again = reports.file(db, draft=draft, form=form, by="web:u", now=NOW)
    assert first.id == again.id
    correction = reports.create_draft(db, unit=unit, form=form, by="web:v", now=NOW, corrects=first)
    reports.set_value(db, draft=correction, key="households_applying", value=160, now=NOW)
    reports.set_value(db, draft=correction, key="hh_biogas", value=110, now=NOW)
    fixed = reports.file(db, draft=correction, form=form, by="web:v", now=NOW + timedelta(hours=1))
    assert fixed.id == first.id and fixed.version == 2
    assert fixed.values["households_applying"] == 160
    trail = [(c.field, c.old_value, c.new_value, c.changed_by, c.version)
             for c in reports.history(db, report_id=first.id)]
    assert trail == [("hh_biogas", "100", "110", "web:v", 2), ("households_applying", "150", "160", "web:v", 2)]
    filed_count = db.scalar(select(func.count()).select_from(type(first)).where(type(first).status == "filed"))
    assert filed_count == 1


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"hh_biogas": 200}, "part_above_total"),
        ({"hh_biogas": 50, "hh_bedding": 20, "hh_compost": 0}, "total_above_parts"),
        ({"households_applying": 450, "hh_biogas": 450}, "above_baseline"),
        ({"straw_fertiliser_t": 250.0, "straw_feed_t": 100.0}, "parts_above_total"),
    ],
)
def test_rules_refuse_inconsistent_reports(db, changes, code) -> None:
    officer = member(db, people.EXTENSION_OFFICER)
    unit = db.get(ReportingUnit, officer.unit_id)
    baseline(db, livestock_households=400, farms=5, cooperatives=2, extension_staff=6)
    with pytest.raises(Problem) as err:
        filed(db, unit, "commune", {**COMMUNE_VALUES, **changes}, period="2026S2")
    assert err.value.code == code
    assert reports.get_filed(db, unit_id=unit.id, form="commune", period="2026S2") is None


def test_training_falls_in_the_period_of_its_date(db) -> None:
    officer = member(db, people.EXTENSION_OFFICER)
    unit = db.get(ReportingUnit, officer.unit_id)
    values = {"topics": ["biogas"], "participants": 18, "women": 7, "ethnic_minority": 5, "staff": 2,
              "farms_represented": 1, "coops_represented": 0}
    march = filed(db, unit, "training", {**values, "training_date": "2026-03-02"})
    december = filed(db, unit, "training", {**values, "training_date": "2026-12-20"},
                     now=datetime(2026, 12, 21, tzinfo=UTC))
    assert (march.period, december.period) == ("2026", "2027")
    assert march.values["commune_code"] == HUU_LUNG
    with pytest.raises(Problem) as err:
        filed(db, unit, "training", {**values, "training_date": "2026-03-02", "women": 30})
    assert err.value.code == "part_above_total"


def test_a_draft_is_kept_until_filed_or_cancelled(db) -> None:
    officer = member(db, people.EXTENSION_OFFICER)
    unit = db.get(ReportingUnit, officer.unit_id)
    form = load_forms()["commune"]
    draft = reports.create_draft(db, unit=unit, form=form, by="web:u", now=NOW, period="2026S2")
    reports.set_value(db, draft=draft, key="households_applying", value=12, now=NOW)
    db.expire_all()
    kept = reports.get_draft(db, unit_id=unit.id, form="commune")
    assert kept.id == draft.id and kept.values == {"households_applying": 12}
    reports.cancel(db, draft=kept)
    assert reports.get_draft(db, unit_id=unit.id, form="commune") is None


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_baseline_import_is_all_or_nothing_and_re_importable(db, tmp_path: Path) -> None:
    header = "commune_code,commune_name,year,livestock_households,farms,cooperatives,extension_staff," \
             "straw_generated_t,byproducts_generated_t,aquaculture_area_ha,bio_enterprises\n"
    good = _csv(tmp_path, header + f"{HUU_LUNG},Hữu Lũng,2026,400,5,2,6,1.200,300,\"12,5\",8\n")
    result = baseline_import.import_file(db, good, now=NOW)
    assert (result.communes, result.provinces) == (1, 1)
    row = db.scalar(select(Baseline))
    assert (row.livestock_households, row.straw_generated_t, row.aquaculture_area_ha) == (400, 1200, 12.5)
    assert db.scalar(select(ProvinceBaseline)).bio_enterprises == 8

    bad = _csv(tmp_path, header + f"{HUU_LUNG},Hữu Lũng,2026,450,5,2,6,1200,300,12,8\n"
               "99999,?,2026,1,1,1,1,1,1,1,8\n"
               f"{HUU_LUNG},Hữu Lũng,20x6,1,1,1,1,1,1,1,8\n"
               "6040,Thất Khê,2026,-5,1.5,1,1,1,1,1,8\n")
    with pytest.raises(baseline_import.BaselineError) as err:
        baseline_import.import_file(db, bad, now=NOW)
    found = {(e.row, e.column) for e in err.value.errors}
    assert found == {(3, "commune_code"), (4, "year"), (5, "livestock_households"), (5, "farms")}
    assert "số âm" in str(err.value)
    db.expire_all()
    assert db.scalar(select(Baseline)).livestock_households == 400  # nothing written

    again = _csv(tmp_path, header + f"{HUU_LUNG},Hữu Lũng,2026,420,5,2,6,1200,300,12,8\n")
    baseline_import.import_file(db, again, now=NOW)
    assert db.scalar(select(func.count()).select_from(Baseline)) == 1
    assert db.scalar(select(Baseline)).livestock_households == 420


def test_baseline_from_excel(db, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["commune_code", "year", "livestock_households", "farms"])
    ws.append([HUU_LUNG, 2025, 380, 4])
    path = tmp_path / "baseline.xlsx"
    wb.save(path)
    baseline_import.import_file(db, path, now=NOW)
    assert reports.baseline(db, commune_code=HUU_LUNG, year=2026)["livestock_households"] == 380


def test_baseline_file_with_missing_or_unknown_columns(db, tmp_path: Path) -> None:
    with pytest.raises(baseline_import.BaselineError) as err:
        baseline_import.import_file(db, _csv(tmp_path, "year,households\n2026,5\n"), now=NOW)
    assert {(e.row, e.column, e.reason) for e in err.value.errors} == {
        (1, "commune_code", "thiếu cột bắt buộc"), (1, "households", "cột không biết")}
