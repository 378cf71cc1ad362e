"""Indicators on a real database: the worked example of indicators.md §5 and its edge cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reporting import people
from reporting.indicators import compute
from reporting.models import ReportingUnit
from reporting.periods import parse
from reporting.plans import load_plans
from tests.builders import HUU_LUNG, baseline, filed, member

PLAN = "ls-ktth-nn-2030"


def _unit(db, role, user, unit=None, commune=HUU_LUNG):
    m = member(db, role, user_id=user, unit=unit, commune=commune)
    return db.get(ReportingUnit, m.unit_id)


def _commune_report(households, straw):
    return {"households_applying": households, "hh_biogas": households, "hh_bedding": 0, "hh_compost": 0,
            "hh_other": 0, "straw_reused_t": straw, "farms_reached": 2, "coops_reached": 1, "staff_trained": 3}


def _farm(techs):
    return {"technologies": techs, "pigs": 50, "cattle": 0, "poultry": 0}


def _training(day, participants, staff):
    return {"training_date": day, "topics": ["biogas"], "participants": participants, "women": 5,
            "ethnic_minority": 4, "staff": staff, "farms_represented": 1, "coops_represented": 0}


@pytest.fixture
def worked_example(db):
    """Commune X, 2026: the figures of indicators.md §5."""
    baseline(db, livestock_households=400, farms=5, cooperatives=2, extension_staff=6, straw_generated_t=1200)
    officer = _unit(db, people.EXTENSION_OFFICER, "officer")
    filed(db, officer, "commune", _commune_report(150, 300), period="2026S1",
          now=datetime(2026, 6, 10, tzinfo=UTC))
    filed(db, officer, "commune", _commune_report(190, 420), period="2026S2",
          now=datetime(2026, 12, 1, tzinfo=UTC))
    for name, techs in (("Trại A", ["biogas"]), ("Trại B", ["biogas"]), ("Trại C", ["none"])):
        filed(db, _unit(db, people.FARM, name, unit=name), "farm", _farm(techs), period="2026S2")
    filed(db, officer, "training", _training("2026-03-02", 18, 2), now=datetime(2026, 3, 3, tzinfo=UTC))
    filed(db, officer, "training", _training("2026-12-20", 25, 1), now=datetime(2026, 12, 21, tzinfo=UTC))
    return officer


def _by_id(report):
    return {r.id: r for r in report.results}


def test_worked_example(db, worked_example) -> None:
    report = compute(db, plan=load_plans()[PLAN], period=parse("2026"), commune_code=HUU_LUNG)
    r = _by_id(report)
    assert r["household_waste_treatment_pct"].value == pytest.approx(47.5)
    assert (r["household_waste_treatment_pct"].numerator, r["household_waste_treatment_pct"].denominator) == (190, 400)
    assert r["straw_reuse_pct"].value == pytest.approx(60.0)
    assert r["farm_waste_treatment_pct"].value == pytest.approx(40.0)
    assert r["trainings_held"].value == 1
    assert r["training_participants"].value == 18
    assert r["training_participants"].extra == {"women": 5, "ethnic_minority": 4}
    assert r["straw_reuse_pct"].target == 80 and r["straw_reuse_pct"].gap == pytest.approx(20.0)


def test_the_late_training_counts_in_the_next_year(db, worked_example) -> None:
    r = _by_id(compute(db, plan=load_plans()[PLAN], period=parse("2027"), commune_code=HUU_LUNG))
    assert r["trainings_held"].value == 1 and r["training_participants"].value == 25


def test_half_year_takes_that_half_only(db, worked_example) -> None:
    r = _by_id(compute(db, plan=load_plans()[PLAN], period=parse("2026S1"), commune_code=HUU_LUNG))
    assert r["household_waste_treatment_pct"].numerator == 150
    assert r["straw_reuse_pct"].numerator == 300


def test_a_correction_counts_with_its_latest_values(db, worked_example) -> None:
    from reporting import reports
    from reporting.forms import load_forms

    form = load_forms()["commune"]
    s2 = reports.get_filed(db, unit_id=worked_example.id, form="commune", period="2026S2")
    draft = reports.create_draft(db, unit=worked_example, form=form, by="web:x", now=datetime(2026, 12, 5, tzinfo=UTC),
                                 corrects=s2)
    reports.set_value(db, draft=draft, key="households_applying", value=200, now=datetime(2026, 12, 5, tzinfo=UTC))
    reports.set_value(db, draft=draft, key="hh_biogas", value=200, now=datetime(2026, 12, 5, tzinfo=UTC))
    reports.file(db, draft=draft, form=form, by="web:x", now=datetime(2026, 12, 5, tzinfo=UTC))
    r = _by_id(compute(db, plan=load_plans()[PLAN], period=parse("2026"), commune_code=HUU_LUNG))
    assert r["household_waste_treatment_pct"].value == pytest.approx(50.0)


def test_province_sums_numerators_and_shows_missing_communes(db, worked_example) -> None:
    from reporting import areas

    other = next(c for c in areas.communes_of(20) if c.code != HUU_LUNG)
    baseline(db, commune=other.code, livestock_households=100, straw_generated_t=300)
    officer2 = _unit(db, people.EXTENSION_OFFICER, "officer2", commune=other.code)
    filed(db, officer2, "commune", _commune_report(10, 30), period="2026S2")
    report = compute(db, plan=load_plans()[PLAN], period=parse("2026"))
    hh = _by_id(report)["household_waste_treatment_pct"]
    # (190 + 10) / (400 + 100), not the average of 47.5 % and 10 %
    assert hh.value == pytest.approx(40.0)
    assert hh.communes_reporting == 2 and hh.communes_total == len(areas.communes_of(20))
    missing = [c for c in hh.by_commune if c.status == "missing"]
    assert len(missing) == hh.communes_total - 2
    assert all(c.value(True) is None for c in missing)  # missing, not zero


def test_a_commune_without_baseline_is_not_computable(db) -> None:
    officer = _unit(db, people.EXTENSION_OFFICER, "o")
    filed(db, officer, "commune", _commune_report(50, 100), period="2026S2")
    hh = _by_id(compute(db, plan=load_plans()[PLAN], period=parse("2026"), commune_code=HUU_LUNG))[
        "household_waste_treatment_pct"]
    assert hh.value is None and hh.by_commune[0].status == "no_baseline"
    assert "chưa có số liệu nền" in hh.note


def test_a_late_report_still_counts(db) -> None:
    baseline(db, livestock_households=100)
    officer = _unit(db, people.EXTENSION_OFFICER, "o")
    late = filed(db, officer, "commune", _commune_report(30, 0), period="2026S2", now=datetime(2027, 1, 5, tzinfo=UTC))
    assert late.late
    hh = _by_id(compute(db, plan=load_plans()[PLAN], period=parse("2026"), commune_code=HUU_LUNG))[
        "household_waste_treatment_pct"]
    assert hh.value == pytest.approx(30.0)


def test_completeness_and_timeliness(db, worked_example) -> None:
    from reporting import areas
    from reporting.completeness import completeness

    plan = load_plans()[PLAN]
    rows = {r.form: r for r in completeness(db, plan=plan, period=parse("2026"))}
    commune = rows["commune"]
    assert commune.report_period == "2026S2" and commune.deadline.isoformat() == "2026-12-10"
    assert commune.expected == len(areas.communes_of(20))
    assert (commune.received, commune.on_time) == (1, 1)
    assert "Xã Hữu Lũng" not in commune.missing and len(commune.missing) == commune.expected - 1
    farm = rows["farm"]
    assert (farm.expected, farm.received) == (3, 3)
    # the same report is late for the biotechnology plan (due 30 November)
    late_plan = {r.form: r for r in completeness(db, plan=load_plans()["ls-cnsh-mt-2030"], period=parse("2026"))}
    assert (late_plan["commune"].received, late_plan["commune"].on_time) == (1, 0)
