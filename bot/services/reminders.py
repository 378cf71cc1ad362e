"""Reminders to units that have not reported: who their people are, and «Nhắc» now.

The rule: **at most one reminder a unit a Vietnamese calendar day** (Asia/Ho_Chi_Minh), however
it is sent — the dashboard's «Nhắc», ``agribot remind``, or the daily job
(``bot.scheduling.jobs.send_reminders``). The unique key of ``unit_reminders`` (unit, day) holds
it, also when two officials press «Nhắc» at once. A reminder goes through the delivery queue to
every person registered for the unit, on their own channel; quiet hours (21:00–06:30) hold it
until morning, as they hold every reminder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.conversation.callbacks import Prefix, build
from bot.conversation.types import Button, Reply
from bot.knowledge.messages import Messages
from bot.sending import delivery
from bot.storage.models import ChatUser, OutgoingMessage
from reporting import people
from reporting.clock import local_date, spoken
from reporting.completeness import FormCompleteness, MissingUnit, completeness, report_period
from reporting.models import Member, ReportingUnit, UnitReminder
from reporting.periods import Period
from reporting.plans import Plan

SCHEDULE = "schedule"  # ``sent_by`` of the daily job's reminders


class Refused(Exception):
    """Why no reminder was sent, in Vietnamese for the person who asked."""


@dataclass(frozen=True)
class Reporter:
    """A person registered to report for a unit, as the dashboard shows them."""

    name: str | None
    channel: str
    last_seen: datetime | None

    @property
    def channel_label(self) -> str:
        return people.CHANNEL_LABELS.get(self.channel, self.channel)


@dataclass(frozen=True)
class Reminded:
    at: datetime
    by: str  # who, as a person reads it (people.who)
    delivery: str = ""  # how its messages went, per channel: «Telegram: đã gửi»

# what became of a reminder's message, as an official reads it (bot.sending.delivery states)
STATE_TEXT = {"pending": "đang chờ gửi", "sending": "đang gửi", "sent": "đã gửi", "failed": "gửi không được",
              "skipped": "không gửi được"}
SKIPPED_ZALO = "không gửi được: Zalo chỉ cho nhắn trong 48 giờ sau tin cuối của người nhận"


@dataclass(frozen=True)
class MissingRow:
    unit: MissingUnit
    reporters: tuple[Reporter, ...]
    today: Reminded | None  # the unit was reminded today (for any form): no other reminder today
    last: Reminded | None  # the latest reminder for this form and period

    @property
    def name(self) -> str:
        return self.unit.name


@dataclass
class FormMissing:
    completeness: FormCompleteness
    rows: list[MissingRow] = field(default_factory=list)


@dataclass(frozen=True)
class Sent:
    unit: str
    recipients: tuple[Reporter, ...]
    at: datetime
    goes_at: datetime  # later than ``at`` in the quiet hours

    def notice(self) -> str:
        who = ", ".join(f"{r.name or 'chưa rõ tên'} qua {r.channel_label}" for r in self.recipients)
        text = f"Đã gửi nhắc tới {self.unit} ({who})." if who else f"Đã nhắc {self.unit} hôm nay."
        if self.goes_at > self.at:
            text += f" Đang giờ nghỉ đêm (21:00–06:30) nên tin sẽ đi {spoken(self.goes_at, self.at)}."
        return text


@dataclass
class Summary:
    sent: list[Sent] = field(default_factory=list)
    already: list[tuple[str, Reminded]] = field(default_factory=list)
    no_officer: list[str] = field(default_factory=list)


def _reporters(session: Session, unit_ids: list[int]) -> dict[int, tuple[tuple[Member, Reporter], ...]]:
    members = people.reporters(session, unit_ids)
    user_ids = sorted({m.user_id for ms in members.values() for m in ms})
    users = {(u.channel, u.user_id): u for u in session.scalars(
        select(ChatUser).where(ChatUser.user_id.in_(user_ids or [""])))}
    out = {}
    for unit_id, ms in members.items():
        rows = []
        for m in ms:
            user = users.get((m.channel, m.user_id))
            rows.append((m, Reporter(user.display_name if user else None, m.channel,
                                     user.last_seen_at if user else None)))
        out[unit_id] = tuple(rows)
    return out


def _delivery(session: Session, row: UnitReminder) -> str:
    """How the messages of reminder ``row`` went, per channel (they were queued at its ``sent_at``)."""
    found = session.execute(
        select(OutgoingMessage.channel, OutgoingMessage.state)
        .join(Member, and_(Member.channel == OutgoingMessage.channel, Member.user_id == OutgoingMessage.user_id))
        .where(Member.unit_id == row.unit_id, OutgoingMessage.kind == "reminder",
               OutgoingMessage.created_at == row.sent_at).order_by(OutgoingMessage.id))
    parts = []
    for channel, state in found:
        text = SKIPPED_ZALO if (channel, state) == ("zalo", "skipped") else STATE_TEXT.get(state, state)
        parts.append(f"{people.CHANNEL_LABELS.get(channel, channel)}: {text}")
    return "; ".join(parts)


def _reminded(session: Session, row: UnitReminder | None) -> Reminded | None:
    if row is None:
        return None
    return Reminded(row.sent_at, people.who(session, row.sent_by), _delivery(session, row))


def reminded_today(session: Session, *, unit_id: int, now: datetime) -> UnitReminder | None:
    return session.scalar(select(UnitReminder).where(UnitReminder.unit_id == unit_id,
                                                     UnitReminder.day == local_date(now)))


def missing(session: Session, *, plan: Plan, period: Period, now: datetime,
            commune_code: int | None = None) -> list[FormMissing]:
    """Completeness of each form with every missing unit's people and reminders."""
    rates = completeness(session, plan=plan, period=period, commune_code=commune_code)
    ids = sorted({m.unit_id for c in rates for m in c.missing_units if m.unit_id is not None})
    reporters = _reporters(session, ids)
    today = {r.unit_id: r for r in session.scalars(select(UnitReminder).where(
        UnitReminder.unit_id.in_(ids or [-1]), UnitReminder.day == local_date(now)))}
    out = []
    for c in rates:
        last: dict[int, UnitReminder] = {}
        for r in session.scalars(select(UnitReminder).where(
                UnitReminder.unit_id.in_(ids or [-1]), UnitReminder.form == c.form,
                UnitReminder.period == c.report_period).order_by(UnitReminder.sent_at)):
            last[r.unit_id] = r
        rows = [MissingRow(m, tuple(rep for _, rep in reporters.get(m.unit_id, ())) if m.unit_id else (),
                           _reminded(session, today.get(m.unit_id)) if m.unit_id else None,
                           _reminded(session, last.get(m.unit_id)) if m.unit_id else None)
                for m in c.missing_units]
        out.append(FormMissing(c, rows))
    return out


def sent_today(session: Session, *, unit_id: int, now: datetime,
               visible: Callable[[int | None], bool] = lambda _: True) -> Sent | None:
    """The unit's reminder of today as ``Sent`` (the dashboard's notice after «Nhắc»); None for a
    unit whose commune the reader may not see (``visible``)."""
    unit = session.get(ReportingUnit, unit_id)
    if unit is None or not visible(unit.commune_code):
        return None
    row = reminded_today(session, unit_id=unit_id, now=now)
    if row is None:
        return None
    reporters = tuple(rep for _, rep in _reporters(session, [unit_id]).get(unit_id, ()))
    return Sent(unit.name, reporters, row.sent_at, delivery.after_quiet_hours(row.sent_at))


def record(session: Session, *, unit_id: int, plan: str, form: str, period: str, by: str, now: datetime,
           recipients: int) -> UnitReminder | None:
    """Note a reminder of ``unit_id`` today; None when it already had one today (the rule)."""
    row = UnitReminder(unit_id=unit_id, day=local_date(now), plan=plan, form=form, period=period, sent_by=by,
                       recipients=recipients, sent_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def _deadline_text(c: FormCompleteness, now: datetime) -> str:
    if c.deadline is None:
        return "theo kế hoạch của tỉnh"
    text = f"{c.deadline:%d/%m/%Y}"
    return f"{text} (đã quá hạn, mong bác gửi sớm)" if c.deadline < local_date(now) else text


def _already(session: Session, name: str, row: UnitReminder, now: datetime) -> str:
    return (f"Đã nhắc {name} {spoken(row.sent_at, now)} — {people.who(session, row.sent_by)}. Mỗi đơn vị chỉ "
            "được nhắc một lần mỗi ngày; ngày mai có thể nhắc lại.")


def _send(session: Session, *, plan: Plan, period: Period, c: FormCompleteness, unit: MissingUnit,
          reporters: tuple[tuple[Member, Reporter], ...], by: str, now: datetime, t: Messages) -> Sent:
    assert unit.unit_id is not None
    if record(session, unit_id=unit.unit_id, plan=plan.id, form=c.form, period=c.report_period, by=by, now=now,
              recipients=len(reporters)) is None:
        row = reminded_today(session, unit_id=unit.unit_id, now=now)
        raise Refused(_already(session, unit.name, row, now) if row else "Đơn vị này vừa được nhắc.")
    name = period.name
    text = t("reminder_now", unit=unit.name, form=c.title, period=name[:1].lower() + name[1:],
             deadline=_deadline_text(c, now))
    button = Button(t("btn_open_form"), build(Prefix.REPORT, "period", c.form, c.report_period))
    reply = Reply(text, buttons=((button,),))
    day = local_date(now)
    goes_at = now
    for member, _ in reporters:
        queued = delivery.enqueue(session, channel=member.channel, user_id=member.user_id, replies=[reply],
                                  kind="reminder", now=now,
                                  dedupe_key=f"remind:{unit.unit_id}:{day}:{member.channel}:{member.user_id}")
        if queued is not None:
            goes_at = max(goes_at, queued.not_before)
    return Sent(unit.name, tuple(rep for _, rep in reporters), now, goes_at)


def remind_unit(session: Session, *, plan: Plan, period: Period, form: str, unit_id: int, by: str, now: datetime,
                t: Messages) -> Sent:
    """Remind one missing unit now; ``Refused`` when it is not missing for this plan and period,
    has no one registered, or was reminded today."""
    rates = completeness(session, plan=plan, period=period)
    c = next((r for r in rates if r.form == form), None)
    unit = next((m for m in c.missing_units if m.unit_id == unit_id), None) if c else None
    if c is None or unit is None:
        raise Refused("Đơn vị này không nằm trong danh sách chưa báo cáo của kế hoạch và kỳ đã chọn "
                      "(có thể vừa gửi báo cáo). Không gửi nhắc.")
    if c.deadline is None:
        raise Refused(f"Kế hoạch này không có hạn nộp «{c.title}» cho kỳ đã chọn, nên không nhắc.")
    reporters = _reporters(session, [unit_id]).get(unit_id, ())
    if not reporters:
        raise Refused(f"{unit.name} chưa có cán bộ đăng ký nên chưa nhắc được. Hãy tạo mã mời cho đơn vị này.")
    row = reminded_today(session, unit_id=unit_id, now=now)
    if row is not None:
        raise Refused(_already(session, unit.name, row, now))
    return _send(session, plan=plan, period=period, c=c, unit=unit, reporters=reporters, by=by, now=now, t=t)


def due(plan: Plan, period: Period) -> bool:
    """Something is due for ``period`` under ``plan`` (a deadline): else there is nothing to remind."""
    half = report_period(period)
    return half is not None and plan.deadline_for(half) is not None


def remind_all(session: Session, *, plan: Plan, period: Period, by: str, now: datetime, t: Messages) -> Summary:
    """Remind every missing unit with someone registered that was not reminded today (forms with
    a deadline for the period only)."""
    summary = Summary()
    rates = completeness(session, plan=plan, period=period)
    ids = sorted({m.unit_id for c in rates for m in c.missing_units if m.unit_id is not None})
    reporters = _reporters(session, ids)
    for c in rates:
        if c.deadline is None:  # nothing is due for this period under this plan
            continue
        for unit in c.missing_units:
            found = reporters.get(unit.unit_id, ()) if unit.unit_id is not None else ()
            if not found:
                summary.no_officer.append(unit.name)
                continue
            assert unit.unit_id is not None
            row = reminded_today(session, unit_id=unit.unit_id, now=now)
            if row is not None:
                summary.already.append((unit.name, Reminded(row.sent_at, people.who(session, row.sent_by))))
                continue
            try:
                summary.sent.append(_send(session, plan=plan, period=period, c=c, unit=unit, reporters=found,
                                          by=by, now=now, t=t))
            except Refused:  # reminded in between by someone else
                row = reminded_today(session, unit_id=unit.unit_id, now=now)
                if row is not None:
                    summary.already.append((unit.name, Reminded(row.sent_at, people.who(session, row.sent_by))))
    return summary
