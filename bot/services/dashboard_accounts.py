"""Dashboard accounts of officials: invite links, setting one's own password, disabling and
enabling, and the dashboard's audit log (every line a Vietnamese sentence with names).

An admin invites a provincial official («cán bộ tỉnh», sees the province) or a commune officer
(«cán bộ xã», sees one commune); the link carries a random token (stored as a SHA-256 hash)
that works once, until it expires (``INVITE_DAYS``)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.settings import MIN_PASSWORD_LENGTH, MIN_PASSWORD_SCORE, password_strength
from bot.storage.models import DashboardAudit, DashboardInvite, DashboardSession, DashboardUser
from reporting import areas
from reporting.vocabulary import Role

INVITE_DAYS = 7
JOIN_PATH = "/admin/join/"
ROLE_LABELS: dict[str, str] = {Role.ADMIN: "Quản trị viên", Role.PROVINCIAL_OFFICIAL: "Cán bộ tỉnh",
                               Role.EXTENSION_OFFICER: "Cán bộ xã"}
INVITABLE = (Role.PROVINCIAL_OFFICIAL, Role.EXTENSION_OFFICER)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")


class AccountError(ValueError):
    """A Vietnamese sentence for the person at the page."""


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, "Tài khoản")


def province_title(code: int) -> str:
    """«Tỉnh Lạng Sơn», «Thành phố Hà Nội» (the package names a province without «Tỉnh»)."""
    found = areas.province(code)
    if found is None:
        return ""
    return found.name if found.name.startswith("Thành phố") else f"Tỉnh {found.name}"


def where_text(province_code: int | None, commune_code: int | None) -> str:
    """«Xã Hữu Lũng, Tỉnh Lạng Sơn», «Tỉnh Lạng Sơn» or «cả nước»."""
    if commune_code is not None:
        commune = areas.commune(commune_code)
        if commune is not None:
            return f"{commune.name}, {province_title(commune.province_code)}"
    if province_code is not None and areas.province(province_code) is not None:
        return province_title(province_code)
    return "cả nước"


def person(user: DashboardUser | None, username: str = "") -> str:
    """«Nguyễn Thị Lan (lan)»; an account without a full name: «Quản trị viên (admin)»."""
    if user is None:
        return f"tên đăng nhập «{username}»"
    return f"{user.full_name or role_label(user.role)} ({user.username})"


def record(session: Session, *, action: str, line: str, now: datetime, actor: str | None = None,
           province_code: int | None = None) -> None:
    session.add(DashboardAudit(at=now, action=action, actor=actor, province_code=province_code, line=line))


def audit_lines(session: Session, *, province_code: int | None = None, limit: int = 200) -> list[DashboardAudit]:
    stmt = select(DashboardAudit).order_by(DashboardAudit.id.desc()).limit(limit)
    if province_code is not None:
        stmt = stmt.where(DashboardAudit.province_code == province_code)
    return [*session.scalars(stmt)]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewInvite:
    token: str
    invite: DashboardInvite

    @property
    def path(self) -> str:
        return JOIN_PATH + self.token


def _actor(session: Session, username: str) -> DashboardUser:
    user = session.get(DashboardUser, username)
    if user is None or user.disabled_at is not None:
        raise AccountError("Tài khoản của bạn không còn dùng được. Hãy đăng nhập lại.")
    return user


def create_invite(session: Session, *, full_name: str, role: str, province_code: int | None,
                  commune_code: int | None, by: str, now: datetime) -> NewInvite:
    by_user = _actor(session, by)
    full_name = " ".join(full_name.split())
    if not full_name:
        raise AccountError("Hãy ghi họ và tên người được mời.")
    if len(full_name) > 200:
        raise AccountError("Họ và tên dài quá 200 ký tự.")
    if role not in INVITABLE:
        raise AccountError("Hãy chọn vai trò: cán bộ tỉnh hoặc cán bộ xã.")
    if province_code is None or areas.province(province_code) is None:
        raise AccountError("Hãy chọn tỉnh.")
    if by_user.province_code is not None and province_code != by_user.province_code:
        raise AccountError("Bạn chỉ mời được người trong tỉnh của mình.")
    if role == Role.EXTENSION_OFFICER:
        commune = areas.commune(commune_code) if commune_code is not None else None
        if commune is None:
            raise AccountError("Cán bộ xã cần chọn xã (gõ tên xã).")
        if commune.province_code != province_code:
            raise AccountError(f"{commune.name} không thuộc {where_text(province_code, None)}.")
    else:
        commune_code = None
    token = secrets.token_urlsafe(32)
    invite = DashboardInvite(token_hash=_hash(token), full_name=full_name, role=role, province_code=province_code,
                             commune_code=commune_code, created_by=by_user.username, created_at=now,
                             expires_at=now + timedelta(days=INVITE_DAYS))
    session.add(invite)
    session.flush()
    record(session, action="invite", actor=by_user.username, province_code=province_code, now=now,
           line=f"{person(by_user)} tạo đường link mời {full_name} làm {role_label(role).lower()} "
                f"({where_text(province_code, commune_code)}), hết hạn sau {INVITE_DAYS} ngày.")
    return NewInvite(token, invite)


def open_invite(session: Session, *, token: str, now: datetime, lock: bool = False) -> DashboardInvite:
    """The invite behind a link, or AccountError saying why it cannot be used."""
    stmt = select(DashboardInvite).where(DashboardInvite.token_hash == _hash(token))
    invite = session.scalar(stmt.with_for_update() if lock else stmt)
    if invite is None:
        raise AccountError("Đường link mời không đúng. Hãy xin quản trị viên một đường link mới.")
    if invite.used_at is not None:
        raise AccountError("Đường link mời này đã được dùng. Mỗi đường link chỉ dùng một lần; "
                           "nếu bạn đã tạo tài khoản, hãy đăng nhập.")
    if invite.revoked_at is not None:
        raise AccountError("Đường link mời này đã bị thu hồi. Hãy xin quản trị viên một đường link mới.")
    if invite.expires_at < now:
        raise AccountError("Đường link mời này đã hết hạn. Hãy xin quản trị viên một đường link mới.")
    return invite


def password_problem(password: str, *inputs: str) -> str | None:
    """Why a password is too weak, in Vietnamese (the production check: length and zxcvbn's score)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Mật khẩu cần ít nhất {MIN_PASSWORD_LENGTH} ký tự."
    score, _ = password_strength(password, tuple(part for text in inputs for part in text.lower().split()))
    if score < MIN_PASSWORD_SCORE:
        return (f"Mật khẩu quá dễ đoán (độ mạnh {score}/4, cần từ {MIN_PASSWORD_SCORE}/4). Hãy dùng một câu dài "
                "dễ nhớ gồm nhiều từ không liền nghĩa, đừng dùng tên, ngày sinh hay dãy phím liền nhau.")
    return None


def accept_invite(session: Session, *, token: str, username: str, password: str, now: datetime,
                  hasher: Callable[[str], str]) -> DashboardUser:
    """Create the invited account with the username and password its owner chose (stored as
    ``hasher(password)``: the dashboard's scrypt hash); the link is used."""
    invite = open_invite(session, token=token, now=now, lock=True)
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise AccountError("Tên đăng nhập cần 3–32 ký tự: chữ thường không dấu, số, dấu chấm, gạch ngang "
                           "hoặc gạch dưới (ví dụ: lan.nguyen).")
    if session.get(DashboardUser, username) is not None:
        raise AccountError(f"Tên đăng nhập «{username}» đã có người dùng. Hãy chọn tên khác.")
    problem = password_problem(password, username, invite.full_name)
    if problem:
        raise AccountError(problem)
    user = DashboardUser(username=username, password_hash=hasher(password), role=invite.role,
                         province_code=invite.province_code, commune_code=invite.commune_code,
                         full_name=invite.full_name, created_at=now)
    session.add(user)
    invite.used_at, invite.used_by = now, username
    session.flush()
    record(session, action="account", actor=username, province_code=invite.province_code, now=now,
           line=f"{person(user)} tạo tài khoản {role_label(user.role).lower()} "
                f"({where_text(user.province_code, user.commune_code)}) qua đường link mời.")
    return user


def accounts(session: Session, *, province_code: int | None = None) -> list[DashboardUser]:
    stmt = select(DashboardUser).order_by(DashboardUser.created_at, DashboardUser.username)
    if province_code is not None:
        stmt = stmt.where(DashboardUser.province_code == province_code)
    return [*session.scalars(stmt)]


def invites(session: Session, *, province_code: int | None = None, limit: int = 100) -> list[DashboardInvite]:
    stmt = select(DashboardInvite).order_by(DashboardInvite.id.desc()).limit(limit)
    if province_code is not None:
        stmt = stmt.where(DashboardInvite.province_code == province_code)
    return [*session.scalars(stmt)]


def revoke_invite(session: Session, *, invite_id: int, by: str, now: datetime) -> None:
    by_user = _actor(session, by)
    invite = session.get(DashboardInvite, invite_id)
    if invite is None or (by_user.province_code is not None and invite.province_code != by_user.province_code):
        raise AccountError("Không có đường link mời này.")
    if invite.used_at is not None or invite.revoked_at is not None:
        return
    invite.revoked_at = now
    record(session, action="invite_revoked", actor=by_user.username, province_code=invite.province_code, now=now,
           line=f"{person(by_user)} thu hồi đường link mời {invite.full_name}.")


def set_disabled(session: Session, *, username: str, disabled: bool, by: str, now: datetime) -> DashboardUser:
    """Disable (its sessions end at once) or enable an account."""
    by_user = _actor(session, by)
    user = session.get(DashboardUser, username)
    if user is None or (by_user.province_code is not None and user.province_code != by_user.province_code):
        raise AccountError("Không có tài khoản này.")
    if user.username == by_user.username:
        raise AccountError("Bạn không thể tự khoá tài khoản của mình.")
    if user.role == Role.ADMIN and user.province_code is None:
        raise AccountError("Không khoá được tài khoản quản trị chính.")
    if disabled and user.disabled_at is None:
        user.disabled_at = now
        session.execute(delete(DashboardSession).where(DashboardSession.username == user.username))
        record(session, action="disable", actor=by_user.username, province_code=user.province_code, now=now,
               line=f"{person(by_user)} khoá tài khoản {person(user)}; "
                    "mọi phiên đăng nhập của tài khoản này đã kết thúc.")
    elif not disabled and user.disabled_at is not None:
        user.disabled_at = None
        record(session, action="enable", actor=by_user.username, province_code=user.province_code, now=now,
               line=f"{person(by_user)} mở lại tài khoản {person(user)}.")
    return user
