"""Are we on track? Each indicator's values over the years against the path to its target.

The **path** runs in straight lines from the start point to the target in the target year,
through the plan's own milestones where it has them (``milestones`` in ``reporting/plans/*.yaml``:
ls-nq19-2030 sets 80 % for 2025 and 90 % for 2030).

The **start point** is the province value in the plan's baseline year (``baseline_year``, or
the plan's ``first_year`` when not set). When that year has no data, the path starts from the
earliest year that has data — the screens say so («Lộ trình tính từ số liệu năm 2025 vì năm
2024 chưa có số liệu»). Milestones in or before the start year are left out of the path.

**Points** are the province values per year with data (and per half-year where the plan
reports six-monthly — stocks only: a flow's half-year figure is a part of the year's and is
not compared with a yearly path). A period without data is left out: missing is not zero.

**Status** of the latest point up to the period asked, against the path at that point's time:
- ``reached`` «đã đạt mục tiêu»: the value is at or above the final target;
- ``on_track`` «đúng tiến độ»: within the tolerance of the path — ``TOLERANCE_POINTS``
  (1 percentage point) for a percentage, ``TOLERANCE_SHARE`` (1 % of the target) for a count;
- ``behind`` «chậm» / ``ahead`` «vượt»: below / above the path by more than the tolerance;
- ``no_data`` «chưa có số liệu»: no value up to the period;
- ``no_target`` «không có mục tiêu số»: the plan gives no numeric target (or one relative to
  a base the bot does not collect, such as «tăng 10 % so với năm gốc»).
``gap_points`` = path − value (positive: behind the path). The text never shows a negative gap:
«chậm 4,2 điểm % so với lộ trình», «vượt lộ trình 3 điểm %», «Vượt mục tiêu 5 điểm %».
Every target in the plans is «at least» (a higher value is better).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.orm import Session

from reporting.forms import load_forms
from reporting.indicators import Definition, IndicatorReport, IndicatorResult, compute
from reporting.measures import digits
from reporting.numbers import format_number
from reporting.periods import Period
from reporting.plans import IndicatorTarget, Plan

TOLERANCE_POINTS = 1.0  # «đúng tiến độ» within 1 percentage point of the path
TOLERANCE_SHARE = 0.01  # … or, for a count (lồng, doanh nghiệp), within 1 % of the target
MAX_YEARS = 20  # the history looks back at most this many years (a period asked for 9999 stays cheap)

Status = Literal["on_track", "behind", "ahead", "reached", "no_data", "no_target"]
STATUS_LABELS: dict[str, str] = {
    "on_track": "đúng tiến độ", "behind": "chậm", "ahead": "vượt", "reached": "đã đạt mục tiêu",
    "no_data": "chưa có số liệu", "no_target": "không có mục tiêu số",
}


@dataclass(frozen=True)
class Point:
    """The province value of one indicator in one period that has data."""

    period: Period
    value: float | None
    numerator: float | None
    denominator: float | None
    communes_reporting: int
    communes_total: int


@dataclass(frozen=True)
class Path:
    """The straight lines from the start point through the milestones to the target."""

    knots: tuple[tuple[float, float], ...]  # (time in years, value), time ascending
    start_year: int  # the year the path starts from (has data)
    baseline_year: int  # the plan's baseline year
    target: float
    target_year: int

    @property
    def from_baseline_year(self) -> bool:
        return self.start_year == self.baseline_year

    def value_at(self, when: Period | int) -> float | None:
        """The path's value at the end of ``when``; None before the path starts."""
        t = when_time(when)
        first_t, first_v = self.knots[0]
        if t < first_t - 1e-9:
            return None
        for (t0, v0), (t1, v1) in zip(self.knots, self.knots[1:], strict=False):
            if t <= t1:
                return v0 + (v1 - v0) * (t - t0) / (t1 - t0) if t1 > t0 else v1
        return self.knots[-1][1] if len(self.knots) > 1 else first_v

    def start_text(self) -> str:
        """How the path is drawn, as the screens say it."""
        first = f"Lộ trình: đường thẳng từ số liệu năm {self.start_year} đến mục tiêu năm {self.target_year}"
        if len(self.knots) > 2:
            first += " qua các mốc " + ", ".join(
                f"{format_number(round(v, 1))} năm {int(t)}" for t, v in self.knots[1:-1])
        if not self.from_baseline_year:
            first += f" (năm gốc {self.baseline_year} chưa có số liệu nên tính từ năm đầu có số liệu)"
        return first + "."


@dataclass
class Assessment:
    indicator_id: str
    title: str
    unit: str
    latest: Point | None  # the latest point with data up to the period asked
    target: float | None
    target_year: int | None
    expected_now: float | None  # the path's value at the latest point
    status: Status
    gap_points: float | None  # path − value: positive = behind the path
    path: Path | None = None
    period: Period | None = None  # the period asked
    at_start: bool = False  # the latest point is the path's start: on the path by definition
    history: tuple[Point, ...] = ()  # every point with data up to the period asked, oldest first

    @property
    def history_text(self) -> str:
        """The value of each year (and half-year) with data, and the path's there: «năm 2025:
        47,2 %; năm 2026: 70,9 % (lộ trình 53,8 %)»; "" with fewer than two points."""
        if len(self.history) < 2:
            return ""
        parts = []
        for point in self.history:
            expected = self.path.value_at(point.period) if self.path else None
            path = f" (lộ trình {figure(expected, self.unit)})" \
                if expected is not None and self.path and when_time(point.period) > self.path.knots[0][0] else ""
            parts.append(f"{point.period.name.lower()}: {figure(point.value, self.unit)}{path}")
        return "; ".join(parts)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def is_percent(self) -> bool:
        return self.unit == "%"

    @property
    def tolerance(self) -> float:
        return tolerance(self.unit, self.target)

    @property
    def target_gap(self) -> float | None:
        """target − value (≤ 0 once reached)."""
        if self.target is None or self.latest is None or self.latest.value is None:
            return None
        return self.target - self.latest.value

    @property
    def latest_is_current(self) -> bool:
        """The latest point is the period asked (not an earlier one)."""
        return self.latest is not None and self.period is not None and self.latest.period == self.period

    def amount(self, value: float) -> str:
        """«4,2 điểm %» for a percentage, «120 lồng» for a count."""
        amount = format_number(round(abs(value), digits(self.unit)))
        return f"{amount} {'điểm %' if self.is_percent else self.unit}"

    @property
    def gap_text(self) -> str:
        """The gap as a person writes it, never negative."""
        if self.status == "no_target":
            return "Không có mục tiêu số: theo dõi xu hướng"
        if self.status == "no_data":
            return "Chưa có số liệu"
        if self.status == "reached":
            over = -(self.target_gap or 0.0)
            return f"Vượt mục tiêu {self.amount(over)}" if over >= 0.05 else "Đạt mục tiêu"
        gap = self.gap_points or 0.0
        if self.at_start:
            return "Mốc xuất phát của lộ trình, chưa có năm sau để so sánh"
        if self.status == "behind":
            return f"Chậm {self.amount(gap)} so với lộ trình"
        if self.status == "ahead":
            return f"Vượt lộ trình {self.amount(gap)}"
        if abs(gap) < 0.05:
            return "Đúng lộ trình"
        return f"{'Thấp' if gap > 0 else 'Cao'} hơn lộ trình {self.amount(gap)} (trong mức cho phép)"

    @property
    def path_gap_text(self) -> str:
        """The gap to the path only (a target already reached still has one): «Vượt lộ trình 27,3
        điểm %», «Chậm 4,2 điểm % so với lộ trình», «Đúng lộ trình»."""
        if self.status != "reached" or self.gap_points is None or self.at_start:
            return self.gap_text
        gap = self.gap_points
        if abs(gap) < 0.05:
            return "Đúng lộ trình"
        return f"Chậm {self.amount(gap)} so với lộ trình" if gap > 0 else f"Vượt lộ trình {self.amount(gap)}"

    @property
    def target_gap_text(self) -> str | None:
        """«Còn thiếu 22,2 điểm % so với mục tiêu» or «Vượt mục tiêu 3 điểm %» (never a negative gap)."""
        return target_gap_text(self.target, None if self.latest is None else self.latest.value, self.unit)

    @property
    def summary(self) -> str:
        """The status with its gap in one phrase, lower case, for a chat line or a chart title:
        «chậm 4,8 điểm % so với lộ trình», «vượt lộ trình 13 điểm %», «đã đạt mục tiêu: vượt
        mục tiêu 5 điểm %», «đúng tiến độ», «chưa có số liệu» ("" without a numeric target)."""
        if self.status == "no_target":
            return ""
        gap = self.gap_text[0].lower() + self.gap_text[1:]
        if self.status in ("behind", "ahead"):
            return gap
        if self.status == "reached":
            return f"{self.status_label}: {gap}"
        if self.status == "on_track":
            return f"{self.status_label} ({gap})" if self.at_start or abs(self.gap_points or 0) >= 0.05 \
                else self.status_label
        return self.status_label

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status, "status_label": self.status_label,
            "expected_now": None if self.expected_now is None else round(self.expected_now, 2),
            "gap_points": None if self.gap_points is None else round(self.gap_points, 2),
            "gap_text": self.gap_text,
            "latest_period": None if self.latest is None else self.latest.period.id,
            "path_start_year": None if self.path is None else self.path.start_year,
        }


@dataclass
class CommuneStanding:
    """One commune's value for the commune chart and list, against the province path."""

    code: int
    name: str
    value: float | None
    numerator: float | None
    denominator: float | None
    data_status: str  # CommuneValue.status: ok, missing, no_data, partial, no_baseline
    data_label: str
    status: Literal["behind", "on_track", "ahead", "reached", "no_data", "no_path"]
    district: str | None = None
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def below_path(self) -> bool:
        return self.status == "behind"

    @property
    def status_label(self) -> str:
        if self.status == "no_data":
            return self.data_label
        if self.status == "no_path":
            return "có số liệu"
        return {"behind": "dưới lộ trình", "on_track": "đúng tiến độ", "ahead": "trên lộ trình",
                "reached": "đã đạt mục tiêu"}[self.status]


def target_gap_text(target: float | None, value: float | None, unit: str) -> str | None:
    """What is left to the target, never negative: «Còn thiếu 22,2 điểm % so với mục tiêu»,
    «Vượt mục tiêu 3 điểm %», «Đạt mục tiêu»; None without a target or a value."""
    if target is None or value is None:
        return None
    gap = target - value
    amount = f"{format_number(round(abs(gap), 1))} {'điểm %' if unit == '%' else unit}"
    if gap <= 0:
        return "Đạt mục tiêu" if gap > -0.05 else f"Vượt mục tiêu {amount}"
    return f"Còn thiếu {amount} so với mục tiêu"


# -- numbers explained ---------------------------------------------------------------------------
def figure(value: float | None, unit: str = "") -> str:
    """A figure as a person writes it: «57,8 %», «1.500 lồng», «0» (a real zero); «—» when missing."""
    if value is None:
        return "—"
    text = format_number(round(value, digits(unit)))
    if unit == "%":
        return f"{text} %"
    return f"{text} {unit}".rstrip()


def fraction_text(definition: Definition, numerator: float | None, denominator: float | None) -> str | None:
    """«60.884,4 tấn rơm rạ thu gom, tái sử dụng / 105.300 tấn rơm rạ phát sinh» (None without figures)."""
    if numerator is None:
        return None
    top = f"{figure(numerator)} {definition.numerator_label or ''}".rstrip()
    if not definition.is_ratio:
        return top
    if denominator is None:
        return top
    return f"{top} / {figure(denominator)} {definition.denominator_label or ''}".rstrip()


def source_text(definition: Definition) -> str:
    """Where the figures come from: «Báo cáo cấp xã; mẫu số: số liệu nền của xã»."""
    if definition.numerator is None:
        return "Chưa thu qua các mẫu báo cáo của bot."
    form = load_forms().get(definition.numerator.form)
    parts = [f"Tử số: {form.title if form else definition.numerator.form}"
             + (" (lũy kế trong kỳ)" if definition.numerator.aggregation == "flow" else " (số cuối kỳ)")]
    if definition.denominator:
        parts.append("mẫu số: số liệu nền của xã (tỉnh nhập)")
    elif definition.denominator_from_reports:
        parts.append("mẫu số: cùng báo cáo")
    return "; ".join(parts) + "."


# -- time and path -------------------------------------------------------------------------------
def when_time(when: Period | int) -> float:
    """A period as a time in years at its end: 2026 → 2026.0, 2026S1 → 2025.5, 2026S2 → 2026.0."""
    if isinstance(when, int):
        return float(when)
    last = 12 if when.kind == "Y" else when.n * when.months
    return when.year - 1 + last / 12


def tolerance(unit: str, target: float | None) -> float:
    if unit == "%":
        return TOLERANCE_POINTS
    return TOLERANCE_SHARE * abs(target or 0.0)


def _target(plan: Plan, indicator_id: str) -> IndicatorTarget | None:
    return next((t for t in plan.indicators if t.id == indicator_id), None)


def has_numeric_target(goal: IndicatorTarget | None) -> bool:
    return (goal is not None and goal.target is not None and goal.target_year is not None
            and goal.target_kind != "growth_pct_over_baseline")


def trajectory(plan: Plan, indicator_id: str, points: list[Point]) -> Path | None:
    """The path for the indicator, from the baseline year's point (or the earliest yearly point
    with data) through the milestones to the target; None without a numeric target or data."""
    goal = _target(plan, indicator_id)
    if not has_numeric_target(goal):
        return None
    assert goal is not None and goal.target is not None and goal.target_year is not None
    yearly = sorted((p for p in points if p.period.kind == "Y" and p.value is not None), key=lambda p: p.period)
    base = next((p for p in yearly if p.period.year == plan.start_year), None) or next(iter(yearly), None)
    if base is None or base.value is None:
        return None
    start = base.period.year
    knots = [(float(start), base.value)]
    for m in goal.milestones:
        if start < m.year < goal.target_year:
            knots.append((float(m.year), m.target))
    if goal.target_year > start:
        knots.append((float(goal.target_year), goal.target))
    return Path(tuple(knots), start, plan.start_year, goal.target, goal.target_year)


def path_value(plan: Plan, indicator_id: str, when: Period | int, points: list[Point]) -> float | None:
    """The path's value at ``when`` (a year or a period) given the indicator's points."""
    path = trajectory(plan, indicator_id, points)
    return None if path is None else path.value_at(when)


# -- history and assessment ----------------------------------------------------------------------
def _periods(plan: Plan, up_to: Period) -> list[Period]:
    """Years from the plan's baseline (or first) year to ``up_to``; their half-years too where the
    plan reports six-monthly; only periods that end by the end of ``up_to``."""
    end = up_to.end(plan.cutoff_day)
    first = min(plan.first_year, plan.start_year)
    out: list[Period] = []
    for year in range(max(first, up_to.year - MAX_YEARS + 1), up_to.year + 1):
        candidates = ([Period(year, "S", 1)] if plan.half_yearly else []) + [Period(year)]
        out += [p for p in candidates if p.end(plan.cutoff_day) <= end]
    return out


def _point(period: Period, result: IndicatorResult) -> Point:
    return Point(period, result.value, result.numerator, result.denominator, result.communes_reporting,
                 result.communes_total)


def _reports(session: Session, plan: Plan, up_to: Period) -> dict[Period, IndicatorReport]:
    return {period: compute(session, plan=plan, period=period) for period in _periods(plan, up_to)}


def _points(plan: Plan, reports: dict[Period, IndicatorReport]) -> dict[str, list[Point]]:
    out: dict[str, list[Point]] = {t.id: [] for t in plan.indicators}
    for period, report in reports.items():
        for result in report.results:
            if result.value is None:
                continue
            numerator = result.definition.numerator
            if period.kind != "Y" and (numerator is None or numerator.aggregation == "flow"
                                       or numerator.form == "training"):
                continue  # a flow's half-year is a part of the year: not on a yearly path
            out[result.id].append(_point(period, result))
    return out


def plan_history(session: Session, plan: Plan, up_to: Period) -> dict[str, list[Point]]:
    """Every indicator's points up to ``up_to`` (periods without data left out)."""
    return _points(plan, _reports(session, plan, up_to))


def history(session: Session, plan: Plan, indicator_id: str, up_to: Period) -> list[Point]:
    """The indicator's province values up to ``up_to``, oldest first."""
    return plan_history(session, plan, up_to).get(indicator_id, [])


def assess(plan: Plan, result: IndicatorResult, points: list[Point], period: Period) -> Assessment:
    """The indicator's status at ``period`` from its points (see the module's rules)."""
    definition = result.definition
    goal = _target(plan, definition.id)
    end = period.end(plan.cutoff_day)
    upto = [p for p in points if p.value is not None and p.period.end(plan.cutoff_day) <= end]
    # the latest point; a year beats its own second half (same end date)
    latest = max(upto, key=lambda p: (p.period.end(plan.cutoff_day), p.period.kind == "Y"), default=None)
    target = goal.target if goal is not None and has_numeric_target(goal) else None  # «+10 %» is no value
    target_year = goal.target_year if goal else None
    made = Assessment(definition.id, definition.title, definition.unit, latest, target, target_year, None,
                      "no_target", None, None, period,
                      history=tuple(sorted(upto, key=lambda p: (p.period.end(plan.cutoff_day), p.period.kind == "Y"))))
    if not has_numeric_target(goal):
        return made
    made.path = trajectory(plan, definition.id, upto)
    if latest is None or latest.value is None:
        made.status = "no_data"
        return made
    assert target is not None
    expected = made.path.value_at(latest.period) if made.path else None
    if expected is None or (made.path and when_time(latest.period) <= made.path.knots[0][0]):
        made.at_start = True  # the path starts here: nothing earlier to compare with
        expected = latest.value
    made.expected_now = expected
    made.gap_points = expected - latest.value
    tol = made.tolerance
    if latest.value >= target - 1e-9:
        made.status = "reached"
    else:
        made.status = "behind" if made.gap_points > tol else "ahead" if made.gap_points < -tol else "on_track"
    return made


def assess_plan(session: Session, plan: Plan, period: Period) -> list[Assessment]:
    """Every indicator of the plan at ``period``, in the plan's order."""
    return [t.assessment for t in track_plan(session, plan, period)]


@dataclass
class Tracked:
    """One indicator at the period asked: its figures (by commune too), its points and status."""

    result: IndicatorResult
    assessment: Assessment
    points: list[Point]

    @property
    def path_now(self) -> float | None:
        """The path's value at the period asked (what each commune is compared with)."""
        path = self.assessment.path
        return None if path is None or self.assessment.period is None else path.value_at(self.assessment.period)

    @property
    def commune_path(self) -> float | None:
        """The path each commune is compared with: a percentage's; a count has none per commune
        (the province's 1.500 cages are not each commune's)."""
        return self.path_now if self.result.definition.is_ratio else None

    def standings(self, districts: dict[int, str] | None = None) -> list[CommuneStanding]:
        return commune_standings(self.assessment, self.result, districts)


def track_plan(session: Session, plan: Plan, period: Period, *, commune_code: int | None = None) -> list[Tracked]:
    """Every indicator of the plan at ``period`` with its history (province values) and status;
    with ``commune_code`` the figures are the commune's, the path and status the province's."""
    reports = _reports(session, plan, period)
    points = _points(plan, reports)
    current = reports.get(period) if commune_code is None else None
    if current is None:
        current = compute(session, plan=plan, period=period, commune_code=commune_code)
    return [Tracked(r, assess(plan, r, points[r.id], period), points[r.id]) for r in current.results]


def with_assessments(data: dict[str, Any], tracked: list[Tracked]) -> dict[str, Any]:
    """The indicators' JSON (``IndicatorReport.to_dict``) with each indicator's ``assessment``."""
    status = {t.result.id: t.assessment.to_dict() for t in tracked}
    return {**data, "indicators": [{**row, "assessment": status.get(row["id"])} for row in data["indicators"]]}


def commune_standings(assessment: Assessment, result: IndicatorResult,
                      districts: dict[int, str] | None = None) -> list[CommuneStanding]:
    """Every commune of ``result`` against the province path at ``assessment``'s point (a
    commune's value is compared only for a percentage: a count per commune has no path),
    highest value first, communes without a value last (by name)."""
    ratio = result.definition.is_ratio
    path_now = None
    if assessment.path is not None and ratio:
        path_now = assessment.path.value_at(result_period(assessment))
    out = []
    for c in result.by_commune:
        value = c.value(ratio)
        out.append(CommuneStanding(c.code, c.name, value, c.numerator, c.denominator, c.status, c.status_label,
                                   _standing(value, path_now, assessment), (districts or {}).get(c.code),
                                   dict(c.extra)))
    out.sort(key=lambda s: (s.value is None, -(s.value or 0.0), s.name))
    return out


def result_period(assessment: Assessment) -> Period:
    """The period the commune values are for: the one asked."""
    assert assessment.period is not None
    return assessment.period


def _standing(value: float | None, path_now: float | None, assessment: Assessment
              ) -> Literal["behind", "on_track", "ahead", "reached", "no_data", "no_path"]:
    if value is None:
        return "no_data"
    if assessment.target is not None and path_now is not None and value >= assessment.target - 1e-9:
        return "reached"
    if path_now is None:
        return "no_path"
    gap = path_now - value
    tol = assessment.tolerance
    return "behind" if gap > tol else "ahead" if gap < -tol else "on_track"

