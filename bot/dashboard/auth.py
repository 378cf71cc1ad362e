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
        self.reason = reason  # wrong | locked
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
    if wait:
        log.warning("dashboard login refused: too many attempts (account or address)")
        raise LoginError("locked", wait)
    if stored is None or not check_password(password, stored):
        raise LoginError("wrong")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    with unit_of_work(sessions) as session:
        attempts.clear(session, scope=USER_SCOPE, key=username)
        if address:
            attempts.release(session, scope=ADDRESS_SCOPE, key=address[:160])
        session.execute(delete(DashboardSession).where(DashboardSession.expires_at < now))
        session.add(DashboardSession(token_hash=_hash(token), username=username, csrf_token=csrf, created_at=now,
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
