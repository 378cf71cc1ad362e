"""The plans' indicators from the reports, aggregated in SQL (indicators.md §3–5).

Per commune: numerator (stock: each unit's latest report in the period; flow: the period's
reports summed), denominator (baseline), value. Province: the sums of numerators and
denominators over communes that have both; a commune without data is *missing*, not zero;
a commune without a baseline is *not computable* (and said so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Float, and_, cast, func, select
from sqlalchemy.orm import Session

from reporting import units
from reporting.models import Baseline, Report, ReportingUnit
from reporting.periods import Period
from reporting.plans import Plan

DEFINITIONS = Path(__file__).resolve().parent / "indicators.yaml"
FILED = "filed"


class Numerator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    form: str
    fields: list[str] = Field(default_factory=list)
    aggregation: Literal["stock", "flow"] = "flow"
    count: bool = False


class Definition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    title: str
    unit: str
    numerator: Numerator | None = None
    denominator: list[str] = Field(default_factory=list)
    breakdown: dict[str, str] = Field(default_factory=dict)
    note: str | None = None
    not_collected: str | None = None

    @property
    def is_ratio(self) -> bool:
        return bool(self.denominator)


@cache
def definitions(path: Path = DEFINITIONS) -> dict[str, Definition]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {key: Definition.model_validate({"id": key, **value}) for key, value in data.items()}


@dataclass
class CommuneValue:
    code: int
    name: str
    numerator: float | None = None
    denominator: float | None = None
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> Literal["ok", "missing", "no_baseline"]:
        if self.numerator is None:
            return "missing"
        if self.denominator is not None and self.denominator <= 0:
            return "no_baseline"
        return "ok"

    def value(self, ratio: bool) -> float | None:
        if self.numerator is None:
            return None
        if not ratio:
            return self.numerator
        if not self.denominator:
            return None
        return 100.0 * self.numerator / self.denominator


@dataclass
class IndicatorResult:
    definition: Definition
    target: float | None
    target_year: int | None
    numerator: float | None
    denominator: float | None
    value: float | None
    communes_reporting: int
    communes_total: int
    by_commune: list[CommuneValue]
    extra: dict[str, float] = field(default_factory=dict)
    note: str | None = None

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def gap(self) -> float | None:
        if self.target is None or self.value is None:
            return None
        return self.target - self.value

    def to_dict(self) -> dict[str, Any]:
        ratio = self.definition.is_ratio
        return {
            "id": self.id, "title": self.definition.title, "unit": self.definition.unit,
            "target": self.target, "target_year": self.target_year,
            "numerator": self.numerator, "denominator": self.denominator,
            "value": None if self.value is None else round(self.value, 2),
            "gap": None if self.gap is None else round(self.gap, 2),
            "communes_reporting": self.communes_reporting, "communes_total": self.communes_total,
            "extra": self.extra, "note": self.note,
            "by_commune": [
                {"code": c.code, "name": c.name, "numerator": c.numerator, "denominator": c.denominator,
                 "value": None if c.value(ratio) is None else round(c.value(ratio) or 0, 2), "status": c.status,
                 **({"extra": c.extra} if c.extra else {})}
                for c in self.by_commune
            ],
        }


@dataclass
class IndicatorReport:
    plan: Plan
    period: Period
    commune_code: int | None
    results: list[IndicatorResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan.id, "plan_name": self.plan.name, "document": self.plan.document,
            "period": self.period.id, "period_label": self.period.label(self.plan.cutoff_day),
            "start": self.period.start(self.plan.cutoff_day).isoformat(),
            "end": self.period.end(self.plan.cutoff_day).isoformat(),
            "commune": self.commune_code, "indicators": [r.to_dict() for r in self.results],
        }


# -- periods the reports come in ----------------------------------------------------------------
def _half_years(period: Period, cutoff: int) -> tuple[list[str], list[str]]:
    """(half-years whose end falls in ``period``: stocks; half-years inside it: flows)."""
    start, end = period.start(cutoff), period.end(cutoff)
    candidates = [Period(y, "S", n) for y in (period.year - 1, period.year, period.year + 1) for n in (1, 2)]
    stock = [p.id for p in candidates if start <= p.end(cutoff) <= end]
    flow = [p.id for p in candidates if start <= p.start(cutoff) and p.end(cutoff) <= end]
    return stock, flow


def area_communes(plan: Plan, commune_code: int | None = None) -> list[units.Commune]:
    found = [c for c in units.communes_of(plan.province_code)
             if plan.former_province_code is None or plan.former_province_code in c.former_province_codes]
    if commune_code is not None:
        found = [c for c in found if c.code == commune_code]
    return found


def _num(expr: Any) -> Any:
    return func.coalesce(cast(expr, Float), 0.0)


def _report_sums(session: Session, *, form: str, fields: list[str], periods: list[str], latest: bool,
                 codes: list[int]) -> dict[int, tuple[float, dict[str, float]]]:
    """Per commune: the sum of ``fields`` (and each field alone) over its units' reports."""
    if not periods or not fields:
        return {}
    base = [Report.form == form, Report.status == FILED, Report.period.in_(periods)]
    if latest:
        last = (select(Report.unit_id, func.max(Report.period).label("period"))
                .where(*base).group_by(Report.unit_id).subquery())
        join_on = and_(Report.unit_id == last.c.unit_id, Report.period == last.c.period)
        source = select().select_from(Report).join(last, join_on)
    else:
        source = select().select_from(Report)
    columns = [func.sum(_num(Report.values[f].as_float())).label(f) for f in fields]
    counts = func.count(Report.id).label("reports")
    stmt = (source.add_columns(ReportingUnit.commune_code, counts, *columns)
            .join(ReportingUnit, ReportingUnit.id == Report.unit_id)
            .where(*base, ReportingUnit.commune_code.in_(codes))
            .group_by(ReportingUnit.commune_code))
    out = {}
    for row in session.execute(stmt):
        parts = {f: float(getattr(row, f) or 0.0) for f in fields}
        out[int(row.commune_code)] = (sum(parts.values()), parts)
    return out


def _training_sums(session: Session, *, fields: list[str], start: date, end: date, codes: list[int],
                   count: bool) -> dict[int, tuple[float, dict[str, float]]]:
    commune = Report.values["commune_code"].as_integer()
    columns = [func.sum(_num(Report.values[f].as_float())).label(f) for f in fields]
    stmt = (select(commune.label("commune"), func.count(Report.id).label("n"), *columns)
            .where(Report.form == "training", Report.status == FILED,
                   Report.event_date >= start, Report.event_date <= end, commune.in_(codes))
            .group_by(commune))
    out = {}
    for row in session.execute(stmt):
        parts = {f: float(getattr(row, f) or 0.0) for f in fields}
        main = float(row.n) if count else parts[fields[0]]
        out[int(row.commune)] = (main, parts)
    return out


def _baselines(session: Session, *, year: int, codes: list[int]) -> dict[int, Baseline]:
    latest = (select(Baseline.commune_code, func.max(Baseline.year).label("year"))
              .where(Baseline.year <= year, Baseline.commune_code.in_(codes))
              .group_by(Baseline.commune_code).subquery())
    stmt = select(Baseline).join(latest, and_(Baseline.commune_code == latest.c.commune_code,
                                              Baseline.year == latest.c.year))
    return {b.commune_code: b for b in session.scalars(stmt)}


def compute(session: Session, *, plan: Plan, period: Period, commune_code: int | None = None) -> IndicatorReport:
    communes = area_communes(plan, commune_code)
    codes = [c.code for c in communes]
    cutoff = plan.cutoff_day
    stock_periods, flow_periods = _half_years(period, cutoff)
    baselines = _baselines(session, year=period.year, codes=codes)
    results = []
    for target in plan.indicators:
        definition = definitions().get(target.id)
        if definition is None:
            raise ValueError(f"plan {plan.id}: no definition for indicator {target.id}")
        by_commune = [CommuneValue(c.code, c.name) for c in communes]
        note = definition.note
        if definition.not_collected or definition.numerator is None:
            note = definition.not_collected
        else:
            num = definition.numerator
            fields = list(num.fields) + list(definition.breakdown)
            if num.form == "training":
                sums = _training_sums(session, fields=fields or ["participants"], start=period.start(cutoff),
                                      end=period.end(cutoff), codes=codes, count=num.count)
            else:
                stock = num.aggregation == "stock"
                sums = _report_sums(session, form=num.form, fields=fields,
                                    periods=stock_periods if stock else flow_periods, latest=stock, codes=codes)
            for cv in by_commune:
                if cv.code in sums:
                    main, parts = sums[cv.code]
                    cv.numerator = main if num.count or not num.fields else sum(parts[f] for f in num.fields)
                    cv.extra = {k: parts[k] for k in definition.breakdown}
                if definition.is_ratio:
                    b = baselines.get(cv.code)
                    values = [getattr(b, f) for f in definition.denominator] if b else []
                    cv.denominator = sum(values) if values and all(v is not None for v in values) else None
                    if cv.denominator is None and cv.numerator is not None:
                        cv.denominator = 0.0  # reported, but no baseline: not computable
        results.append(_roll_up(definition, target.target, target.target_year, by_commune, note))
    return IndicatorReport(plan, period, commune_code, results)


def _roll_up(definition: Definition, target: float | None, target_year: int | None,
             by_commune: list[CommuneValue], note: str | None) -> IndicatorResult:
    ratio = definition.is_ratio
    usable = [c for c in by_commune if c.status == "ok"]
    reporting = [c for c in by_commune if c.numerator is not None]
    numerator = sum(c.numerator or 0 for c in usable) if usable else None
    denominator = sum(c.denominator or 0 for c in usable) if ratio and usable else None
    if ratio:
        value = 100.0 * numerator / denominator if numerator is not None and denominator else None
    else:
        value = numerator
    extra = {k: sum(c.extra.get(k, 0.0) for c in usable) for k in definition.breakdown} if usable else {}
    no_base = [c for c in by_commune if c.status == "no_baseline"]
    if no_base and not note:
        note = f"{len(no_base)} xã có báo cáo nhưng chưa có số liệu nền nên chưa tính được tỷ lệ."
    return IndicatorResult(definition, target, target_year, numerator, denominator, value,
                           len(reporting), len(by_commune), by_commune, extra, note)


def trend(session: Session, *, plan: Plan, indicator_id: str, periods: list[Period],
          commune_code: int | None = None) -> list[tuple[str, float | None]]:
    """The indicator's value for each period, for a chart over time."""
    points = []
    for period in periods:
        report = compute(session, plan=plan, period=period, commune_code=commune_code)
        result = next(r for r in report.results if r.id == indicator_id)
        points.append((period.id, result.value))
    return points
