"""Naive Q&A baseline for comparison: rapidfuzz ``extractOne`` over card titles with a cut-off.

Same contract as ``agribot ask --batch FILE --json``, so ``shared/eval/score.py`` can score it:
    python ../shared/eval/score.py ../shared/eval/dev-questions.yaml --cmd ".venv/bin/python bench/naive_baseline.py"
"""

from __future__ import annotations

import argparse
import json
import sys

from rapidfuzz import fuzz, process, utils

from bot.knowledge.library import load_library
from bot.settings import load_settings

CUTOFF = 60


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", required=True)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    library = load_library(load_settings().content_dir)
    titles = {card.id: card.title for card in library.cards.values()}
    with open(args.batch, encoding="utf-8") as f:
        for line in f:
            q = line.rstrip("\n")
            best = process.extract(q, titles, scorer=fuzz.WRatio, processor=utils.default_process, limit=3)
            cands = [{"id": key, "score": round(score / 100, 4)} for _, score, key in best]
            top = process.extractOne(
                q, titles, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=CUTOFF
            )
            answer = top[2] if top else None
            row = {"question": q, "answer": answer, "candidates": cands}
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
