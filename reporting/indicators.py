"""The plans' indicators from the reports, aggregated in SQL (indicators.md §3–5).

Per commune: numerator (stock: each unit's latest report in the period; flow: the period's
reports summed), denominator (baseline), value. Province: the sums of numerators and
denominators over communes that have both; a commune without data is *missing*, not zero;
a commune without a baseline is *not computable* (and said so). Trainings are a log of events:
a commune that filed its commune report for the period and logged no training held 0 trainings
(a real 0); a commune that filed nothing is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Float, and_, cast, func, select
from sqlalchemy.orm import Session

from reporting import areas
from reporting.models import Baseline, Report, ReportingUnit
from reporting.numbers import format_number
from reporting.periods import Period
from reporting.plans import Plan
from reporting.vocabulary import ReportStatus

DEFINITIONS = Path(__file__).resolve().parent / "indicators.yaml"
FILED = ReportStatus.FILED


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
    denominator: list[str] = Field(default_factory=list)  # baseline figures of the commune
    # or: figures of the same reports as the numerator (members of the cooperatives that report)
    denominator_from_reports: list[str] = Field(default_factory=list)
    breakdown: dict[str, str] = Field(default_factory=dict)
    note: str | None = None
    not_collected: str | None = None
    definition: str | None = None  # what the indicator measures, for the dashboard and the workbook
    numerator_label: str | None = None  # what the numerator counts, after its number: «tấn rơm rạ thu gom»
    denominator_label: str | None = None  # «tấn rơm rạ phát sinh»

    @property
    def is_ratio(self) -> bool:
        return bool(self.denominator or self.denominator_from_reports)


@cache
def definitions(path: Path = DEFINITIONS) -> dict[str, Definition]:
    """Every indicator; a broken entry raises ValueError with ``indicators.yaml: id: problem`` lines."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out, problems = {}, []
    for key, value in data.items():
        try:
            out[key] = Definition.model_validate({"id": key, **value})
        except ValidationError as exc:
            problems += [f"{path.name}: {key}.{'.'.join(str(x) for x in err['loc'])}: {err['msg']}"
                         for err in exc.errors()]
    if problems:
        raise ValueError("\n".join(problems))
    return out


Status = Literal["ok", "missing", "no_data", "partial", "no_baseline"]
STATUS_LABELS = {"ok": "có số liệu", "missing": "chưa báo cáo", "no_data": "thiếu số liệu",
                 "partial": "thiếu nửa năm", "no_baseline": "chưa có số liệu nền"}


@dataclass
class CommuneValue:
    code: int
    name: str
    numerator: float | None = None
    denominator: float | None = None
    extra: dict[str, float] = field(default_factory=dict)
    reported: bool = False  # the commune filed a report in the period, with or without this figure
    missing_parts: list[Period] = field(default_factory=list)  # half-years of a flow not in yet

    @property
    def status(self) -> Status:
        if self.missing_parts:
            return "partial"  # a half-year of the flow is missing: left out of the ratio
        if self.numerator is None:
            return "no_data" if self.reported else "missing"
        if self.denominator is not None and self.denominator <= 0:
            return "no_baseline"
        return "ok"

    @property
    def status_label(self) -> str:
        """The status as an official reads it: «thiếu số liệu», «thiếu 6 tháng cuối năm 2026» …"""
        if self.status == "partial":
            return missing_label(self.missing_parts)
        return STATUS_LABELS[self.status]

    def value(self, ratio: bool) -> float | None:
        if self.numerator is None or self.missing_parts:
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
                 "status_label": c.status_label,
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
def _half_years(period: Period, cutoff: int) -> tuple[list[str], list[Period]]:
    """(half-years whose end falls in ``period``: stocks; half-years a flow adds up: flows).

    A flow is counted from the start of the year: for a year both halves, for the second
    half-year both halves too («lũy kế từ đầu năm», against the year's generation), for the
    first half-year the first.
    """
    start, end = period.start(cutoff), period.end(cutoff)
    candidates = [Period(y, "S", n) for y in (period.year - 1, period.year, period.year + 1) for n in (1, 2)]
    stock = [p.id for p in candidates if start <= p.end(cutoff) <= end]
    year = Period(period.year)
    flow = [p for p in candidates if year.start(cutoff) <= p.start(cutoff) and p.end(cutoff) <= end]
    return stock, flow


def area_communes(plan: Plan, commune_code: int | None = None) -> list[areas.Commune]:
    found = [c for c in areas.communes_of(plan.province_code)
             if plan.former_province_code is None or plan.former_province_code in c.former_province_codes]
    if commune_code is not None:
        found = [c for c in found if c.code == commune_code]
    return found


def _num(expr: Any) -> Any:
    return func.coalesce(cast(expr, Float), 0.0)


def _given(fields: list[str]) -> list[Any]:
    """The report gives every one of ``fields`` (a skipped figure is JSON null: no data)."""
    return [Report.values[f].as_float().is_not(None) for f in fields]


def _report_sums(session: Session, *, form: str, fields: list[str], required: list[str], periods: list[str],
                 latest: bool, codes: list[int]) -> dict[tuple[int, str], dict[str, float]]:
    """Per commune and period: the sum of ``fields`` over its units' reports that give every
    ``required`` field (stocks: each unit's latest such report, under its own period)."""
    if not periods or not fields:
        return {}
    filed = [Report.form == form, Report.status == FILED, Report.period.in_(periods)]
    base = [*filed, *_given(required)]
    if latest:  # each unit's latest report, even when it skipped the figure (then: no data, not the older one)
        last = (select(Report.unit_id, func.max(Report.period).label("period"))
                .where(*filed).group_by(Report.unit_id).subquery())
        join_on = and_(Report.unit_id == last.c.unit_id, Report.period == last.c.period)
        source = select().select_from(Report).join(last, join_on)
    else:
        source = select().select_from(Report)
    columns = [func.sum(_num(Report.values[f].as_float())).label(f) for f in fields]
    stmt = (source.add_columns(ReportingUnit.commune_code, Report.period, *columns)
            .join(ReportingUnit, ReportingUnit.id == Report.unit_id)
            .where(*base, ReportingUnit.commune_code.in_(codes))
            .group_by(ReportingUnit.commune_code, Report.period))
    return {(int(row.commune_code), str(row.period)): {f: float(getattr(row, f) or 0.0) for f in fields}
            for row in session.execute(stmt)}


def _reporting_communes(session: Session, *, form: str, periods: list[str], codes: list[int]
                        ) -> set[tuple[int, str]]:
    """(commune, period) with a filed report of ``form`` in ``periods`` (figures given or not)."""
    if not periods:
        return set()
    stmt = (select(ReportingUnit.commune_code, Report.period).join(Report, Report.unit_id == ReportingUnit.id)
            .where(Report.form == form, Report.status == FILED, Report.period.in_(periods),
                   ReportingUnit.commune_code.in_(codes)).distinct())
    return {(int(c), str(p)) for c, p in session.execute(stmt)}


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
        elif period.kind in ("Q", "M") and definition.numerator.form != "training":
            note = ("Số liệu này báo cáo theo 6 tháng nên không tách được theo "
                    f"{'quý' if period.kind == 'Q' else 'tháng'}; xem theo 6 tháng hoặc cả năm.")
        else:
            num = definition.numerator
            fields = list(num.fields) + list(definition.breakdown)
            if num.form == "training":
                sums = _training_sums(session, fields=fields or ["participants"], start=period.start(cutoff),
                                      end=period.end(cutoff), codes=codes, count=num.count)
                # a commune that filed its commune report for the period and logged no training
                # held none: a real 0, not «no data» (a commune that reported nothing stays missing)
                active = {code for code, _ in _reporting_communes(
                    session, form="commune", periods=sorted(set(stock_periods) | {p.id for p in flow_periods}),
                    codes=codes)}
                for cv in by_commune:
                    if cv.code in sums:
                        main, parts = sums[cv.code]
                        cv.numerator = main if num.count or not num.fields else sum(parts[f] for f in num.fields)
                        cv.extra = {k: parts[k] for k in definition.breakdown}
                        cv.reported = True
                    elif cv.code in active:
                        cv.numerator, cv.extra, cv.reported = 0.0, dict.fromkeys(definition.breakdown, 0.0), True
            else:
                stock = num.aggregation == "stock"
                periods = stock_periods if stock else [p.id for p in flow_periods]
                own = list(definition.denominator_from_reports)
                by_period = _report_sums(session, form=num.form, fields=fields + own,
                                         required=list(num.fields) + own, periods=periods, latest=stock, codes=codes)
                reported = _reporting_communes(session, form=num.form, periods=periods, codes=codes)
                for cv in by_commune:
                    cv.reported = any(code == cv.code for code, _ in reported)
                    got = {p: parts for (code, p), parts in by_period.items() if code == cv.code}
                    if not stock and cv.reported:  # a flow counts only with every half-year it adds up
                        cv.missing_parts = [p for p in flow_periods if (cv.code, p.id) not in reported]
                        if cv.reported and not cv.missing_parts and any(p.id not in got for p in flow_periods):
                            continue  # a half-year's report skipped the figure: no data
                    if not got:
                        continue
                    totals = {f: sum(parts.get(f, 0.0) for parts in got.values()) for f in fields + own}
                    cv.numerator = sum(totals[f] for f in num.fields)
                    cv.extra = {k: totals[k] for k in definition.breakdown}
                    if own:
                        cv.denominator = sum(totals[f] for f in own)
            if definition.denominator:
                for cv in by_commune:
                    b = baselines.get(cv.code)
                    values = [getattr(b, f) for f in definition.denominator] if b else []
                    cv.denominator = sum(values) if values and all(v is not None for v in values) else None
                    if cv.denominator is None and cv.numerator is not None:
                        cv.denominator = 0.0  # reported, but no baseline: not computable
        cumulative = (definition.numerator is not None and definition.numerator.aggregation == "flow"
                      and definition.numerator.form != "training" and period.kind == "S")
        goal = target.target
        if target.target_kind == "growth_pct_over_baseline" and goal is not None:
            # «+10 % over the base year» is not a value to reach: said in words, never shown as one
            growth = f"Mục tiêu: tăng {format_number(goal)} % so với năm gốc" + (
                f" vào năm {target.target_year}" if target.target_year else "") + "."
            note, goal = f"{note} {growth}" if note else growth, None
        results.append(_roll_up(definition, goal, target.target_year, by_commune, note, cumulative=cumulative))
    return IndicatorReport(plan, period, commune_code, results)


def _roll_up(definition: Definition, target: float | None, target_year: int | None,
             by_commune: list[CommuneValue], note: str | None, *, cumulative: bool = False) -> IndicatorResult:
    ratio = definition.is_ratio
    usable = [c for c in by_commune if c.status == "ok"]
    reporting = [c for c in by_commune if c.numerator is not None and not c.missing_parts]
    numerator = sum(c.numerator or 0 for c in usable) if usable else None
    denominator = sum(c.denominator or 0 for c in usable) if ratio and usable else None
    if ratio:
        value = 100.0 * numerator / denominator if numerator is not None and denominator else None
    else:
        value = numerator
    extra = {k: sum(c.extra.get(k, 0.0) for c in usable) for k in definition.breakdown} if usable else {}
    notes = [note] if note else []
    if cumulative:
        notes.append("Lũy kế từ đầu năm" + (", so với lượng phát sinh cả năm." if ratio else "."))
    partial = [c for c in by_commune if c.status == "partial"]
    if partial:
        notes.append(f"{len(partial)} xã chưa đủ số liệu cả năm nên chưa tính: "
                     + "; ".join(f"{c.name} ({missing_label(c.missing_parts)})" for c in partial[:10])
                     + ("…" if len(partial) > 10 else "") + ".")
    no_data = [c for c in by_commune if c.status == "no_data"]
    if no_data:
        notes.append(f"{len(no_data)} xã báo cáo nhưng bỏ qua số liệu này (thiếu số liệu), không tính vào tỷ lệ.")
    no_base = [c for c in by_commune if c.status == "no_baseline"]
    if no_base:
        notes.append(f"{len(no_base)} xã có báo cáo nhưng chưa có số liệu nền nên chưa tính được tỷ lệ.")
    return IndicatorResult(definition, target, target_year, numerator, denominator, value,
                           len(reporting), len(by_commune), by_commune, extra, " ".join(notes) or None)


def missing_label(parts: list[Period]) -> str:
    """«thiếu 6 tháng cuối năm» (or «đầu năm»)."""
    return ", ".join(f"thiếu 6 tháng {'đầu' if p.n == 1 else 'cuối'} năm {p.year}" for p in parts)
