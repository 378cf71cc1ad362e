"""Ids from the client (button data, form fields, query strings): ASCII digits or nothing.

``str.isdigit`` is true for «²» and «٣», which ``int`` refuses or reads as another number, and a
30-digit "id" overflows the database's integer: neither may reach a query.
"""

from __future__ import annotations

import re

_ID = re.compile(r"[0-9]{1,12}")


def number(text: str | None) -> int | None:
    """``"42"`` → 42; anything else (``"²"``, ``"-1"``, ``" 4"``, 13 digits, None) → None."""
    text = (text or "").strip()
    return int(text) if _ID.fullmatch(text) else None
