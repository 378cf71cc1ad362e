"""The Q&A evaluation cannot fool itself: no fold sees its own questions, thresholds come from
the other folds, the development questions are never copied, and the figures are score.py's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from rapidfuzz import fuzz, process

from bot.knowledge import evaluation
from bot.knowledge.cards import Card
from bot.knowledge.decision import Thresholds, decide
from bot.knowledge.normalize import fold
from tests.conftest import ROOT
from tests.test_cli import run

SHARED = ROOT.parent / "shared" / "eval"
DEV = SHARED / "dev-questions.yaml"
needs_shared = pytest.mark.skipif(not DEV.exists(), reason="../shared/eval is not beside the checkout")


def _cards(services) -> list[Card]:
    return list(services.library.cards.values())


def test_folds_spread_every_card_over_every_fold(services) -> None:
    examples = evaluation.library_examples(services.library)
    fold_of = evaluation.folds(examples, 5)
    for card in _cards(services):
        seen = {f for (_, label), f in zip(examples, fold_of, strict=True) if label == card.id}
        assert seen == set(range(5)), card.id


def test_a_fold_is_scored_by_an_index_built_without_it_and_thresholds_fitted_elsewhere(services, monkeypatch) -> None:
    cards = _cards(services)[:4]
    examples = [(f"câu hỏi {i} về thẻ {c.id}", c.id) for c in cards for i in range(10)]
    examples += [(f"chuyện khác {i}", None) for i in range(10)]
    index_of = {q: i for i, (q, _) in enumerate(examples)}
    trained_on: list[set[str]] = []

    def factory(cards_: list[Card], train: list[tuple[str, str | None]]):  # type: ignore[no-untyped-def]
        trained_on.append({q for q, _ in train})

        def scores(questions: list[str]) -> np.ndarray:
            out = np.zeros((len(questions), len(cards_)))
            out[:, 0] = [index_of[q] for q in questions]  # the score says which question it is
            out[:, 1] = -1.0
            return out

        return scores

    fitted_on: list[set[int]] = []
    real_fit = evaluation.fit_thresholds

    def spy(scores: np.ndarray, labels):  # type: ignore[no-untyped-def]
        fitted_on.append({int(s) for s in scores[:, 0]})
        return real_fit(scores, labels)

    monkeypatch.setattr(evaluation, "fit_thresholds", spy)
    fold_of = evaluation.folds(examples, 5)
    evaluation.cross_validate(factory, cards, examples, k=5)
    for f in range(5):
        fold_questions = {q for (q, _), g in zip(examples, fold_of, strict=True) if g == f}
        assert not trained_on[f] & fold_questions  # the index never saw the fold
        fold_indices = {index_of[q] for q in fold_questions}
        assert not fitted_on[f] & fold_indices  # nor did the thresholds used on it
    assert fitted_on[-1] == set(range(len(examples)))  # the shipped thresholds: all folds


def test_the_decision_answers_offers_or_refuses() -> None:
    t = Thresholds(answer=2.0, margin=0.5, offer=1.0)
    ranked = [0, 1, 2, 3]
    assert decide(np.array([3.0, 1.0, 0.0, 0.0]), ranked, t) == (0, [])
    assert decide(np.array([3.0, 2.8, 0.0, 0.0]), ranked, t) == (None, [0, 1, 2])  # too close: ask
    assert decide(np.array([1.5, 0.0, 0.0, 0.0]), ranked, t) == (None, [0, 1, 2])  # not sure: ask
    assert decide(np.array([0.5, 0.0, 0.0, 0.0]), ranked, t) == (None, [])  # refuse


@needs_shared
def test_no_example_question_copies_a_development_question(services) -> None:
    dev = [fold(item["q"]) for item in yaml.safe_load(DEV.read_text(encoding="utf-8"))]
    examples = [q for q, _ in evaluation.library_examples(services.library)]
    close = [
        q for q in examples
        if process.extractOne(fold(q), dev, scorer=fuzz.ratio)[1] >= 75  # type: ignore[index]
        or process.extractOne(fold(q), dev, scorer=fuzz.token_sort_ratio)[1] >= 80  # type: ignore[index]
    ]
    assert close == []


@needs_shared
def test_metrics_are_those_of_score_py(tmp_path: Path) -> None:
    outcomes = [
        evaluation.Outcome("a", {"x/1"}, "x/1", [], ["x/1", "x/2", "x/3"]),
        evaluation.Outcome("b", {"x/2"}, None, ["x/3", "x/2"], ["x/3", "x/2", "x/1"]),
        evaluation.Outcome("c", {"x/3"}, "x/1", [], ["x/1", "x/2", "x/4"]),
        evaluation.Outcome("d", {"x/4"}, None, [], ["x/1", "x/2", "x/3"]),
        evaluation.Outcome("e", set(), None, [], ["x/1", "x/2", "x/3"]),
        evaluation.Outcome("f", set(), None, ["x/1"], ["x/1", "x/2", "x/3"]),
        evaluation.Outcome("g", set(), "x/2", [], ["x/2", "x/1", "x/3"]),
    ]
    questions = tmp_path / "q.yaml"
    questions.write_text(yaml.safe_dump([{"q": o.question, "ids": sorted(o.expected)} for o in outcomes]))
    replies = tmp_path / "replies.jsonl"
    replies.write_text("\n".join(json.dumps({
        "question": o.question, "answer": o.answer, "offered": o.offered,
        "candidates": [{"id": c, "score": 1.0} for c in o.top3]}) for o in outcomes) + "\n")
    replay = tmp_path / "replay.py"
    replay.write_text(f"import sys\nsys.stdout.write(open({str(replies)!r}).read())\n")
    command = [sys.executable, str(SHARED / "score.py"), str(questions), "--cmd", f"{sys.executable} {replay}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    summary = dict(kv.split("=") for kv in out.stdout.strip().splitlines()[-1].split())
    ours = evaluation.Metrics.of(outcomes).row()
    for key in ("top1", "top3", "one_tap", "false_reject", "oos_reject", "oos_clean"):
        assert float(summary[key]) == pytest.approx(round(ours[key], 1)), key


@needs_shared
def test_make_eval_reproduces_the_shipped_thresholds_and_scores_the_held_out_questions() -> None:
    out = run("content", "eval", str(DEV))
    assert out.returncode == 0, out.stderr
    shipped = yaml.safe_load((ROOT / "content" / "answer-thresholds.yaml").read_text(encoding="utf-8"))
    line = next(x for x in out.stdout.splitlines() if x.startswith("thresholds fitted on all folds"))
    assert f"answer {shipped['answer']:.3f}" in line and f"offer {shipped['offer']:.3f}" in line
    assert "5-fold cross-validation" in out.stdout and "held out, never tuned on" in out.stdout
    summary = dict(kv.split("=") for kv in out.stdout.strip().splitlines()[-1].split())
    assert float(summary["one_tap"]) >= 90.0 and float(summary["oos_reject"]) >= 75.0
