"""Writing rules for the cards that ``agribot content check`` enforces (besides the schema).

* the body's opening paragraph must not repeat the summary: on a phone the summary is shown
  right above it, so a near-copy spends the first screen twice on one sentence;
* regional words: a card that says «lợn» also says «heo» (a farmer of the other region reads
  it), from ``content/style.yaml``; wording a farmer misreads is refused with what to write;
* example questions: enough per card, and none on two cards.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.knowledge.cards import Card, Problem
from bot.knowledge.normalize import fold, normalize

MIN_QUESTIONS = 12
# a sentence of the opening paragraph is a near-copy when this share of its word pairs is in
# the summary; the whole paragraph when this (lower) share is
SENTENCE_COPY = 0.5
PARAGRAPH_COPY = 0.4
_MIN_SENTENCE_WORDS = 5
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\s+[—–]\s+")


@dataclass(frozen=True)
class Style:
    """``content/style.yaml``: pairs of regional words and wording to avoid."""

    regional: list[tuple[str, str]] = field(default_factory=list)
    avoid: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: Any, problems: list[Problem]) -> Style:
        if data is None:
            return cls()
        regional = data.get("regional", []) if isinstance(data, dict) else None
        avoid = data.get("avoid", {}) if isinstance(data, dict) else None
        if not (
            isinstance(regional, list)
            and all(isinstance(p, list) and len(p) == 2 and all(isinstance(w, str) for w in p) for p in regional)
            and isinstance(avoid, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in avoid.items())
        ):
            problems.append(
                Problem("style.yaml", "file", "needs 'regional: [[word, word], …]' and 'avoid: {wording: instead}'")
            )
            return cls()
        return cls(regional=[(a, b) for a, b in regional], avoid=dict(avoid))


def _pairs(text: str) -> set[tuple[str, str]]:
    words = fold(text).split()
    return set(itertools.pairwise(words))


def opening_paragraph(body: str) -> str:
    return body.strip().split("\n\n", 1)[0]


def near_copy(summary: str, body: str) -> str | None:
    """The sentence (or paragraph) of the body's opening that repeats the summary, if any."""
    summary_pairs = _pairs(summary)
    opening = opening_paragraph(body)
    for sentence in _SENTENCE_END.split(opening):
        if len(fold(sentence).split()) < _MIN_SENTENCE_WORDS:
            continue
        pairs = _pairs(sentence)
        if pairs and len(pairs & summary_pairs) / len(pairs) >= SENTENCE_COPY:
            return sentence.strip()
    pairs = _pairs(opening)
    if pairs and len(pairs & summary_pairs) / len(pairs) >= PARAGRAPH_COPY:
        return opening.strip()
    return None


def _has_word(normalized_text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(normalize(phrase))}(?!\w)", normalized_text) is not None


def check_card_text(card: Card, style: Style) -> list[Problem]:
    rel = f"cards/{card.id}.md"
    problems: list[Problem] = []
    copied = near_copy(card.summary, card.body)
    if copied is not None:
        problems.append(Problem(rel, "body", f"the opening repeats the summary: «{copied[:80]}»"))
    text = normalize(f"{card.summary}\n{card.body}")
    for word, other in style.regional:
        if _has_word(text, word) and not _has_word(text, other):
            problems.append(Problem(rel, "body", f"says «{word}» but never «{other}»: write «{word} ({other})»"))
    raw = f"{card.summary}\n{card.body}".lower()
    for wording, instead in style.avoid.items():
        if wording.lower() in raw:
            problems.append(Problem(rel, "body", f"«{wording}»: write «{instead}»"))
    return problems


def question_key(question: str) -> str:
    """Two example questions are the same when they fold to the same words."""
    return fold(question)


def check_questions(cards: Iterable[Card], extra: Mapping[str, list[str]] | None = None) -> list[Problem]:
    """At least ``MIN_QUESTIONS`` per card; no question on two cards (or twice on one)."""
    problems: list[Problem] = []
    owner: dict[str, str] = {}
    for card in cards:
        rel = f"cards/{card.id}.md"
        if len(card.questions) < MIN_QUESTIONS:
            problems.append(
                Problem(rel, "questions", f"{len(card.questions)} example questions; at least {MIN_QUESTIONS} needed")
            )
        for q in card.questions:
            key = question_key(q)
            if not key:
                problems.append(Problem(rel, "questions", "an empty example question"))
            elif key in owner:
                where = "twice on this card" if owner[key] == card.id else f"also on {owner[key]}"
                problems.append(Problem(rel, "questions", f"«{q}» is {where}"))
            else:
                owner[key] = card.id
    for source, questions in (extra or {}).items():
        for q in questions:
            key = question_key(q)
            if key in owner:
                problems.append(Problem(source, "questions", f"«{q}» is also an example of {owner[key]}"))
    return problems
