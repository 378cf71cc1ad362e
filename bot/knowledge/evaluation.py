"""An evaluation of the Q&A that cannot fool itself (``make eval``).

1. **Cross-validation over the cards' example questions.** The example questions (and the
   out-of-scope examples) are split into ``k`` folds, stratified by card. For each fold, a
   ranker is built without that fold's questions and scores them ("out of fold"). The
   decision thresholds used on a fold are fitted on the out-of-fold scores of the *other*
   folds, so neither the index nor the thresholds have seen the questions they are judged on.
2. **The development questions as a held-out test.** The ranker built on all example
   questions, with thresholds fitted on all out-of-fold scores, answers
   ``../shared/eval/dev-questions.yaml`` through the bot's whole pipeline (intents first,
   then the ranker). Nothing is tuned on them.

Metrics are those of ``../shared/eval/score.py``: top-1, top-3, one-tap (the answer is right,
or the right card is among the cards offered), wrongly rejected (no answer and nothing right
offered), out-of-scope rejected (no answer) and rejected cleanly (nothing offered either).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from bot.knowledge.cards import Card
from bot.knowledge.decision import OFFERED, Thresholds, decide
from bot.knowledge.intents import phrases
from bot.knowledge.library import Library
from bot.knowledge.ranker import CardRanker
from bot.knowledge.search import THRESHOLDS_FILE, SearchIndex, examples_of

Example = tuple[str, str | None]  # (question, card id; None or "@intent" when no card answers it)
RankerFactory = Callable[[Sequence[Card], Sequence[Example]], "ScoresFn"]
ScoresFn = Callable[[Sequence[str]], np.ndarray]  # questions -> (n questions, n cards) scores

# Value of each outcome for the person asking, used to fit the thresholds (README, "Q&A").
GAIN_RIGHT = 1.0  # answered with a right card
GAIN_OFFER_RIGHT = 0.6  # asked «Có phải bác muốn hỏi…?» and a right card is a button: one tap
COST_OFFER_WRONG = -0.3  # asked, and no button is right (the farmer taps «hỏi cán bộ»)
COST_REFUSED = -0.5  # an answerable question refused (it goes to an officer, slowly)
COST_WRONG = -1.0  # answered with a wrong card: misleading
GAIN_OOS_REFUSED = 1.0  # an out-of-scope question refused cleanly
COST_OOS_OFFERED = -0.2  # … met with cards to choose from, and «Không phải — hỏi cán bộ»
COST_OOS_ANSWERED = -1.0  # … answered with a card
TIE = 0.005  # thresholds whose total gain is within this share of the best count as equally good
OOS_WEIGHT = 0.25  # out-of-scope questions reaching the ranker: about a fifth of all, after the intents


@dataclass
class Outcome:
    question: str
    expected: set[str]  # acceptable card ids; empty when out of scope
    answer: str | None
    offered: list[str]
    top3: list[str]
    intent: str | None = None


@dataclass
class Metrics:
    inscope: int = 0
    oos: int = 0
    top1: int = 0
    top3: int = 0
    rank1: int = 0  # the first candidate is right, whatever the thresholds decide
    one_tap: int = 0
    rejected_in: int = 0
    rejected_oos: int = 0
    clean_oos: int = 0
    misses: list[Outcome] = field(default_factory=list)
    gain: float = 0.0  # the outcomes valued with the GAIN_/COST_ constants, per question

    def _value(self, o: Outcome, offered: list[str]) -> float:
        if not o.expected:
            if o.answer is not None:
                return COST_OOS_ANSWERED
            return COST_OOS_OFFERED if offered else GAIN_OOS_REFUSED
        if o.answer is not None:
            return GAIN_RIGHT if o.answer in o.expected else COST_WRONG
        if offered:
            return GAIN_OFFER_RIGHT if o.expected & set(offered) else COST_OFFER_WRONG
        return COST_REFUSED

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Metrics:
        m_in = sum(bool(o.expected) for o in outcomes)
        m_oos = len(outcomes) - m_in
        m = cls()
        total = 0.0
        for o in outcomes:
            offered = [] if o.answer is not None else o.offered
            total += m._value(o, offered) * (1.0 if o.expected else OOS_WEIGHT * m_in / max(m_oos, 1))
            if o.expected:
                m.inscope += 1
                hit1 = o.answer in o.expected
                tap = hit1 or bool(o.expected & set(offered))
                m.top1 += hit1
                m.top3 += bool(o.expected & set(o.top3[:3]))
                m.rank1 += bool(o.top3) and o.top3[0] in o.expected
                m.one_tap += tap
                m.rejected_in += o.answer is None and not tap
                if not hit1:
                    m.misses.append(o)
            else:
                m.oos += 1
                m.rejected_oos += o.answer is None
                m.clean_oos += o.answer is None and not offered
                if o.answer is not None or offered:
                    m.misses.append(o)
        m.gain = total / max(m.inscope, 1)
        return m

    def pct(self, name: str) -> float:
        n = getattr(self, name)
        d = self.oos if name in ("rejected_oos", "clean_oos") else self.inscope
        return 100.0 * n / d if d else 0.0

    def row(self) -> dict[str, float]:
        return {
            "rank1": self.pct("rank1"),
            "top1": self.pct("top1"),
            "top3": self.pct("top3"),
            "one_tap": self.pct("one_tap"),
            "false_reject": self.pct("rejected_in"),
            "oos_reject": self.pct("rejected_oos"),
            "oos_clean": self.pct("clean_oos"),
        }

    def report(self) -> str:
        return "\n".join([
            f"in-scope questions: {self.inscope}, out-of-scope: {self.oos}",
            f"top-1 accuracy:            {self.pct('top1'):5.1f}%",
            f"top-3 accuracy:            {self.pct('top3'):5.1f}%",
            f"one-tap (answer or offer): {self.pct('one_tap'):5.1f}%",
            f"in-scope wrongly rejected: {self.pct('rejected_in'):5.1f}%",
            f"out-of-scope rejected:     {self.pct('rejected_oos'):5.1f}%",
            f"  ... with nothing offered: {self.pct('clean_oos'):5.1f}%",
        ])


def folds(examples: Sequence[Example], k: int, seed: int = 0) -> list[int]:
    """A fold number per example, stratified by label (each card's questions spread over folds)."""
    rng = np.random.default_rng(seed)
    by_label: dict[str | None, list[int]] = {}
    for i, (_, label) in enumerate(examples):
        by_label.setdefault(label, []).append(i)
    assignment = [0] * len(examples)
    offset = 0
    for label in sorted(by_label, key=lambda x: x or ""):
        idx = by_label[label]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            assignment[i] = (j + offset) % k
        offset += len(idx)
    return assignment


def out_of_fold_scores(
    factory: RankerFactory, cards: Sequence[Card], examples: Sequence[Example], fold_of: Sequence[int], k: int
) -> np.ndarray:
    scores = np.zeros((len(examples), len(cards)))
    for f in range(k):
        train = [e for e, g in zip(examples, fold_of, strict=True) if g != f]
        test = [i for i, g in enumerate(fold_of) if g == f]
        scorer = factory(cards, train)
        scores[test] = scorer([examples[i][0] for i in test])
    return scores


def fit_thresholds(scores: np.ndarray, labels: Sequence[int | None]) -> Thresholds:
    """The thresholds with the highest total gain over these (out-of-fold) scores.

    A grid over quantiles of the best score and of its lead over the second; every outcome
    is valued with the GAIN_/COST_ constants above (out-of-scope questions in total weigh
    ``OOS_WEIGHT`` of the in-scope ones).
    """
    if len(labels) == 0 or scores.shape[1] < 2:
        return Thresholds(answer=0.0, offer=0.0, margin=0.0)
    order = np.argsort(-scores, axis=1)
    top = np.take_along_axis(scores, order[:, :2], axis=1)
    best, gap = top[:, 0], top[:, 0] - top[:, 1]
    inscope = np.array([label is not None for label in labels])
    target = np.array([-1 if label is None else label for label in labels])
    right1 = order[:, 0] == target
    offered_right = (order[:, :OFFERED] == target[:, None]).any(axis=1)
    n_in, n_oos = int(inscope.sum()), int((~inscope).sum())
    weight = np.where(inscope, 1.0, OOS_WEIGHT * n_in / n_oos if n_oos else 0.0)
    # the gain of each question if answered, if offered, if refused
    if_answered = np.where(inscope, np.where(right1, GAIN_RIGHT, COST_WRONG), COST_OOS_ANSWERED) * weight
    if_offered = np.where(inscope, np.where(offered_right, GAIN_OFFER_RIGHT, COST_OFFER_WRONG), COST_OOS_OFFERED)
    if_offered = if_offered * weight
    if_refused = np.where(inscope, COST_REFUSED, GAIN_OOS_REFUSED) * weight
    levels = np.unique(np.quantile(best, np.linspace(0.0, 1.0, 61)))
    margins = np.unique(np.quantile(gap, [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3]))
    tried: list[tuple[float, int, Thresholds]] = []  # (total gain, questions answered, thresholds)
    for answer in levels:
        for margin in margins:
            answered = (best >= answer) & (gap >= margin)
            for offer in levels[levels <= answer]:
                offered = ~answered & (best >= offer)
                total = float(np.where(answered, if_answered, np.where(offered, if_offered, if_refused)).sum())
                tried.append((total, int(answered.sum()),
                              Thresholds(answer=float(answer), offer=float(offer), margin=float(margin))))
    # the gain is flat near its top: among settings worth the same (within TIE), answer directly most
    best_total = max(t[0] for t in tried)
    near = [t for t in tried if t[0] >= best_total - TIE * abs(best_total)]
    return max(near, key=lambda t: (t[1], t[0]))[2]


@dataclass
class CrossValidation:
    metrics: Metrics
    thresholds: Thresholds  # fitted on all out-of-fold scores: what the bot ships
    scores: np.ndarray


def cross_validate(
    factory: RankerFactory,
    cards: Sequence[Card],
    examples: Sequence[Example],
    *,
    k: int = 5,
    seed: int = 0,
    intercepted: Callable[[str], bool] | None = None,
) -> CrossValidation:
    """k-fold cross-validation; ``intercepted`` questions (intents) are refused before ranking."""
    ids = [c.id for c in cards]
    index = {cid: i for i, cid in enumerate(ids)}
    labels = [index.get(label) if label is not None else None for _, label in examples]
    fold_of = folds(examples, k, seed)
    scores = out_of_fold_scores(factory, cards, examples, fold_of, k)
    caught = [bool(intercepted and intercepted(q)) for q, _ in examples]
    outcomes: list[Outcome] = []
    for f in range(k):
        others = [i for i, g in enumerate(fold_of) if g != f and not caught[i]]
        t = fit_thresholds(scores[others], [labels[i] for i in others])
        for i in (i for i, g in enumerate(fold_of) if g == f):
            ranked = np.argsort(-scores[i])
            a, offered = (None, []) if caught[i] else decide(scores[i], ranked, t)
            q, label = examples[i]
            outcomes.append(Outcome(
                question=q,
                expected={label} if label in index else set(),
                answer=ids[a] if a is not None else None,
                offered=[ids[j] for j in offered],
                top3=[ids[j] for j in ranked[:3]],
                intent="intercepted" if caught[i] else None,
            ))
    kept = [i for i in range(len(examples)) if not caught[i]]
    shipped = fit_thresholds(scores[kept], [labels[i] for i in kept])
    return CrossValidation(Metrics.of(outcomes), shipped, scores)


def load_questions(path: Path) -> list[tuple[str, set[str]]]:
    """A question file in the format of ``../shared/eval/dev-questions.yaml``."""
    items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [(str(item["q"]), set(item.get("ids") or [])) for item in items]


# the intent each kind of held-out out-of-scope message should be recognised as
EXPECTED_INTENT = {
    "ask_person": "handover", "sick_animal": "vet", "person_emergency": "emergency",
    "price": "offtopic", "weather": "offtopic", "loan": "offtopic", "smalltalk": "smalltalk",
}


def intent_report(index: SearchIndex, path: Path) -> list[str]:
    """Per kind of message (``kind:`` in the file): how many got their intent, how many a card."""
    items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    kinds: dict[str, list[str]] = {}
    for item in items:
        if item.get("kind"):
            kinds.setdefault(str(item["kind"]), []).append(str(item["q"]))
    lines = []
    for kind, questions in kinds.items():
        results = index.search_many(questions)
        carded = sum(r.answer is not None for r in results)
        expected = EXPECTED_INTENT.get(kind)
        if expected is None:
            clean = sum(r.answer is None and not r.offered for r in results)
            lines.append(f"{kind:17} {len(results):3}: refused {clean}, cards offered {len(results) - clean - carded}, "
                         f"answered with a card {carded}")
        else:
            hit = sum(r.intent == expected for r in results)
            share = 100 * hit / len(results)
            lines.append(f"{kind:17} {len(results):3}: recognised as {expected} {hit} ({share:.0f} %), "
                         f"answered with a card {carded}")
    return lines


def held_out(index: SearchIndex, questions: Sequence[tuple[str, set[str]]]) -> Metrics:
    """The bot's whole pipeline (intents, ranker, thresholds) on questions nothing was tuned on."""
    results = index.search_many([q.replace("\n", " ") for q, _ in questions])
    return Metrics.of([
        Outcome(q, expected, r.answer, r.offered, [c.card_id for c in r.candidates[:3]], r.intent)
        for (q, expected), r in zip(questions, results, strict=True)
    ])


def library_examples(library: Library) -> list[Example]:
    """The cards' example questions and the out-of-scope examples (label None)."""
    return examples_of(library)


def shipped_factory(library: Library) -> RankerFactory:
    def factory(cards: Sequence[Card], examples: Sequence[Example]) -> ScoresFn:
        return CardRanker(
            cards, examples, synonyms=library.synonyms, rules=library.clues, extra_corpus=phrases(library.intents)
        ).scores

    return factory


def write_thresholds(root: Path, t: Thresholds, metrics: Metrics, k: int) -> None:
    header = (
        "# Written by `make eval` (agribot content eval --write): the answer thresholds fitted on the\n"
        f"# {k}-fold cross-validated scores of the example questions. Do not edit by hand.\n"
        f"# Cross-validation: {', '.join(f'{n} {v:.1f} %' for n, v in metrics.row().items())}\n"
    )
    body = yaml.safe_dump({"answer": round(t.answer, 4), "margin": round(t.margin, 4), "offer": round(t.offer, 4)})
    (root / THRESHOLDS_FILE).write_text(header + body, encoding="utf-8")
