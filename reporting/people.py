"""People and roles: invites that bind a chat identity to a role and a reporting unit."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting import areas, attempts
from reporting.models import Invite, Member, ReportingUnit
from reporting.vocabulary import ROLES, UNIT_KIND, Role, UnitKind

EXTENSION_OFFICER, COOPERATIVE, FARM = Role.EXTENSION_OFFICER, Role.COOPERATIVE, Role.FARM
PROVINCIAL_OFFICIAL, ADMIN = Role.PROVINCIAL_OFFICIAL, Role.ADMIN
ROLE_LABELS: dict[str, str] = {EXTENSION_OFFICER: "Cán bộ khuyến nông xã", COOPERATIVE: "HTX", FARM: "Trang trại",
                               PROVINCIAL_OFFICIAL: "Cán bộ tỉnh", ADMIN: "Quản trị"}
CHANNEL_LABELS = {"telegram": "Telegram", "zalo": "Zalo", "web": "trang web", "console": "dòng lệnh"}

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or copied by hand
CODE_LENGTH = 8
MAX_FAILURES = 5  # codes one chat identity may try in FAILURE_WINDOW (a success starts afresh)
MAX_PER_ADDRESS = 20  # codes one client address may try in FAILURE_WINDOW (a success gives its try back)
FAILURE_WINDOW = timedelta(minutes=15)
USER_SCOPE, ADDRESS_SCOPE = "invite-user", "invite-addr"


class InviteError(Exception):
    """``reason``: wrong | used | expired | revoked | slow_down (with ``wait_minutes``)."""

    def __init__(self, reason: str, wait_minutes: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_minutes = wait_minutes


@dataclass(frozen=True)
class NewInvite:
    code: str
    invite: Invite


def normalise_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def looks_like_code(text: str) -> bool:
    code = normalise_code(text)
    return len(code) == CODE_LENGTH and all(ch in _ALPHABET for ch in code) and text.strip().count(" ") <= 1


def _hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def create_invite(
    session: Session, *, role: str, now: datetime, commune_code: int | None = None,
    province_code: int | None = None, unit_name: str | None = None, created_by: str | None = None,
    valid_days: int = 14,
) -> NewInvite:
    """A single-use code for ``role``; raises ValueError when the unit is not fully named."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if valid_days < 1:
        raise ValueError("--days must be 1 or more")
    commune = areas.commune(commune_code) if commune_code is not None else None
    if commune_code is not None and commune is None:
        raise ValueError(f"no commune with code {commune_code}")
    if role in UNIT_KIND and commune is None:
        raise ValueError(f"role {role} needs --commune")
    if role in (COOPERATIVE, FARM) and not (unit_name and unit_name.strip()):
        raise ValueError(f"role {role} needs --unit (the cooperative's or farm's name)")
    province = commune.province_code if commune else province_code
    if province is None or areas.province(province) is None:
        raise ValueError("give --commune, or --province for a provincial official or admin")
    code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    invite = Invite(
        code_hash=_hash(code), role=role, province_code=province, commune_code=commune_code,
        unit_name=unit_name.strip() if unit_name else None, created_by=created_by, created_at=now,
        expires_at=now + timedelta(days=valid_days),
    )
    session.add(invite)
    session.flush()
    return NewInvite(code=code, invite=invite)


def _unit_for(session: Session, invite: Invite) -> ReportingUnit | None:
    kind = UNIT_KIND.get(invite.role)
    if kind is None or invite.commune_code is None:
        return None
    commune = areas.commune(invite.commune_code)
    assert commune is not None
    name = commune.name if kind == UnitKind.COMMUNE else (invite.unit_name or "")
    unit = session.scalar(select(ReportingUnit).where(
        ReportingUnit.kind == kind, ReportingUnit.commune_code == commune.code, ReportingUnit.name == name))
    while unit is not None and unit.merged_into_id is not None:  # merged: the unit that took its reports
        unit = session.get(ReportingUnit, unit.merged_into_id)
    if unit is None:
        unit = ReportingUnit(kind=kind, name=name, commune_code=commune.code, province_code=commune.province_code)
        session.add(unit)
        session.flush()
    return unit


def redeem(session: Session, *, channel: str, user_id: str, code: str, now: datetime,
           address: str | None = None) -> Member:
    """Bind (channel, user) to the invite's role and unit; the code can be used once.

    Each try is counted before the code is looked at (reporting.attempts), per chat identity and,
    where the channel knows it (the web chat), per client ``address``."""
    identity = f"{channel}:{user_id}"[:160]
    wait = attempts.take(session, scope=USER_SCOPE, key=identity, limit=MAX_FAILURES, window=FAILURE_WINDOW, now=now)
    if address and not wait:
        wait = attempts.take(session, scope=ADDRESS_SCOPE, key=address[:160], limit=MAX_PER_ADDRESS,
                             window=FAILURE_WINDOW, now=now)
    if wait:
        raise InviteError("slow_down", wait_minutes=wait)
    invite = session.scalar(select(Invite).where(Invite.code_hash == _hash(code)).with_for_update())
    reason = None
    if invite is None:
        reason = "wrong"
    elif invite.revoked_at is not None:
        reason = "revoked"
    elif invite.used_at is not None:
        reason = "used"
    elif invite.expires_at < now:
        reason = "expired"
    if reason is not None:
        raise InviteError(reason)
    assert invite is not None
    unit = _unit_for(session, invite)
    member = session.scalar(select(Member).where(Member.channel == channel, Member.user_id == user_id))
    if member is None:
        member = Member(channel=channel, user_id=user_id, created_at=now, role=invite.role,
                        province_code=invite.province_code)
        session.add(member)
    member.role = invite.role
    member.province_code = invite.province_code
    member.commune_code = invite.commune_code
    member.unit_id = unit.id if unit else None
    member.invite_id = invite.id
    invite.used_at = now
    invite.used_by = f"{channel}:{user_id}"
    attempts.clear(session, scope=USER_SCOPE, key=identity)
    if address:
        attempts.release(session, scope=ADDRESS_SCOPE, key=address[:160])
    session.flush()
    return member


def member(session: Session, *, channel: str, user_id: str) -> Member | None:
    return session.scalar(select(Member).where(Member.channel == channel, Member.user_id == user_id))


def unit(session: Session, unit_id: int | None) -> ReportingUnit | None:
    """The unit a member reports for (None for officials of a province)."""
    return session.get(ReportingUnit, unit_id) if unit_id is not None else None


def reporters(session: Session, unit_ids: Iterable[int]) -> dict[int, list[Member]]:
    """The people registered (by invite) to report for each of ``unit_ids``, first registered
    first; a unit no one registered for is absent."""
    wanted = sorted(set(unit_ids))
    found: dict[int, list[Member]] = {}
    if not wanted:
        return found
    rows = session.scalars(select(Member).where(Member.unit_id.in_(wanted), Member.role.in_(list(UNIT_KIND)))
                           .order_by(Member.created_at, Member.id))
    for row in rows:
        assert row.unit_id is not None
        found.setdefault(row.unit_id, []).append(row)
    return found


def list_invites(session: Session, *, limit: int = 200) -> list[Invite]:
    return [*session.scalars(select(Invite).order_by(Invite.id.desc()).limit(limit))]


def revoke(session: Session, *, invite_id: int, now: datetime) -> bool:
    invite = session.get(Invite, invite_id)
    if invite is None or invite.used_at is not None:
        return False
    invite.revoked_at = now
    return True


def who(session: Session, changed_by: str) -> str:
    """Who made a change, as a person reads it in an audit line (never a raw id).

    ``telegram:123`` → «Cán bộ khuyến nông xã — Xã Hữu Lũng (qua Telegram)»; ``dashboard:lan`` →
    «tài khoản lan (bảng điều khiển)»; ``cli`` → «quản trị (dòng lệnh)»; ``schedule`` → «lịch nhắc
    tự động».
    """
    if changed_by == "cli":
        return "quản trị (dòng lệnh)"
    if changed_by == "demo":
        return "dữ liệu mẫu"
    if changed_by == "schedule":
        return "lịch nhắc tự động"
    channel, _, user_id = changed_by.partition(":")
    if channel == "dashboard":
        return f"tài khoản {user_id} (bảng điều khiển)"
    via = CHANNEL_LABELS.get(channel, channel)
    found = member(session, channel=channel, user_id=user_id)
    if found is None:
        return f"người dùng qua {via}"
    unit = session.get(ReportingUnit, found.unit_id) if found.unit_id else None
    role = ROLE_LABELS.get(found.role, found.role)
    return f"{role} — {unit.name} (qua {via})" if unit else f"{role} (qua {via})"
