"""The shipped ranker against standard ones, with the same evaluation (``make eval-compare``).

For each ranker: 5-fold cross-validation over the cards' example questions (thresholds fitted
on the other folds), then the held-out question files given on the command line, scored with
the thresholds fitted on all folds. Messages the intents' rules recognise (content/intents.yaml)
are refused before any ranker, the same for all. Prints a Markdown table for the README.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from bench.rankers import methods
from bot.knowledge import evaluation
from bot.knowledge.decision import Thresholds, decide
from bot.knowledge.library import load_checked
from bot.knowledge.search import SearchIndex

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    library = load_checked(ROOT / "content")
    cards = list(library.cards.values())
    ids = [c.id for c in cards]
    examples = evaluation.library_examples(library)
    rules = SearchIndex(library, thresholds=Thresholds(0.0, 0.0, 0.0))

    def intercepted(q: str) -> bool:
        return rules.smalltalk.match(q) is not None or rules.intents.match(q) is not None

    held = [(Path(p).name, evaluation.load_questions(Path(p))) for p in argv if Path(p).exists()]
    header = "| ranker | CV rank@1 | CV top-1 | CV top-3 | CV one-tap | CV wrongly rejected | CV out-of-scope rejected"
    header += "".join(f" | {name} top-1 | {name} one-tap" for name, _ in held) + " | seconds |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, factory in methods(library).items():
        started = time.perf_counter()
        cv = evaluation.cross_validate(factory, cards, examples, k=5, intercepted=intercepted)
        row = cv.metrics.row()
        cells = [f"{row[k]:.1f}" for k in ("rank1", "top1", "top3", "one_tap", "false_reject", "oos_reject")]
        if held:
            scores_of = factory(cards, examples)
            for _, questions in held:
                outcomes = []
                for q, expected in questions:
                    if intercepted(q):
                        outcomes.append(evaluation.Outcome(q, expected, None, [], []))
                        continue
                    row_scores = scores_of([q])[0]
                    ranked = np.argsort(-row_scores)
                    a, offered = decide(row_scores, ranked, cv.thresholds)
                    outcomes.append(evaluation.Outcome(
                        q, expected, ids[a] if a is not None else None, [ids[j] for j in offered],
                        [ids[j] for j in ranked[:3]]))
                m = evaluation.Metrics.of(outcomes).row()
                cells += [f"{m['top1']:.1f}", f"{m['one_tap']:.1f}"]
        cells.append(f"{time.perf_counter() - started:.0f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
