"""Vietnam's local date: deadlines and "today" are Vietnamese calendar days."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def local_date(moment: datetime) -> date:
    return moment.astimezone(VIETNAM).date()


def spoken(moment: datetime, now: datetime) -> str:
    """A moment in Vietnam time as a person says it: «hôm nay lúc 09:05», «hôm qua lúc 17:40»,
    «ngày mai lúc 06:30», «lúc 08:15 ngày 20/11/2026»."""
    local = moment.astimezone(VIETNAM)
    today = local_date(now)
    if local.date() == today:
        return f"hôm nay lúc {local:%H:%M}"
    if local.date() == today - timedelta(days=1):
        return f"hôm qua lúc {local:%H:%M}"
    if local.date() == today + timedelta(days=1):
        return f"ngày mai lúc {local:%H:%M}"
    return f"lúc {local:%H:%M} ngày {local:%d/%m/%Y}"
