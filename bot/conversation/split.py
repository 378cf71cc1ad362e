"""Split long replies at paragraph boundaries so each part fits a chat message."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.conversation.types import Reply

MAX_MESSAGE_CHARS = 4000

# Finer and finer places to cut an over-long paragraph: lines, sentences, words.
_CUTS = (("\n", r"\n"), (" ", r"(?<=[.!?…;:])\s+"), (" ", r"\s+"))


def _units(paragraph: str, limit: int) -> list[tuple[str, str]]:
    """(separator, piece) pairs for a paragraph, each piece within ``limit``."""
    if len(paragraph) <= limit:
        return [("\n\n", paragraph)]
    for sep, pattern in _CUTS:
        parts = [p for p in re.split(pattern, paragraph) if p.strip()]
        if len(parts) > 1:
            units: list[tuple[str, str]] = []
            for i, part in enumerate(parts):
                sub = _units(part, limit)
                first_sep = "\n\n" if i == 0 else sep
                units.append((first_sep, sub[0][1]))
                units.extend(sub[1:])
            return units
    return [("", paragraph[i : i + limit]) for i in range(0, len(paragraph), limit)]


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Chunks under ``limit`` characters, cut between paragraphs wherever possible."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        for sep, piece in _units(paragraph, limit):
            if not current:
                current = piece
            elif len(current) + len(sep) + len(piece) <= limit:
                current = f"{current}{sep}{piece}"
            else:
                chunks.append(current)
                current = piece
    if current:
        chunks.append(current)
    return [c.strip() for c in chunks if c.strip()]


def split_reply(reply: Reply, limit: int = MAX_MESSAGE_CHARS) -> list[Reply]:
    """One reply becomes several when its text is long; media and buttons go on the last."""
    parts = split_text(reply.text, limit)
    if len(parts) == 1:
        return [reply]
    return [*(Reply(text=p) for p in parts[:-1]), replace(reply, text=parts[-1])]
