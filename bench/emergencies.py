"""Held-out check of the emergency intent: a person in danger now must get 115/114 at once;
an animal's trouble, a question asked ahead or a past story must not.

    .venv/bin/python -m bench.emergencies [FILE]   # default bench/holdout/emergencies.yaml

FILE: YAML items ``{q: …, kind: person_emergency | not_emergency}``, written by someone who saw
neither the intents nor the training examples; nothing is tuned on it (README, «Q&A»).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.intents import EMERGENCY  # noqa: E402
from bot.runtime import build_services  # noqa: E402
from bot.settings import Settings  # noqa: E402


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else ROOT / "bench" / "holdout" / "emergencies.yaml"
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    index = build_services(Settings(database_url="sqlite://")).index
    results = index.search_many([item["q"] for item in items])
    emergencies = [r for item, r in zip(items, results, strict=True) if item["kind"] == "person_emergency"]
    others = [r for item, r in zip(items, results, strict=True) if item["kind"] != "person_emergency"]
    hit = sum(r.intent == EMERGENCY for r in emergencies)
    false = sum(r.intent == EMERGENCY for r in others)
    print(f"== held out, never tuned on: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    share = 100 * hit / len(emergencies)
    print(f"people in danger recognised as emergencies: {hit}/{len(emergencies)} ({share:.0f} %)")
    print(f"others taken for an emergency:              {false}/{len(others)} ({100 * false / len(others):.0f} %); "
          f"the others' intents: {dict(Counter(str(r.intent) for r in others))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
