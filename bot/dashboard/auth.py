"""Dashboard accounts: scrypt password hashes, server-side sessions, CSRF tokens, lockout."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.storage.models import DashboardSession, DashboardUser
from reporting.vocabulary import Role

ADMIN_USERNAME = "admin"  # the account created at start-up (AGRIBOT_ADMIN_PASSWORD)

log = logging.getLogger(__name__)

SESSION_TTL = timedelta(hours=12)
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
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
            user.failed_logins, user.locked_until = 0, None
    return generated


class LoginError(Exception):
    def __init__(self, reason: str, minutes: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason  # wrong | locked
        self.minutes = minutes


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(session: Session, *, username: str, password: str, now: datetime) -> NewSession:
    user = session.get(DashboardUser, username.strip())
    if user is not None and user.locked_until is not None and user.locked_until > now:
        minutes = int((user.locked_until - now).total_seconds() // 60) + 1
        raise LoginError("locked", minutes)
    if user is None or not check_password(password, user.password_hash):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until, user.failed_logins = now + LOCKOUT, 0
                log.warning("dashboard account locked after %d failed logins", MAX_FAILURES)
        raise LoginError("wrong")
    user.failed_logins, user.locked_until = 0, None
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.execute(delete(DashboardSession).where(DashboardSession.expires_at < now))
    session.add(DashboardSession(token_hash=_hash(token), username=user.username, csrf_token=csrf, created_at=now,
                                 expires_at=now + SESSION_TTL))
    return NewSession(token, csrf)


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    province_code: int | None
    csrf: str


def current(session: Session, *, token: str | None, now: datetime) -> Account | None:
    if not token:
        return None
    row = session.get(DashboardSession, _hash(token))
    if row is None or row.expires_at < now:
        return None
    user = session.get(DashboardUser, row.username)
    if user is None:
        return None
    return Account(user.username, user.role, user.province_code, row.csrf_token)


def logout(session: Session, *, token: str | None) -> None:
    if token:
        session.execute(delete(DashboardSession).where(DashboardSession.token_hash == _hash(token)))
