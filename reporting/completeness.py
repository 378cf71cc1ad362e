"""Reporting rate and timeliness per plan and period, and who has not reported."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting.clock import local_date
from reporting.forms import load_forms
from reporting.indicators import area_communes
from reporting.models import Report, ReportingUnit
from reporting.periods import Period, parse
from reporting.plans import Plan
from reporting.vocabulary import UNIT_KIND, ReportStatus, UnitKind


@dataclass(frozen=True)
class MissingUnit:
    """A unit that has not filed: its name as listed, its unit (None: a commune no one ever
    registered for, so there is no one to remind) and its commune."""

    name: str
    unit_id: int | None
    commune_code: int


@dataclass
class FormCompleteness:
    form: str
    title: str
    report_period: str
    deadline: date | None
    expected: int
    received: int
    on_time: int
    missing: list[str] = field(default_factory=list)
    missing_units: list[MissingUnit] = field(default_factory=list)

    @property
    def period_name(self) -> str:
        """The report period as people read it: «6 tháng cuối năm 2026»."""
        return parse(self.report_period).name

    @property
    def rate(self) -> float | None:
        return 100.0 * self.received / self.expected if self.expected else None

    @property
    def timeliness(self) -> float | None:
        return 100.0 * self.on_time / self.expected if self.expected else None

    def to_dict(self) -> dict[str, object]:
        return {
            "form": self.form, "title": self.title, "report_period": self.report_period,
            "period_name": self.period_name,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "expected": self.expected, "received": self.received, "on_time": self.on_time,
            "rate": None if self.rate is None else round(self.rate, 1),
            "timeliness": None if self.timeliness is None else round(self.timeliness, 1),
            "missing": self.missing,
        }


def report_period(period: Period) -> Period | None:
    """The half-year report that answers for ``period``: S2 for a year, itself for a half-year."""
    if period.kind == "Y":
        return Period(period.year, "S", 2)
    if period.kind == "S":
        return period
    return None


def completeness(session: Session, *, plan: Plan, period: Period, commune_code: int | None = None,
                 ) -> list[FormCompleteness]:
    """For each form the plan uses (trainings excepted): expected, received, on time, missing."""
    due_for = report_period(period)
    if due_for is None:
        return []
    communes = {c.code: c for c in area_communes(plan, commune_code)}
    deadline = plan.deadline_for(due_for)
    out = []
    forms = load_forms()
    for form_id in plan.forms:
        form = forms[form_id]
        if form.period_kind == "dated":
            continue
        kind = UNIT_KIND[form.role]  # who files the form: communes, cooperatives or farms
        units = [*session.scalars(select(ReportingUnit).where(
            ReportingUnit.kind == kind, ReportingUnit.commune_code.in_(list(communes)),
            ReportingUnit.retired_at.is_(None)))]
        filed = {
            r.unit_id: r for r in session.scalars(select(Report).where(
                Report.form == form_id, Report.status == ReportStatus.FILED, Report.period == due_for.id,
                Report.unit_id.in_([u.id for u in units] or [-1])))
        }
        if kind == UnitKind.COMMUNE:
            by_commune = {u.commune_code: u for u in units}
            expected_names = [(c.name, by_commune.get(code), code) for code, c in sorted(communes.items(),
                                                                                     key=lambda kv: kv[1].name)]
        else:
            expected_names = [(f"{u.name} ({communes[u.commune_code].name})", u, u.commune_code) for u in
                              sorted(units, key=lambda u: u.name)]
        received = on_time = 0
        missing: list[MissingUnit] = []
        for name, unit, code in expected_names:
            report = filed.get(unit.id) if unit else None
            if report is None:
                missing.append(MissingUnit(name, unit.id if unit else None, code))
                continue
            received += 1
            if deadline is None or (report.filed_at and local_date(report.filed_at) <= deadline):
                on_time += 1
        out.append(FormCompleteness(form_id, form.title, due_for.id, deadline, len(expected_names), received,
                                    on_time, [m.name for m in missing], missing))
    return out
