"""Generated files (charts, workbooks) kept on disk and served at ``/files/<name>``."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

URL_PREFIX = "/files/"
_NAME = re.compile(r"^[A-Za-z0-9_-]{8,64}\.(png|xlsx|csv)$")


def save(directory: Path, data: bytes, suffix: str, stem: str = "") -> str:
    """Write ``data`` under a random name; return its URL path (``/files/<name>``)."""
    directory.mkdir(parents=True, exist_ok=True)
    safe_stem = re.sub(r"[^A-Za-z0-9-]+", "-", stem)[:24].strip("-")
    name = f"{safe_stem + '_' if safe_stem else ''}{secrets.token_urlsafe(12)}.{suffix}"
    (directory / name).write_bytes(data)
    return URL_PREFIX + name


def resolve(directory: Path, ref: str) -> Path | None:
    """The local file behind a ``/files/<name>`` reference, or None for anything else."""
    name = ref.removeprefix(URL_PREFIX)
    if not _NAME.match(name):
        return None
    path = directory / name
    return path if path.is_file() else None
