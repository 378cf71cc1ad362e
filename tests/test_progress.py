"""On track? Values over the years against the path to the target, on a real SQLite database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reporting import areas, people
from reporting.models import ReportingUnit
from reporting.periods import parse
from reporting.plans import Plan, load_plans
from reporting.progress import assess_plan, commune_standings, history, path_value, track_plan, trajectory
from tests.builders import HUU_LUNG, baseline, filed, member

PLAN = "ls-ktth-nn-2030"  # yearly; straw 80 % by 2030; first year 2024


def _officer(db, user="officer", commune=HUU_LUNG):
    m = member(db, people.EXTENSION_OFFICER, user_id=user, commune=commune)
    return db.get(ReportingUnit, m.unit_id)


def _commune(straw, households=100, cages=None):
    values = {"households_applying": households, "hh_biogas": households, "hh_bedding": 0, "hh_compost": 0,
              "hh_other": 0, "straw_reused_t": straw, "farms_reached": 0, "coops_reached": 0, "staff_trained": 0}
    if cages is not None:
        values["fish_cages"] = cages
    return values


def _year(db, unit, year, straw_total, households=100, cages=None):
    """A year of commune reports: the straw split over both halves (a flow needs both)."""
    first = round(straw_total / 2, 1)
    filed(db, unit, "commune", _commune(first, households, cages), period=f"{year}S1",
          now=datetime(year, 6, 10, tzinfo=UTC))
    filed(db, unit, "commune", _commune(round(straw_total - first, 1), households, cages), period=f"{year}S2",
          now=datetime(year, 12, 1, tzinfo=UTC))


def _assessments(db, period="2026", plan=PLAN):
    return {a.indicator_id: a for a in assess_plan(db, load_plans()[plan], parse(period))}


# straw generated 1.000 t a year; the path runs from the first year with data to 80 % in 2030
@pytest.mark.parametrize(
    ("years", "status", "expected_now", "gap_text", "label"),
    [
        # 2025: 36 % → path 36 → 80 over 5 years: 44,8 % in 2026
        ({2025: 360, 2026: 578}, "ahead", 44.8, "Vượt lộ trình 13 điểm %", "vượt"),
        ({2025: 360, 2026: 400}, "behind", 44.8, "Chậm 4,8 điểm % so với lộ trình", "chậm"),
        ({2025: 360, 2026: 452}, "on_track", 44.8, "Cao hơn lộ trình 0,4 điểm % (trong mức cho phép)",
         "đúng tiến độ"),
        ({2025: 360, 2026: 850}, "reached", 44.8, "Vượt mục tiêu 5 điểm %", "đã đạt mục tiêu"),
        # the plan's first year 2024 has data: the path starts there (20 % → 80 %: 10 points a year)
        ({2024: 200, 2025: 250, 2026: 330}, "behind", 40.0, "Chậm 7 điểm % so với lộ trình", "chậm"),
        ({}, "no_data", None, "Chưa có số liệu", "chưa có số liệu"),
    ],
)
def test_straw_status_on_the_path(db, years, status, expected_now, gap_text, label) -> None:
    baseline(db, year=2024, livestock_households=400, straw_generated_t=1000)
    unit = _officer(db)
    for year, straw in years.items():
        _year(db, unit, year, straw)
    a = _assessments(db)["straw_reuse_pct"]
    assert a.status == status and a.status_label == label
    assert a.gap_text == gap_text
    assert "-" not in a.gap_text  # never a negative gap
    assert a.status_label in a.summary  # the chat line: status and gap in one phrase
    if expected_now is None:
        assert a.expected_now is None
    else:
        assert a.expected_now == pytest.approx(expected_now)
        assert a.gap_points == pytest.approx(expected_now - a.latest.value)


def test_the_path_says_where_it_starts(db) -> None:
    baseline(db, year=2024, livestock_households=400, straw_generated_t=1000)
    unit = _officer(db)
    _year(db, unit, 2025, 360)
    _year(db, unit, 2026, 578)
    a = _assessments(db)["straw_reuse_pct"]
    assert a.path.start_year == 2025 and not a.path.from_baseline_year
    assert "năm gốc 2024 chưa có số liệu" in a.path.start_text()
    # the first year with data is the path's start: on the path by definition
    first = _assessments(db, "2025")["straw_reuse_pct"]
    assert first.status == "on_track" and first.at_start and "Mốc xuất phát" in first.gap_text


def test_history_leaves_out_years_without_data_and_keeps_numerator_and_denominator(db) -> None:
    baseline(db, year=2024, livestock_households=400, straw_generated_t=1000)
    unit = _officer(db)
    _year(db, unit, 2024, 200)
    _year(db, unit, 2026, 578)  # 2025: no report at all
    points = history(db, load_plans()[PLAN], "straw_reuse_pct", parse("2026"))
    assert [p.period.id for p in points] == ["2024", "2026"]
    assert points[-1].numerator == pytest.approx(578) and points[-1].denominator == 1000
    assert points[-1].value == pytest.approx(57.8) and points[-1].communes_reporting == 1


def test_a_real_zero_is_a_point_and_behind(db) -> None:
    baseline(db, year=2024, livestock_households=400, straw_generated_t=1000)
    unit = _officer(db)
    _year(db, unit, 2025, 100)
    _year(db, unit, 2026, 0)  # reported: no straw reused at all
    a = _assessments(db)["straw_reuse_pct"]
    assert a.latest.value == 0 and a.latest.period.id == "2026"
    # path 10 % (2025) → 80 % (2030): 24 % in 2026
    assert a.status == "behind" and a.gap_text == "Chậm 24 điểm % so với lộ trình"


def test_indicators_without_a_numeric_target(db) -> None:
    a = _assessments(db)
    assert a["trainings_held"].status == "no_target" and a["trainings_held"].status_label == "không có mục tiêu số"
    bio = _assessments(db, plan="ls-cnsh-mt-2030")["bio_enterprises"]  # +10 % over a base not collected
    assert bio.status == "no_target"


def test_half_yearly_plan_has_half_year_points_for_stocks(db) -> None:
    # ls-nq19-2030 reports six-monthly: fish cages (a stock) 1.500 by 2030
    baseline(db, year=2024, livestock_households=400, straw_generated_t=1000)
    unit = _officer(db)
    _year(db, unit, 2023, 0, cages=700)
    filed(db, unit, "commune", _commune(0, cages=800), period="2026S1", now=datetime(2026, 6, 10, tzinfo=UTC))
    plan = load_plans()["ls-nq19-2030"]
    points = history(db, plan, "fish_cages", parse("2026"))
    assert [p.period.id for p in points] == ["2023S1", "2023", "2026S1", "2026"]
    a = _assessments(db, "2026S1", plan="ls-nq19-2030")["fish_cages"]
    assert a.latest.period.id == "2026S1"
    # path 700 (2023) → 1.500 (2030): 114,3 a year; at mid-2026 985,7; 800 is 185,7 cages behind
    assert a.expected_now == pytest.approx(700 + 800 / 7 * 2.5)
    assert a.status == "behind" and a.gap_text == "Chậm 186 lồng so với lộ trình"  # cages are counted whole


def test_milestones_bend_the_path() -> None:
    plan = Plan.model_validate({
        "id": "x", "province_code": 20, "name": "x", "document": "x", "first_year": 2023, "baseline_year": 2023,
        "forms": ["commune"], "deadlines": [{"period": "Y", "month": 12, "day": 15}],
        "indicators": [{"id": "straw_reuse_pct", "target": 90, "target_year": 2030,
                        "milestones": [{"year": 2025, "target": 80}]}]})
    from reporting.progress import Point

    points = [Point(parse("2023"), 60.0, 600, 1000, 1, 1)]
    assert path_value(plan, "straw_reuse_pct", 2024, points) == pytest.approx(70)
    assert path_value(plan, "straw_reuse_pct", 2025, points) == pytest.approx(80)
    assert path_value(plan, "straw_reuse_pct", 2027, points) == pytest.approx(84)
    assert path_value(plan, "straw_reuse_pct", 2031, points) == pytest.approx(90)
    assert path_value(plan, "straw_reuse_pct", 2022, points) is None
    assert "qua các mốc 80 năm 2025" in trajectory(plan, "straw_reuse_pct", points).start_text()


def test_the_shipped_plan_has_its_milestone() -> None:
    goal = next(t for t in load_plans()["ls-nq19-2030"].indicators if t.id == "rural_solid_waste_treated_pct")
    assert (goal.target, goal.target_year) == (90, 2030)
    assert [(m.year, m.target) for m in goal.milestones] == [(2025, 80)]


def test_milestones_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="milestones"):
        Plan.model_validate({
            "id": "x", "province_code": 20, "name": "x", "document": "x", "first_year": 2023,
            "forms": ["commune"], "deadlines": [{"period": "Y", "month": 12, "day": 15}],
            "indicators": [{"id": "straw_reuse_pct", "target": 90, "target_year": 2030,
                            "milestones": [{"year": 2027, "target": 85}, {"year": 2025, "target": 80}]}]})


def test_every_commune_against_the_path(db) -> None:
    others = [c for c in areas.communes_of(20) if c.code != HUU_LUNG][:2]
    for code in (HUU_LUNG, others[0].code, others[1].code):
        baseline(db, commune=code, year=2024, livestock_households=400, straw_generated_t=1000)
    _year(db, _officer(db), 2025, 360)
    _year(db, _officer(db), 2026, 600)  # 60 %: above the path
    low = _officer(db, "low", commune=others[0].code)
    _year(db, low, 2026, 300)  # 30 %: below the path (about 44,8 %)
    plan = load_plans()[PLAN]
    a = _assessments(db)["straw_reuse_pct"]
    from reporting.indicators import compute

    result = next(r for r in compute(db, plan=plan, period=parse("2026")).results if r.id == "straw_reuse_pct")
    rows = commune_standings(a, result)
    assert len(rows) == len(areas.communes_of(20))  # every commune, not the top 25
    assert [(r.code, r.status) for r in rows[:2]] == [(HUU_LUNG, "ahead"), (others[0].code, "behind")]
    assert rows[1].below_path and rows[1].status_label == "dưới lộ trình"
    missing = next(r for r in rows if r.code == others[1].code)
    assert missing.value is None and missing.status == "no_data" and missing.status_label == "chưa báo cáo"


@pytest.mark.parametrize(
    ("indicator", "numerator", "denominator", "text"),
    [
        ("straw_reuse_pct", 60884.40000000001, 105300,
         "60.884,4 tấn rơm rạ thu gom, tái sử dụng / 105.300 tấn rơm rạ phát sinh"),
        ("household_waste_treatment_pct", 0.0, 400, "0 hộ áp dụng xử lý chất thải / 400 hộ chăn nuôi"),
        ("fish_cages", 1500.0, None, "1.500 lồng"),
        ("straw_reuse_pct", None, 1000, None),
    ],
)
def test_numerator_and_denominator_with_units(indicator, numerator, denominator, text) -> None:
    from reporting.indicators import definitions
    from reporting.progress import fraction_text

    assert fraction_text(definitions()[indicator], numerator, denominator) == text


def test_every_indicator_is_explained() -> None:
    from reporting.indicators import definitions
    from reporting.progress import source_text

    for d in definitions().values():
        assert d.definition, d.id
        assert source_text(d)
    assert source_text(definitions()["straw_reuse_pct"]).startswith("Tử số: Báo cáo cấp xã")


def test_a_commune_that_reported_and_held_no_training_shows_zero(db) -> None:
    from reporting.indicators import compute

    other = next(c for c in areas.communes_of(20) if c.code != HUU_LUNG)
    baseline(db, year=2024, livestock_households=400, straw_generated_t=1000)
    _year(db, _officer(db), 2026, 300)  # Hữu Lũng reports, logs no training
    report = compute(db, plan=load_plans()[PLAN], period=parse("2026"))
    held = next(r for r in report.results if r.id == "trainings_held")
    by_code = {c.code: c for c in held.by_commune}
    assert by_code[HUU_LUNG].value(False) == 0 and by_code[HUU_LUNG].status == "ok"
    assert by_code[other.code].value(False) is None and by_code[other.code].status == "missing"
    assert held.value == 0 and held.communes_reporting == 1  # the province: 0 trainings, not «no data»


@pytest.mark.parametrize(
    ("target", "value", "unit", "text"),
    [
        (60, 83.97, "%", "Vượt mục tiêu 24 điểm %"),  # never «Còn thiếu -23,97»
        (80, 57.8, "%", "Còn thiếu 22,2 điểm % so với mục tiêu"),
        (1500, 1500, "lồng", "Đạt mục tiêu"),
        (1500, 1380, "lồng", "Còn thiếu 120 lồng so với mục tiêu"),
        (80, None, "%", None),
        (None, 50, "%", None),
    ],
)
def test_what_is_left_to_the_target(target, value, unit, text) -> None:
    from reporting.progress import target_gap_text

    assert target_gap_text(target, value, unit) == text


def test_a_growth_target_is_said_in_words_never_shown_as_a_value(database_url: str) -> None:
    """«+10 % over the base year» (bio-product enterprises) is not «10 doanh nghiệp»: no target
    value anywhere (no «Còn thiếu» against 10), the goal said in the note."""
    from bot.runtime import create_runtime
    from bot.settings import Settings
    from reporting.indicators import compute
    from reporting.plans import load_plans

    rt = create_runtime(Settings(database_url=database_url), load_content=False)
    try:
        with rt.sessions() as session:
            plan = load_plans()["ls-cnsh-mt-2030"]
            result = next(r for r in compute(session, plan=plan, period=parse("2026")).results
                          if r.id == "bio_enterprises")
            tracked = next(t for t in track_plan(session, plan, parse("2026")) if t.result.id == "bio_enterprises")
    finally:
        rt.close()
    assert result.target is None and result.gap is None
    assert "Mục tiêu: tăng 10 % so với năm gốc vào năm 2030." in (result.note or "")
    assert tracked.assessment.target is None and tracked.assessment.status == "no_target"
