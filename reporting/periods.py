"""Reporting periods (DHIS2-style ids) and the Vietnamese cut-off on the 14th.

Vietnamese state reporting closes its figures on the 14th (Nghị định 09/2019/NĐ-CP, Art. 12):
the year 2026 runs from 15 December 2025 to 14 December 2026; 2026S1 from 15 December 2025 to
14 June 2026; 2026S2 from 15 June to 14 December 2026. Quarters and months follow the same
rule (2026Q1: 15 December 2025 – 14 March 2026; 202611: 15 October – 14 November 2026).
The cut-off day is a setting of each plan; 14 is the default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT_CUTOFF_DAY = 14
_PATTERN = re.compile(r"^(?P<year>\d{4})(?:(?P<kind>[SQ])(?P<n>\d)|(?P<month>\d{2}))?$")


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: ``kind`` is Y, S, Q or M; ``n`` the half, quarter or month."""

    year: int
    kind: str = "Y"
    n: int = 1

    @property
    def id(self) -> str:
        return {"Y": f"{self.year}", "S": f"{self.year}S{self.n}", "Q": f"{self.year}Q{self.n}"}.get(
            self.kind, f"{self.year}{self.n:02d}"
        )

    def __str__(self) -> str:
        return self.id

    @property
    def months(self) -> int:
        return {"Y": 12, "S": 6, "Q": 3, "M": 1}[self.kind]

    def _last_month(self) -> int:
        return self.n * self.months if self.kind != "Y" else 12

    def end(self, cutoff_day: int = DEFAULT_CUTOFF_DAY) -> date:
        """Last day of the period (inclusive)."""
        return date(self.year, self._last_month(), cutoff_day)

    def start(self, cutoff_day: int = DEFAULT_CUTOFF_DAY) -> date:
        """First day: the day after the previous period's cut-off."""
        return self.previous().end(cutoff_day) + timedelta(days=1)

    def contains(self, day: date, cutoff_day: int = DEFAULT_CUTOFF_DAY) -> bool:
        return self.start(cutoff_day) <= day <= self.end(cutoff_day)

    def previous(self) -> Period:
        if self.kind == "Y":
            return Period(self.year - 1)
        per_year = 12 // self.months
        return Period(self.year, self.kind, self.n - 1) if self.n > 1 else Period(self.year - 1, self.kind, per_year)

    def next(self) -> Period:
        if self.kind == "Y":
            return Period(self.year + 1)
        per_year = 12 // self.months
        return Period(self.year, self.kind, self.n + 1) if self.n < per_year else Period(self.year + 1, self.kind, 1)

    def parts(self, kind: str) -> list[Period]:
        """The sub-periods of ``kind`` inside this period, in order (2026 → 2026S1, 2026S2)."""
        size = {"Y": 12, "S": 6, "Q": 3, "M": 1}[kind]
        if size > self.months:
            raise ValueError(f"{kind} periods are longer than {self.id}")
        first = (self._last_month() - self.months) // size + 1
        count = self.months // size
        if kind == "Y":
            return [Period(self.year)]
        return [Period(self.year, kind, first + i) for i in range(count)]

    @property
    def name(self) -> str:
        """Short Vietnamese name, e.g. '6 tháng cuối năm 2026'."""
        return {
            "Y": f"Năm {self.year}",
            "S": f"6 tháng {'đầu' if self.n == 1 else 'cuối'} năm {self.year}",
            "Q": f"Quý {self.n}/{self.year}",
            "M": f"Tháng {self.n}/{self.year}",
        }[self.kind]

    def label(self, cutoff_day: int = DEFAULT_CUTOFF_DAY) -> str:
        """Vietnamese label with dates, e.g. '6 tháng cuối năm 2026 (15/06/2026 – 14/12/2026)'."""
        return f"{self.name} ({self.start(cutoff_day):%d/%m/%Y} – {self.end(cutoff_day):%d/%m/%Y})"


def parse(period_id: str) -> Period:
    match = _PATTERN.match(period_id.strip().upper())
    if not match:
        raise ValueError(f"not a period id: {period_id!r} (use 2026, 2026S1, 2026Q3 or 202611)")
    year = int(match["year"])
    if match["kind"]:
        n = int(match["n"])
        if not 1 <= n <= (2 if match["kind"] == "S" else 4):
            raise ValueError(f"no such period: {period_id!r}")
        return Period(year, match["kind"], n)
    if match["month"]:
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise ValueError(f"no such month: {period_id!r}")
        return Period(year, "M", month)
    return Period(year)


def containing(day: date, kind: str = "Y", cutoff_day: int = DEFAULT_CUTOFF_DAY) -> Period:
    """The period of ``kind`` a dated record falls in (20/12/2026 → 2027 with the cut-off on 14)."""
    year, month = day.year, day.month
    if day.day > cutoff_day:  # after the cut-off: counts in the next month
        month += 1
        if month == 13:
            year, month = year + 1, 1
    if kind == "Y":
        return Period(year)
    if kind == "M":
        return Period(year, "M", month)
    size = 6 if kind == "S" else 3
    return Period(year, kind, (month - 1) // size + 1)
