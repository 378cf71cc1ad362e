"""Greetings, thanks and "ok": answered kindly with the menu, never with a card."""

from __future__ import annotations

from bot.knowledge.library import SmallTalk, SmallTalkIntent
from bot.knowledge.normalize import fold


class SmallTalkMatcher:
    def __init__(self, smalltalk: SmallTalk) -> None:
        self._fillers = {fold(w) for w in smalltalk.fillers}
        self._phrases: list[tuple[list[str], SmallTalkIntent]] = sorted(
            ((fold(p).split(), intent) for intent in smalltalk.intents for p in intent.phrases),
            key=lambda item: -len(item[0]),
        )

    def match(self, text: str) -> SmallTalkIntent | None:
        """The intent when the message is only social phrases and fillers, else None."""
        words = [w for w in fold(text).split() if w not in self._fillers]
        if not words or len(words) > 8:
            return None
        found: SmallTalkIntent | None = None
        i = 0
        while i < len(words):
            for phrase, intent in self._phrases:
                if words[i : i + len(phrase)] == phrase:
                    found = found or intent
                    i += len(phrase)
                    break
            else:
                return None
        return found
