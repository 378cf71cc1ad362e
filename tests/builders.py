"""Builders for reporting tests: people with roles, baselines, filed reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from reporting import people, reports
from reporting.forms import load_forms
from reporting.models import Baseline, Member, Report, ReportingUnit

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
HUU_LUNG = 6385  # Xã Hữu Lũng, Lạng Sơn (20)


def member(session: Session, role: str, *, channel: str = "web", user_id: str = "u", commune: int = HUU_LUNG,
           unit: str | None = None, now: datetime = NOW) -> Member:
    new = people.create_invite(session, role=role, commune_code=commune, unit_name=unit, now=now)
    return people.redeem(session, channel=channel, user_id=user_id, code=new.code, now=now)


def baseline(session: Session, commune: int = HUU_LUNG, year: int = 2026, **values: float) -> Baseline:
    row = Baseline(commune_code=commune, province_code=20, year=year, **values)
    session.add(row)
    session.flush()
    return row


def filed(session: Session, unit: ReportingUnit, form: str, values: dict[str, Any], *, period: str | None = None,
          by: str = "web:u", now: datetime = NOW) -> Report:
    fdef = load_forms()[form]
    draft = reports.create_draft(session, unit=unit, form=fdef, by=by, now=now, period=period)
    for key, value in values.items():
        reports.set_value(session, draft=draft, key=key, value=value, now=now)
    return reports.file(session, draft=draft, form=fdef, by=by, now=now)


def straw_broadcast(settings: Any, recipients: int, *, first_chat: int) -> tuple[int, int]:
    """``recipients`` Telegram subscribers of «rơm rạ» in Hữu Lũng and a broadcast queued to them
    (in the daytime, so no quiet hours); returns (broadcast id, recipients counted)."""
    from bot.runtime import create_runtime
    from bot.services import broadcasts
    from bot.storage.db import unit_of_work
    from bot.storage.models import ChatUser, Subscription

    rt = create_runtime(settings)
    try:
        with unit_of_work(rt.sessions) as s:
            for i in range(recipients):
                s.add(ChatUser(channel="telegram", user_id=str(first_chat + i), commune_code=HUU_LUNG))
                s.add(Subscription(channel="telegram", user_id=str(first_chat + i), topic="rom-ra"))
        with unit_of_work(rt.sessions) as s:
            sent = broadcasts.create(s, by="test", text="Không đốt rơm rạ sau gặt!", topic="rom-ra",
                                     province_code=20, now=datetime(2026, 11, 24, 3, 0, tzinfo=UTC))
            return sent.id, sent.recipients
    finally:
        rt.close()
