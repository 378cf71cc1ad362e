"""Messages that are not a question for a card (``content/intents.yaml``), found before search.

A farmer asking for a person, reporting a sick animal, a hurt person, or asking about prices,
weather or loans must not get a guidance card: each gets its own answer (hand-over, the
commune's veterinary officer, 115 and 114, what the bot can help with).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from bot.knowledge.analyzer import Word
from bot.knowledge.normalize import fold_word, normalize

EMERGENCY = "emergency"
HANDOVER = "handover"
VET = "vet"
OFFTOPIC = "offtopic"
SMALLTALK = "smalltalk"
KNOWN = (EMERGENCY, HANDOVER, VET, OFFTOPIC)
NONE = "none"  # no card and no intent: the bot says it does not know
# the kinds of content/out-of-scope.yaml, as what the bot should do with them
INTENT_OF_KIND = {
    "ask_person": HANDOVER, "sick_animal": VET, "person_emergency": EMERGENCY,
    "price": OFFTOPIC, "weather": OFFTOPIC, "loan": OFFTOPIC, "smalltalk": SMALLTALK,
}


def label_of_kind(kind: str) -> str:
    """The ranker's class for out-of-scope examples of this kind: "@vet", "@none" …"""
    return "@" + INTENT_OF_KIND.get(kind, NONE)


class IntentSpec(BaseModel):
    """One entry of ``content/intents.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    window: int = Field(default=6, ge=1, le=30)
    offer: list[str] = Field(default_factory=list)  # card ids shown as buttons with the reply
    when: list[list[list[str]]] = Field(min_length=1)
    unless: list[list[str]] = Field(default_factory=list)


Phrase = tuple[Word, ...]


def _phrase(text: str) -> Phrase:
    return tuple(Word(w, fold_word(w), True) for w in normalize(text).split())


def _matches(pattern: Word, word: Word) -> bool:
    if pattern.folded != word.folded:
        return False
    return pattern.text == word.text if word.marked else True


@dataclass(frozen=True)
class Intent:
    id: str
    offer: list[str]
    window: int
    rules: list[list[list[Phrase]]]  # rule -> groups -> phrases
    unless: list[Phrase]

    def matches(self, spans: dict[Phrase, list[tuple[int, int]]]) -> bool:
        """``spans``: where each phrase of the message's intents occurs (start, end)."""
        if any(spans.get(p) for p in self.unless):
            return False
        return any(self._rule(rule, spans) for rule in self.rules)

    def _rule(self, groups: list[list[Phrase]], found: dict[Phrase, list[tuple[int, int]]]) -> bool:
        """Every group has a phrase in the message, each within `window` words of another's."""
        spans = [[span for p in group for span in found.get(p, ())] for group in groups]
        if not all(spans):
            return False

        def near(a: tuple[int, int], b: tuple[int, int]) -> bool:
            gap = max(b[0] - a[1], a[0] - b[1])  # words between the two phrases (negative: overlap)
            return 0 <= gap <= self.window

        # a chain: a span of the first group, then one of each next group near any chosen so far
        def extend(chosen: list[tuple[int, int]], rest: list[list[tuple[int, int]]]) -> bool:
            if not rest:
                return True
            return any(
                extend([*chosen, span], rest[1:]) for span in rest[0] if any(near(c, span) for c in chosen)
            )

        return any(extend([span], spans[1:]) for span in spans[0])


class IntentMatcher:
    def __init__(self, specs: Sequence[IntentSpec], read: Callable[[str], list[Word]]) -> None:
        self._read = read
        self.intents = [
            Intent(
                id=s.id,
                offer=list(s.offer),
                window=s.window,
                rules=[[[_phrase(p) for p in group] for group in rule] for rule in s.when],
                unless=[_phrase(p) for group in s.unless for p in group],
            )
            for s in specs
        ]
        # every phrase, by its first word's folded form: one pass over the message finds them all
        self._by_first: dict[str, set[Phrase]] = {}
        for intent in self.intents:
            for phrase in [*intent.unless, *(p for rule in intent.rules for group in rule for p in group)]:
                if phrase:
                    self._by_first.setdefault(phrase[0].folded, set()).add(phrase)

    def _spans(self, words: Sequence[Word]) -> dict[Phrase, list[tuple[int, int]]]:
        found: dict[Phrase, list[tuple[int, int]]] = {}
        for i, word in enumerate(words):
            for phrase in self._by_first.get(word.folded, ()):
                n = len(phrase)
                if i + n <= len(words) and all(_matches(p, w) for p, w in zip(phrase, words[i : i + n], strict=True)):
                    found.setdefault(phrase, []).append((i, i + n))
        return found

    def match(self, text: str) -> Intent | None:
        """The first intent (in file order) the message matches."""
        spans = self._spans(self._read(text))
        if not spans:
            return None
        return next((intent for intent in self.intents if intent.matches(spans)), None)


def phrases(specs: Sequence[IntentSpec]) -> list[str]:
    """Every phrase of the intents (as text the word restorer learns readings from)."""
    out: list[str] = []
    for s in specs:
        for rule in s.when:
            for group in rule:
                out.extend(group)
        for group in s.unless:
            out.extend(group)
    return out
