"""Dashboard accounts: scrypt password hashes, server-side sessions, CSRF tokens, lockout."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from bot.dashboard.scope import Scope
from bot.services import dashboard_accounts
from bot.storage.db import unit_of_work
from bot.storage.models import DashboardSession, DashboardUser
from reporting import attempts
from reporting.vocabulary import Role

ADMIN_USERNAME = "admin"  # the account created at start-up (AGRIBOT_ADMIN_PASSWORD)

log = logging.getLogger(__name__)

SESSION_TTL = timedelta(hours=12)
MAX_FAILURES = 5  # password checks per account in LOCKOUT (successes clear the count)
MAX_PER_ADDRESS = 20  # password checks per client address in LOCKOUT (a success gives its slot back)
LOCKOUT = timedelta(minutes=15)
USER_SCOPE, ADDRESS_SCOPE = "login-user", "login-addr"
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def ensure_admin(session: Session, *, password: str | None, now: datetime) -> str | None:
    """Make sure user ``admin`` exists; returns a generated password when none was configured."""
    user = session.get(DashboardUser, ADMIN_USERNAME)
    generated = None
    if password is None and user is None:
        generated = password = secrets.token_urlsafe(12)
    if password is not None:
        if user is None:
            user = DashboardUser(username=ADMIN_USERNAME, role=Role.ADMIN, created_at=now,
                                 password_hash=hash_password(password))
            session.add(user)
        elif not check_password(password, user.password_hash):
            user.password_hash = hash_password(password)
            attempts.clear(session, scope=USER_SCOPE, key=ADMIN_USERNAME)
    return generated


class LoginError(Exception):
    def __init__(self, reason: str, minutes: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason  # wrong | locked | disabled
        self.minutes = minutes


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(sessions: sessionmaker[Session], *, username: str, password: str, address: str | None,
          now: datetime) -> NewSession:
    """Check a password; the attempt is counted (committed) before the check, per account and
    per client address, so parallel tries cannot pass the limits (reporting.attempts)."""
    username = username.strip()
    with unit_of_work(sessions) as session:
        wait = attempts.take(session, scope=USER_SCOPE, key=username[:160], limit=MAX_FAILURES, window=LOCKOUT,
                             now=now)
        if address and not wait:
            wait = attempts.take(session, scope=ADDRESS_SCOPE, key=address[:160], limit=MAX_PER_ADDRESS,
                                 window=LOCKOUT, now=now)
        user = session.get(DashboardUser, username)
        stored = user.password_hash if user is not None else None
        disabled = user is not None and user.disabled_at is not None
        who = dashboard_accounts.person(user, username[:64])
        province = user.province_code if user is not None else None
    if wait:
        log.warning("dashboard login refused: too many attempts (account or address)")
        _audit(sessions, "login_locked", f"Đăng nhập của {who} bị tạm khoá vì nhập sai nhiều lần.", user, province, now)
        raise LoginError("locked", wait)
    if stored is None or not check_password(password, stored):
        _audit(sessions, "login_failed", f"Đăng nhập thất bại: {who}, sai tên đăng nhập hoặc mật khẩu.", user,
               province, now)
        raise LoginError("wrong")
    if disabled:
        _audit(sessions, "login_failed", f"Đăng nhập bị từ chối: tài khoản {who} đã bị khoá.", user, province, now)
        raise LoginError("disabled")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    with unit_of_work(sessions) as session:
        dashboard_accounts.record(session, action="login", actor=username, province_code=province, now=now,
                                  line=f"{who} đăng nhập.")
        attempts.clear(session, scope=USER_SCOPE, key=username)
        if address:
            attempts.release(session, scope=ADDRESS_SCOPE, key=address[:160])
        session.execute(delete(DashboardSession).where(DashboardSession.expires_at < now))
        session.add(DashboardSession(token_hash=_hash(token), username=username, csrf_token=csrf, created_at=now,
                                     expires_at=now + SESSION_TTL))
    return NewSession(token, csrf)


def _audit(sessions: sessionmaker[Session], action: str, line: str, user: DashboardUser | None,
           province_code: int | None, now: datetime) -> None:
    with unit_of_work(sessions) as session:
        dashboard_accounts.record(session, action=action, line=line, now=now, province_code=province_code,
                                  actor=user.username if user is not None else None)


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    province_code: int | None
    csrf: str
    commune_code: int | None = None  # a commune officer's commune
    full_name: str | None = None

    @property
    def scope(self) -> Scope:
        """What this account may see (bot.dashboard.scope)."""
        return Scope(self.province_code, self.commune_code)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def label(self) -> str:
        """«Nguyễn Thị Lan — Cán bộ xã», shown in the page header."""
        role = dashboard_accounts.role_label(self.role)
        return f"{self.full_name} — {role}" if self.full_name else f"{self.username} — {role}"


def current(session: Session, *, token: str | None, now: datetime) -> Account | None:
    if not token:
        return None
    row = session.get(DashboardSession, _hash(token))
    if row is None or row.expires_at < now:
        return None
    user = session.get(DashboardUser, row.username)
    if user is None or user.disabled_at is not None:
        return None
    return Account(user.username, user.role, user.province_code, row.csrf_token, user.commune_code, user.full_name)


def logout(session: Session, *, token: str | None) -> None:
    if token:
        session.execute(delete(DashboardSession).where(DashboardSession.token_hash == _hash(token)))
