"""Reading a webhook body safely: UTF-8 JSON, nested no deeper than ``MAX_DEPTH``.

Python's json parser recurses once per level and raises RecursionError on deep nesting (a 500
before); the depth is measured first on the raw bytes, outside strings, without recursion.
Errors never echo the input.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32  # Telegram and Zalo updates nest about 5 deep
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when arrays and objects nest deeper than ``limit`` (strings are skipped)."""
    depth = 0
    for byte in _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def parse(raw: bytes) -> tuple[Any, str] | None:
    """The JSON value and the body as text, or None when it is not UTF-8 JSON or nests too deep."""
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if too_deep(raw):
        return None
    try:
        return json.loads(body), body
    except (ValueError, RecursionError):
        return None
