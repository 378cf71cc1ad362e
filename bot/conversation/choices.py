"""Buttons as a list to answer by key, for channels that cannot show them all (Zalo's list, the console).

The keys are numbers (1, 2, 3 …), except when the question expects a number: then typed
digits are the answer, and the buttons get letters (a, b, c …), which cannot be one.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from bot.conversation.types import Button, Reply


def keys(count: int, *, letters: bool) -> list[str]:
    if letters:
        return list(string.ascii_lowercase[:count])
    return [str(i) for i in range(1, count + 1)]


def listed(buttons: Sequence[Button], *, letters: bool) -> tuple[list[str], dict[str, str]]:
    """The lines «1. Nhãn» (or «a. Nhãn») and key → button payload."""
    chosen = keys(len(buttons), letters=letters)
    return [f"{k}. {b.text}" for k, b in zip(chosen, buttons, strict=True)], {
        k: b.data for k, b in zip(chosen, buttons, strict=True)}


def expects_number(replies: Sequence[Reply]) -> bool:
    return any(r.expects_number for r in replies)


def pressed(text: str, mapping: dict[str, str]) -> str | None:
    """The payload a typed key stands for («2», «b», «b.»), or None when it is not a key."""
    key = text.strip().lower().rstrip(".)")
    return mapping.get(key)
