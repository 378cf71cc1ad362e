"""Generated files (charts, workbooks) kept on disk and served at ``/files/<name>``.

A name carries 192 random bits. Beside each file a small record (``<name>.access``) says who
may fetch it besides dashboard users and API tokens: the chat user it was made for (the web
chat's browser, by its secret cookie) and, for channels that can only send a link (Zalo), the
holder of a link key that expires after ``LINK_DAYS``."""

from __future__ import annotations

import hmac
import json
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path

URL_PREFIX = "/files/"
LINK_DAYS = 7
_NAME = re.compile(r"^[A-Za-z0-9_-]{8,80}\.(png|xlsx|csv)$")


def _record(path: Path) -> Path:
    return path.with_name(path.name + ".access")


def save(directory: Path, data: bytes, suffix: str, stem: str = "", *, owner: str | None = None,
         now: datetime | None = None, province_code: int | None = None) -> str:
    """Write ``data`` under a random name for ``owner`` (``channel:user_id``); return its URL path.
    ``province_code``: the province whose figures it holds (its officials may fetch it; without
    it only dashboard accounts and API tokens of every province may)."""
    directory.mkdir(parents=True, exist_ok=True)
    safe_stem = re.sub(r"[^A-Za-z0-9-]+", "-", stem)[:24].strip("-")
    name = f"{safe_stem + '_' if safe_stem else ''}{secrets.token_urlsafe(24)}.{suffix}"
    path = directory / name
    expires = (now or datetime.now().astimezone()) + timedelta(days=LINK_DAYS)
    _record(path).write_text(json.dumps({"owner": owner, "key": secrets.token_urlsafe(24),
                                         "key_expires": expires.isoformat(), "province": province_code}))
    path.write_bytes(data)
    return URL_PREFIX + name


def resolve(directory: Path, ref: str) -> Path | None:
    """The local file behind a ``/files/<name>`` reference (a link key after ``?`` is ignored)."""
    name = ref.removeprefix(URL_PREFIX).split("?", 1)[0]
    if not _NAME.match(name):
        return None
    path = directory / name
    return path if path.is_file() else None


def _read(path: Path) -> dict[str, str | None]:
    try:
        data = json.loads(_record(path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def share_link(directory: Path, ref: str) -> str:
    """``ref`` with the file's link key, for a channel that can only send a link; anything that is
    not a generated file is returned as it is."""
    path = resolve(directory, ref)
    key = _read(path).get("key") if path else None
    return f"{ref}?key={key}" if key else ref


def province_of(path: Path) -> int | None:
    """The province whose figures the file holds, when it was recorded."""
    value = _read(path).get("province")
    return value if isinstance(value, int) else None


def may_fetch(path: Path, *, user: str | None, key: str | None, now: datetime) -> bool:
    """Whether the chat user ``user`` (``channel:user_id``) or the holder of ``key`` may fetch it."""
    record = _read(path)
    if user is not None and record.get("owner") == user:
        return True
    stored, expires = record.get("key"), record.get("key_expires")
    if not key or not stored or not expires or not hmac.compare_digest(stored.encode(), key.encode()):
        return False
    try:
        return now < datetime.fromisoformat(expires)
    except ValueError:
        return False
