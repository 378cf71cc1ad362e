"""API tokens for a province's own systems (``Authorization: Bearer …`` on the indicator API):
created and revoked on the dashboard; only a SHA-256 of each token is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import ApiToken

PREFIX = "agb_"


@dataclass(frozen=True)
class Holder:
    """Who a valid token belongs to."""

    name: str
    province_code: int | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(session: Session, *, name: str, province_code: int | None, created_by: str, now: datetime) -> str:
    """A new token (shown once); raises ValueError for an empty name."""
    name = " ".join(name.split())[:120]
    if not name:
        raise ValueError("đặt tên cho mã (hệ thống nào dùng nó)")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=_hash(token), province_code=province_code, created_by=created_by,
                         created_at=now))
    return token


def listed(session: Session, *, province_code: int | None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if province_code is not None:
        query = query.where(ApiToken.province_code == province_code)
    return [*session.scalars(query)]


def revoke(session: Session, *, token_id: int, province_code: int | None, now: datetime) -> bool:
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None or province_code not in (None, row.province_code):
        return False
    row.revoked_at = now
    return True


def check(session: Session, *, token: str, now: datetime) -> Holder | None:
    """The holder of a valid (not revoked) token, or None."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    row.last_used_at = now
    return Holder(row.name, row.province_code)
