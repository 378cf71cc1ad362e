"""From a farmer's message to what the bot does with it.

1. Small talk (greetings, thanks) and intents (``content/intents.yaml``): a hurt or gassed
   person (115 and 114), asking for a person, a sick animal, prices / weather / loans — never
   answered with a card.
2. The ranker (:mod:`bot.knowledge.ranker`) scores every card; the thresholds
   (``content/answer-thresholds.yaml``, fitted by ``make eval`` on cross-validated scores)
   decide: answer with the best card, ask «Có phải bác muốn hỏi…?» with the best cards as
   buttons, or say the bot does not know.

Questions editors attach to a card from the dashboard join the card's example questions;
:meth:`SearchIndex.with_examples` builds the index again with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from bot.knowledge.decision import Thresholds, decide
from bot.knowledge.intents import EMERGENCY, NONE, SMALLTALK, IntentMatcher, label_of_kind, phrases
from bot.knowledge.library import Library
from bot.knowledge.ranker import CardRanker
from bot.knowledge.smalltalk import SmallTalkMatcher

THRESHOLDS_FILE = "answer-thresholds.yaml"
CANDIDATES = 5


@dataclass(frozen=True, slots=True)
class Candidate:
    card_id: str
    score: float


@dataclass(frozen=True, slots=True)
class SearchResult:
    question: str
    candidates: list[Candidate]
    answer: str | None  # the card to reply with
    offered: list[str] = field(default_factory=list)  # cards shown as buttons: «Có phải bác muốn hỏi…?»
    intent: str | None = None  # emergency, handover, vet, offtopic, smalltalk: not a card question

    @property
    def ambiguous(self) -> bool:
        return bool(self.offered)

    def to_json(self, limit: int = CANDIDATES) -> dict[str, object]:
        return {
            "question": self.question,
            "answer": self.answer,
            "ambiguous": self.ambiguous,
            "offered": list(self.offered),
            "intent": self.intent,
            "candidates": [{"id": c.card_id, "score": round(c.score, 4)} for c in self.candidates[:limit]],
        }


def load_thresholds(root: Path) -> Thresholds:
    path = root / THRESHOLDS_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: missing; run `make eval` to fit the answer thresholds")
    return Thresholds(answer=float(data["answer"]), margin=float(data["margin"]), offer=float(data["offer"]))


def examples_of(library: Library) -> list[tuple[str, str | None]]:
    """The cards' example questions, and the out-of-scope examples ("@vet", "@none" …)."""
    out: list[tuple[str, str | None]] = [(q, card.id) for card in library.cards.values() for q in card.questions]
    out += [(q, label_of_kind(kind)) for kind, qs in library.out_of_scope.items() for q in qs]
    return out


class SearchIndex:
    def __init__(
        self,
        library: Library,
        *,
        thresholds: Thresholds | None = None,
        extra_examples: Iterable[tuple[str, str | None]] = (),
        ranker: CardRanker | None = None,
    ) -> None:
        self.library = library
        self.thresholds = thresholds or load_thresholds(library.root)
        self.extra_examples = list(extra_examples)
        self.cards = list(library.cards.values())
        self.ranker = ranker or CardRanker(
            self.cards,
            [*examples_of(library), *self.extra_examples],
            synonyms=library.synonyms,
            rules=library.clues,
            extra_corpus=phrases(library.intents),
        )
        self.intents = IntentMatcher(library.intents, self.ranker.analyzer.read)
        self._intent_offer = {i.id: [c for c in i.offer if c in library.cards] for i in self.intents.intents}
        self.smalltalk = SmallTalkMatcher(library.smalltalk)

    def with_examples(self, extra_examples: Iterable[tuple[str, str | None]]) -> SearchIndex:
        """The same index trained again with these (editor-attached) example questions."""
        return SearchIndex(self.library, thresholds=self.thresholds, extra_examples=extra_examples)

    def search(self, question: str) -> SearchResult:
        return self.search_many([question])[0]

    def search_many(self, questions: Sequence[str]) -> list[SearchResult]:
        results: list[SearchResult | None] = [None] * len(questions)
        to_rank: list[int] = []
        for n, q in enumerate(questions):
            if not self.ranker.analyzer.words(q):  # nothing but spaces, signs or emoji
                results[n] = SearchResult(q, [], None)
            elif self.smalltalk.match(q) is not None:
                results[n] = SearchResult(q, [], None, intent=SMALLTALK)
            elif (intent := self.intents.match(q)) is not None:
                offered = [c for c in intent.offer if c in self.library.cards]
                results[n] = SearchResult(q, [], None, offered, intent=intent.id)
            else:
                to_rank.append(n)
        if to_rank:
            scores, winners = self.ranker.rank([questions[n] for n in to_rank])
            for row, winner, n in zip(scores, winners, to_rank, strict=True):
                recognised = winner[1:] if winner else None
                if recognised and recognised != NONE:  # the classifier recognised an intent the rules missed
                    offered = self._intent_offer.get(recognised, []) if recognised == EMERGENCY else []
                    results[n] = SearchResult(questions[n], [], None, offered, intent=recognised)
                else:
                    results[n] = self._decide(questions[n], row)
        return [r for r in results if r is not None]

    def _decide(self, question: str, row: np.ndarray) -> SearchResult:
        ranked = np.argsort(-row, kind="stable")
        ids = self.ranker.card_ids
        answer, offered = decide(row, ranked, self.thresholds)
        return SearchResult(
            question,
            [Candidate(ids[j], float(row[j])) for j in ranked[:CANDIDATES]],
            ids[answer] if answer is not None else None,
            [ids[j] for j in offered],
        )
