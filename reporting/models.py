"""Tables of the reporting domain: units, people and roles, invites, reports, audit, baseline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reporting.db import Base, utcnow
from reporting.vocabulary import ReportStatus


class ReportingUnit(Base):
    """Who reports: a commune (through its extension officer), a cooperative or a farm."""

    __tablename__ = "reporting_units"
    __table_args__ = (UniqueConstraint("kind", "commune_code", "name", name="uq_reporting_units_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # commune | cooperative | farm
    name: Mapped[str] = mapped_column(String(200))
    commune_code: Mapped[int] = mapped_column(Integer, index=True)
    province_code: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]  # no longer reports: left out of completeness
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("reporting_units.id"))


class UnitChange(Base):
    """The audit of units of reporting: renamed, merged into another, retired."""

    __tablename__ = "unit_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("reporting_units.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # rename | merge | retire
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(160))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Member(Base):
    """A chat identity bound to a role (and, for most roles, a unit) by an invite."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("channel", "user_id", name="uq_members_channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    province_code: Mapped[int] = mapped_column(Integer)
    commune_code: Mapped[int | None] = mapped_column(Integer)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("reporting_units.id"))
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UnitReminder(Base):
    """A reminder sent to the people of a unit that has not reported (from the dashboard, the
    command line or the daily job). At most one a unit a Vietnamese calendar day: the unique key
    holds it even when two officials press «Nhắc» at once."""

    __tablename__ = "unit_reminders"
    __table_args__ = (
        UniqueConstraint("unit_id", "day", name="uq_unit_reminders_unit_id"),
        Index("ix_unit_reminders_period", "period", "form"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("reporting_units.id"))
    day: Mapped[date] = mapped_column(Date)  # the day in Vietnam it was sent
    plan: Mapped[str] = mapped_column(String(64))
    form: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(8))  # the report's period id (2026S2)
    sent_by: Mapped[str] = mapped_column(String(160))  # dashboard:<account> | cli | schedule
    recipients: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    province_code: Mapped[int] = mapped_column(Integer)
    commune_code: Mapped[int | None] = mapped_column(Integer)
    unit_name: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[str | None] = mapped_column(String(160))
    revoked_at: Mapped[datetime | None]


class AttemptCounter(Base):
    """Attempts in a time window, per scope (login-user, login-addr, invite-user, invite-addr) and
    key; taken with one atomic ``UPDATE … RETURNING`` (reporting.attempts)."""

    __tablename__ = "attempt_counters"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)


class Report(Base):
    """One unit's report on one form for one period; a draft until filed. Training logs too."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_unit_form_period", "unit_id", "form", "period"),
        Index("ix_reports_period_form", "period", "form", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("reporting_units.id"))
    period: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.DRAFT.value)  # draft | filed | cancelled
    version: Mapped[int] = mapped_column(default=0)
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    event_date: Mapped[date | None] = mapped_column(Date)  # the day of a training
    late: Mapped[bool] = mapped_column(default=False)
    deadline: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    filed_at: Mapped[datetime | None]
    filed_by: Mapped[str | None] = mapped_column(String(160))
    # a draft that corrects a filed report names it; filing the draft updates that report
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))


class ReportChange(Base):
    """The audit trail: every value of a filed report that a correction changed."""

    __tablename__ = "report_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    version: Mapped[int]
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(160))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Baseline(Base):
    """The province's reference figures per commune and year (imported from a file)."""

    __tablename__ = "baselines"
    __table_args__ = (UniqueConstraint("commune_code", "year", name="uq_baselines_commune_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_code: Mapped[int] = mapped_column(Integer)
    province_code: Mapped[int] = mapped_column(Integer, index=True)
    year: Mapped[int]
    livestock_households: Mapped[float | None] = mapped_column(Float)
    farms: Mapped[float | None] = mapped_column(Float)
    cooperatives: Mapped[float | None] = mapped_column(Float)
    extension_staff: Mapped[float | None] = mapped_column(Float)
    straw_generated_t: Mapped[float | None] = mapped_column(Float)
    byproducts_generated_t: Mapped[float | None] = mapped_column(Float)
    aquaculture_area_ha: Mapped[float | None] = mapped_column(Float)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProvinceBaseline(Base):
    __tablename__ = "province_baselines"
    __table_args__ = (UniqueConstraint("province_code", "year", name="uq_province_baselines_province_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province_code: Mapped[int] = mapped_column(Integer)
    year: Mapped[int]
    bio_enterprises: Mapped[float | None] = mapped_column(Float)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
