"""Reports: drafts that survive restarts, filing once, corrections with an audit trail."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting import areas
from reporting.clock import local_date
from reporting.forms import FormDef, Problem, check_answers, load_forms, show
from reporting.models import Baseline, Report, ReportChange, ReportingUnit
from reporting.periods import Period, containing, parse
from reporting.plans import Plan, plans_for
from reporting.vocabulary import ReportStatus

DRAFT, FILED, CANCELLED = ReportStatus.DRAFT, ReportStatus.FILED, ReportStatus.CANCELLED
BASELINE_FIELDS = ("livestock_households", "farms", "cooperatives", "extension_staff",
                   "straw_generated_t", "byproducts_generated_t", "aquaculture_area_ha")


def plans_for_unit(unit: ReportingUnit) -> list[Plan]:
    commune = areas.commune(unit.commune_code)
    former = commune.former_province_codes if commune else ()
    return plans_for(unit.province_code, former)


def cutoff_day(unit: ReportingUnit) -> int:
    days = {p.cutoff_day for p in plans_for_unit(unit)}
    return min(days) if days else 14


def first_year(unit: ReportingUnit, form: FormDef) -> int | None:
    """The first year any plan of the unit that uses ``form`` reports on."""
    years = [p.first_year for p in plans_for_unit(unit) if form.id in p.forms]
    return min(years) if years else None


def period_choices(session: Session, unit: ReportingUnit, form: FormDef, today: date) -> list[tuple[Period, bool]]:
    """The periods the unit may report, with ``True`` for a late report («nộp bổ sung»).

    The current period and the previous one; then every earlier period of the plans' years
    that the unit has not filed yet. Nothing in the future, nothing before the plans' first year.
    """
    start = first_year(unit, form)
    if start is None or form.period_kind == "dated":
        return []
    current = containing(today, form.period_kind, cutoff_day(unit))
    filed = {r.period for r in session.scalars(select(Report).where(
        Report.unit_id == unit.id, Report.form == form.id, Report.status == FILED))}
    out: list[tuple[Period, bool]] = []
    period = current
    while period.year >= start:
        recent = len(out) < 2 and period in (current, current.previous())
        if recent:
            out.append((period, False))
        elif period.id not in filed:
            out.append((period, True))
        period = period.previous()
    return out


def allowed_period(session: Session, unit: ReportingUnit, form: FormDef, period: str, today: date) -> bool:
    """Whether a button asking for ``period`` asks for one the bot would offer (or a filed one)."""
    return any(p.id == period for p, _ in period_choices(session, unit, form, today)) or \
        get_filed(session, unit_id=unit.id, form=form.id, period=period) is not None


def deadlines(unit: ReportingUnit, form: FormDef, period: Period) -> list[tuple[Plan, date]]:
    """Each plan's own deadline for this form and period (the same date completeness uses)."""
    return sorted(((p, d) for p in plans_for_unit(unit) if form.id in p.forms if (d := p.deadline_for(period))),
                  key=lambda pd: pd[1])


def deadline(unit: ReportingUnit, form: FormDef, period: Period) -> date | None:
    """The earliest deadline any plan of the unit's province sets for this form and period."""
    days = [d for p in plans_for_unit(unit) if form.id in p.forms if (d := p.deadline_for(period))]
    return min(days) if days else None


def baseline(session: Session, *, commune_code: int, year: int) -> dict[str, float | None]:
    """The commune's baseline for ``year``, or the latest earlier one; empty when none."""
    row = session.scalar(
        select(Baseline).where(Baseline.commune_code == commune_code, Baseline.year <= year)
        .order_by(Baseline.year.desc()).limit(1))
    return {f: getattr(row, f) for f in BASELINE_FIELDS} if row else {}


def get(session: Session, *, report_id: int) -> Report | None:
    return session.get(Report, report_id)


def get_draft(session: Session, *, unit_id: int, form: str) -> Report | None:
    return session.scalar(
        select(Report).where(Report.unit_id == unit_id, Report.form == form, Report.status == DRAFT)
        .order_by(Report.updated_at.desc()).limit(1))


def get_filed(session: Session, *, unit_id: int, form: str, period: str) -> Report | None:
    return session.scalar(select(Report).where(
        Report.unit_id == unit_id, Report.form == form, Report.period == period, Report.status == FILED))


def create_draft(
    session: Session, *, unit: ReportingUnit, form: FormDef, by: str, now: datetime,
    period: str | None = None, corrects: Report | None = None,
) -> Report:
    """A new draft; a correction starts from the filed report's values."""
    for old in session.scalars(select(Report).where(
            Report.unit_id == unit.id, Report.form == form.id, Report.status == DRAFT)):
        old.status = CANCELLED  # one draft per unit and form
    draft = Report(
        form=form.id, unit_id=unit.id, period=corrects.period if corrects else period, status=DRAFT,
        values=dict(corrects.values) if corrects else {}, created_by=by, created_at=now, updated_at=now,
        corrects_id=corrects.id if corrects else None, event_date=corrects.event_date if corrects else None,
    )
    session.add(draft)
    session.flush()
    return draft


def set_value(session: Session, *, draft: Report, key: str, value: Any, now: datetime) -> None:
    values = dict(draft.values)
    values[key] = value
    draft.values = values  # a new dict, so the JSON column sees the change
    draft.updated_at = now
    session.flush()


def unset_value(session: Session, *, draft: Report, key: str, now: datetime) -> None:
    values = dict(draft.values)
    values.pop(key, None)
    draft.values = values
    draft.updated_at = now
    session.flush()


def validate(session: Session, *, draft: Report, form: FormDef, just_answered: str | None = None) -> list[Problem]:
    unit = session.get(ReportingUnit, draft.unit_id)
    assert unit is not None
    year = _year(draft, unit)
    base = baseline(session, commune_code=unit.commune_code, year=year) if year else {}
    return check_answers(form, draft.values, baseline=base, just_answered=just_answered,
                         earlier=_earlier_in_year(session, draft=draft, form=form), year=year)


def _earlier_in_year(session: Session, *, draft: Report, form: FormDef) -> dict[str, float]:
    """For the form's flow fields: what the unit filed for the year's other half-years."""
    if not draft.period or form.period_kind != "S":
        return {}
    period = parse(draft.period)
    others = [p.id for p in Period(period.year).parts("S") if p != period]
    flows = [f.key for f in form.fields if f.aggregation == "flow" and f.kind in {"count", "amount"}]
    out: dict[str, float] = {}
    for report in session.scalars(select(Report).where(
            Report.unit_id == draft.unit_id, Report.form == form.id, Report.status == FILED,
            Report.period.in_(others))):
        for key in flows:
            value = report.values.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[key] = out.get(key, 0.0) + float(value)
    return out


def _year(draft: Report, unit: ReportingUnit) -> int | None:
    if draft.period:
        return parse(draft.period).year
    when = draft.values.get("training_date")
    return containing(date.fromisoformat(when), "Y", cutoff_day(unit)).year if when else None


def cancel(session: Session, *, draft: Report) -> None:
    if draft.status == DRAFT:
        draft.status = CANCELLED


def derived(form: FormDef, values: dict[str, Any]) -> dict[str, Any]:
    """Values computed from the answers (``derived:`` in forms.yaml), kept with them so SQL can
    aggregate plain numbers."""
    out = dict(values)
    if "applies_treatment" in form.derived:
        if form.id == "farm":
            techs = values.get("technologies") or []
            out["applies_treatment"] = int(bool(techs) and techs != ["none"])
        else:
            out["applies_treatment"] = int(bool(values.get("applies_process")))
    return out


def file(session: Session, *, draft: Report, form: FormDef, by: str, now: datetime) -> Report:
    """File a draft (or apply a correction). Filing the same thing twice files it once.

    Raises Problem when a rule fails; nothing is written then.
    """
    if draft.status != DRAFT:  # an old "Gửi" button pressed again
        target = session.get(Report, draft.corrects_id) if draft.corrects_id else draft
        assert target is not None
        return target
    unit = session.get(ReportingUnit, draft.unit_id)
    assert unit is not None
    if form.period_kind == "dated" and draft.values.get("commune_code") is None:
        draft.values = {**draft.values, "commune_code": unit.commune_code}  # the officer's own commune
    missing = form.missing(draft.values)
    if missing:  # «Gửi» of a form not finished (an old or forged button)
        raise Problem("incomplete", {"field": missing[0].label, "count": len(missing)})
    problems = validate(session, draft=draft, form=form)
    if problems:
        raise problems[0]
    unit = session.get(ReportingUnit, draft.unit_id)
    assert unit is not None
    draft.values = derived(form, draft.values)
    if draft.corrects_id is not None:
        return _apply_correction(session, draft=draft, by=by, now=now)
    if form.period_kind == "dated":
        day = date.fromisoformat(draft.values["training_date"])
        draft.event_date = day
        draft.period = containing(day, "Y", cutoff_day(unit)).id
        if draft.values.get("commune_code") is None:
            draft.values = {**draft.values, "commune_code": unit.commune_code}
    else:
        assert draft.period is not None
        existing = get_filed(session, unit_id=unit.id, form=form.id, period=draft.period)
        if existing is not None:  # a second report for the same period becomes a correction
            draft.corrects_id = existing.id
            return _apply_correction(session, draft=draft, by=by, now=now)
        due = deadline(unit, form, parse(draft.period))
        draft.deadline = due
        draft.late = due is not None and local_date(now) > due
    draft.status = FILED
    draft.version = 1
    draft.filed_at = now
    draft.filed_by = by
    session.flush()
    return draft


def _apply_correction(session: Session, *, draft: Report, by: str, now: datetime) -> Report:
    target = session.get(Report, draft.corrects_id)
    assert target is not None and target.status == FILED
    old, new = target.values, draft.values
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    derived_keys = set(load_forms()[target.form].derived)  # computed from the answers: not a person's change
    if changed:
        target.version += 1
        for key in (k for k in changed if k not in derived_keys):
            session.add(ReportChange(
                report_id=target.id, version=target.version, field=key, changed_by=by, changed_at=now,
                old_value=None if old.get(key) is None else json.dumps(old.get(key), ensure_ascii=False),
                new_value=None if new.get(key) is None else json.dumps(new.get(key), ensure_ascii=False),
            ))
        target.values = dict(new)
        target.updated_at = now
        if "training_date" in changed:
            unit = session.get(ReportingUnit, target.unit_id)
            assert unit is not None
            day = date.fromisoformat(new["training_date"])
            target.event_date = day
            target.period = containing(day, "Y", cutoff_day(unit)).id
    draft.status = CANCELLED
    session.flush()
    return target


def _stored(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:  # written before values were stored as JSON
        try:
            return float(text)
        except ValueError:
            return text


def change_text(form: FormDef, change: ReportChange) -> str:
    """An audit line as a person reads it: «Số hộ dùng hầm biogas: 302 → 320 hộ»."""
    try:
        fdef = form.field(change.field)
    except StopIteration:
        fdef = None
    if fdef is None:
        return f"{form.label(change.field)}: {change.old_value or '—'} → {change.new_value or '—'}"
    old, new = _stored(change.old_value), _stored(change.new_value)
    return f"{fdef.label}: {show(fdef, old)} → {show(fdef, new)}"


def history(session: Session, *, report_id: int) -> list[ReportChange]:
    return [*session.scalars(select(ReportChange).where(ReportChange.report_id == report_id)
                             .order_by(ReportChange.id))]




def list_filed(session: Session, *, province_code: int | None = None, period: str | None = None,
               form: str | None = None, limit: int = 200,
               commune_code: int | None = None) -> list[tuple[Report, ReportingUnit]]:
    """Filed reports with their units, newest first, for lists in the dashboard (of one commune's
    units with ``commune_code``)."""
    stmt = (select(Report, ReportingUnit).join(ReportingUnit, ReportingUnit.id == Report.unit_id)
            .where(Report.status == FILED))
    if province_code is not None:
        stmt = stmt.where(ReportingUnit.province_code == province_code)
    if commune_code is not None:
        stmt = stmt.where(ReportingUnit.commune_code == commune_code)
    if period:
        stmt = stmt.where(Report.period == period)
    if form:
        stmt = stmt.where(Report.form == form)
    rows = session.execute(stmt.order_by(Report.filed_at.desc(), Report.id.desc()).limit(limit))
    return [(report, unit) for report, unit in rows]
