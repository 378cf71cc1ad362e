"""From card scores to what the bot does: answer, ask «Có phải bác muốn hỏi…?», or say it does not know."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

OFFERED = 3  # cards shown as buttons when the bot asks which one is meant


@dataclass(frozen=True)
class Thresholds:
    answer: float  # the best card scores at least this …
    margin: float  # … and beats the second by this: answer with it
    offer: float  # the best card scores at least this: offer the best cards as buttons


def decide(scores: np.ndarray, ranked: Sequence[int] | np.ndarray, t: Thresholds) -> tuple[int | None, list[int]]:
    """(card to answer with or None, cards to offer); ``ranked`` orders ``scores`` best first."""
    if len(ranked) == 0:
        return None, []
    best = float(scores[ranked[0]])
    second = float(scores[ranked[1]]) if len(ranked) > 1 else float("-inf")
    if best >= t.answer and best - second >= t.margin:
        return int(ranked[0]), []
    if best >= t.offer:
        return None, [int(j) for j in ranked[:OFFERED]]
    return None, []
