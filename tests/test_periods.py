from datetime import date

import pytest

from reporting.periods import Period, containing, parse


@pytest.mark.parametrize("pid", ["2026", "2026S1", "2026S2", "2026Q3", "202611"])
def test_ids_round_trip(pid: str) -> None:
    assert parse(pid).id == pid


@pytest.mark.parametrize("bad", ["26", "2026S3", "2026Q5", "202613", "2026H1", ""])
def test_bad_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse(bad)


def test_year_and_halves_close_on_the_14th() -> None:
    assert (parse("2026").start(), parse("2026").end()) == (date(2025, 12, 15), date(2026, 12, 14))
    assert (parse("2026S1").start(), parse("2026S1").end()) == (date(2025, 12, 15), date(2026, 6, 14))
    assert (parse("2026S2").start(), parse("2026S2").end()) == (date(2026, 6, 15), date(2026, 12, 14))
    assert (parse("2026Q1").start(), parse("2026Q1").end()) == (date(2025, 12, 15), date(2026, 3, 14))


@pytest.mark.parametrize(
    ("day", "kind", "expected"),
    [
        (date(2026, 3, 2), "Y", "2026"),
        (date(2026, 12, 14), "Y", "2026"),
        (date(2026, 12, 20), "Y", "2027"),  # the worked example's late training
        (date(2026, 6, 14), "S", "2026S1"),
        (date(2026, 6, 15), "S", "2026S2"),
        (date(2026, 12, 15), "S", "2027S1"),
        (date(2026, 11, 24), "Q", "2026Q4"),
        (date(2026, 11, 15), "M", "202612"),
    ],
)
def test_dated_records_fall_in_the_right_period(day: date, kind: str, expected: str) -> None:
    period = containing(day, kind)
    assert period.id == expected
    assert period.contains(day)


def test_cutoff_day_is_a_setting() -> None:
    assert containing(date(2026, 12, 20), "Y", cutoff_day=31).id == "2026"
    assert parse("2026").end(cutoff_day=31) == date(2026, 12, 31)


def test_navigation_and_parts() -> None:
    assert parse("2026S1").previous() == parse("2025S2")
    assert parse("2026S2").next() == parse("2027S1")
    assert [p.id for p in parse("2026").parts("S")] == ["2026S1", "2026S2"]
    assert [p.id for p in parse("2026S2").parts("Q")] == ["2026Q3", "2026Q4"]
    assert Period(2026, "S", 2).label() == "6 tháng cuối năm 2026 (15/06/2026 – 14/12/2026)"
