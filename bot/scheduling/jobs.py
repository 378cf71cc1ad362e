"""Scheduled jobs (run by the leader): reminders, the officials' digest, escalation, tips, housekeeping."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot.conversation.callbacks import Prefix, build
from bot.conversation.types import Button, Reply
from bot.receiving import inbox
from bot.runtime import Runtime
from bot.sending import delivery
from bot.services import broadcasts, handovers, reminders
from bot.storage.db import unit_of_work, utcnow
from reporting import reports
from reporting.clock import local_date
from reporting.completeness import completeness
from reporting.forms import load_forms
from reporting.indicators import area_communes
from reporting.models import Member, ReportingUnit
from reporting.periods import Period, containing
from reporting.plans import load_plans

log = logging.getLogger(__name__)


def _due_periods(deadline_period: str, year: int) -> Period:
    return Period(year, "S", 1) if deadline_period == "S1" else Period(year, "S", 2)


def send_reminders(runtime: Runtime, now: datetime | None = None) -> int:
    """Remind every unit that has not filed, ``reminder_days`` before each deadline: all its
    people, at most once a unit a day (a «Nhắc» from the dashboard or the CLI earlier that day
    counts; see bot.services.reminders)."""
    now = now or utcnow()
    today = local_date(now)
    t = runtime.services.messages
    forms = load_forms()
    queued = 0
    with unit_of_work(runtime.sessions) as session:
        for plan in load_plans().values():
            codes = [c.code for c in area_communes(plan)]
            for entry in plan.deadlines:
                for year in (today.year, today.year + 1):
                    due = date(year, entry.month, entry.day)
                    days = (due - today).days
                    if days not in plan.reminder_days:
                        continue
                    period = _due_periods(entry.period, year)
                    for form_id in plan.forms:
                        form = forms[form_id]
                        if form.period_kind == "dated":
                            continue
                        by_unit: dict[int, tuple[ReportingUnit, list[Member]]] = {}
                        for member, unit in session.execute(
                                select(Member, ReportingUnit).join(ReportingUnit, ReportingUnit.id == Member.unit_id)
                                .where(Member.role == form.role, ReportingUnit.commune_code.in_(codes))
                                .order_by(ReportingUnit.id, Member.id)):
                            by_unit.setdefault(unit.id, (unit, []))[1].append(member)
                        for unit, members in by_unit.values():
                            if reports.get_filed(session, unit_id=unit.id, form=form_id, period=period.id):
                                continue
                            # one reminder a unit a day, «Nhắc» on the dashboard and the CLI included
                            if reminders.record(session, unit_id=unit.id, plan=plan.id, form=form_id,
                                                period=period.id, by=reminders.SCHEDULE, now=now,
                                                recipients=len(members)) is None:
                                continue
                            text = t("reminder", form=form.title, period=period.label(plan.cutoff_day),
                                     unit=unit.name, deadline=f"{due:%d/%m/%Y}", days=days)
                            button = Button(t("btn_open_form"), build(Prefix.REPORT, "form", form_id))
                            reply = Reply(text, buttons=((button,),))
                            for member in members:
                                key = f"reminder:{period.id}:{form_id}:{member.channel}:{member.user_id}:{due}:{days}"
                                if delivery.enqueue(session, channel=member.channel, user_id=member.user_id,
                                                    replies=[reply], kind="reminder", now=now, dedupe_key=key):
                                    queued += 1
    log.info("reminders queued: %d", queued)
    return queued


def send_digest(runtime: Runtime, now: datetime | None = None) -> int:
    """Weekly: each provincial official gets the completeness of their plans' current year."""
    now = now or utcnow()
    t = runtime.services.messages
    week = now.isocalendar()
    queued = 0
    with unit_of_work(runtime.sessions) as session:
        for plan in load_plans().values():
            officials = handovers.officials(session, province_code=plan.province_code)
            if not officials:
                continue
            period = containing(local_date(now), "Y", plan.cutoff_day)
            rows = completeness(session, plan=plan, period=period)
            lines = "\n".join(f"• {c.title}: nhận {c.received}/{c.expected}, đúng hạn {c.on_time}/{c.expected}"
                              for c in rows) or "• Chưa có mẫu báo cáo nào đến hạn."
            reply = Reply(t("digest", plan=plan.name, period=period.id, lines=lines),
                          buttons=((Button(t("btn_indicators"), build(Prefix.INDICATORS, "plan", plan.id)),),))
            for member in officials:
                key = f"digest:{plan.id}:{week.year}-{week.week}:{member.channel}:{member.user_id}"
                if delivery.enqueue(session, channel=member.channel, user_id=member.user_id, replies=[reply],
                                    kind="digest", now=now, dedupe_key=key):
                    queued += 1
    return queued


def escalate_handovers(runtime: Runtime, now: datetime | None = None) -> int:
    """Every 10 minutes: questions no one answered in ``handover_escalate_hours`` move to the
    province's queue, or are told to its officials again (once per interval each)."""
    now = now or utcnow()
    with unit_of_work(runtime.sessions) as session:
        return handovers.escalate_due(session, now=now, t=runtime.services.messages,
                                      after=timedelta(hours=runtime.settings.handover_escalate_hours))


def send_seasonal_tips(runtime: Runtime, now: datetime | None = None) -> int:
    now = now or utcnow()
    today = local_date(now)
    library = runtime.services.library
    queued = 0
    with unit_of_work(runtime.sessions) as session:
        for tip in library.tips:
            if (tip.month, tip.day) != (today.month, today.day):
                continue
            card = library.cards.get(tip.card) if tip.card else None
            provinces: list[int | None] = list(tip.provinces) or [None]
            for province in provinces:
                sent = broadcasts.create(
                    session, by="calendar", text=tip.text, now=now, topic=tip.topic, province_code=province,
                    card_id=card.id if card else None, card_title=card.title if card else None, kind="tip",
                    dedupe_prefix=f"tip:{tip.id}:{today.year}")
                queued += sent.recipients
    return queued


def housekeeping(runtime: Runtime, now: datetime | None = None) -> int:
    """Nightly: delete inbox rows handled more than a week ago (``inbox.KEEP_DONE``)."""
    with unit_of_work(runtime.sessions) as session:
        purged = inbox.purge(session, now=now or utcnow())
    if purged:
        log.info("housekeeping: %d handled inbox rows deleted", purged)
    return purged
