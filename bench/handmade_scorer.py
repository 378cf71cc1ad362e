"""Rank guidance cards for a farmer's question.

Three signals, all over folded Vietnamese (no diacritics) after regional words are mapped to
one canonical form:

* BM25 over unigrams and word pairs of each card's fields (title, keywords and synonyms weigh
  more than the body) — the ranking;
* coverage: the IDF-weighted share of the question's informative words and word pairs that
  the card contains (an unknown word counts against) — how much of the question the card
  speaks to, comparable across questions;
* rapidfuzz similarity of the whole question to the card's title, keywords and synonyms —
  short questions that are a near-copy of a keyword, with typos.

The calibrated score is a weighted sum in [0, 1]; below ``threshold`` the bot does not answer.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import bm25s
import numpy as np
from rapidfuzz import fuzz, process

from bot.knowledge.cards import Card
from bot.knowledge.normalize import fold_word, normalize

W_COVERAGE = 0.6
W_FUZZY = 0.25
W_BM25 = 0.15
# how much a question word counts when a card has it only in this field
CREDIT_NAMES = 1.0  # title, keywords, synonyms
CREDIT_SUMMARY = 0.8
CREDIT_BODY = 0.5
FUZZY_SHORTLIST = 60  # cards whose titles and keywords are compared with the whole question
MIN_EVIDENCE = 4.0  # questions with less informative weight than this get a lower score
_NUMBER = re.compile(r"^\d+([.,]\d+)?$")


@dataclass(frozen=True, slots=True)
class Candidate:
    card_id: str
    score: float


@dataclass(frozen=True, slots=True)
class SearchResult:
    question: str
    candidates: list[Candidate]
    answer: str | None  # the card to reply with, or None to fall back
    ambiguous: bool  # the best two are too close: ask which one is meant

    def to_json(self, limit: int = 5) -> dict[str, object]:
        return {
            "question": self.question,
            "answer": self.answer,
            "ambiguous": self.ambiguous,
            "candidates": [
                {"id": c.card_id, "score": round(c.score, 4)} for c in self.candidates[:limit]
            ],
        }


STOP = "µ"  # suffix marking a stopword token ("chou"), kept so phrases still match
COLLIDE = "ª"  # suffix for a word that only folds like a stopword: đá ≠ đã, vôi ≠ với


class WordFolder:
    """Folds text to matching tokens, telling stopwords apart by their diacritics when typed.

    ``đã`` is a stopword but ``đá`` is not, though both fold to ``da``: a word typed with
    diacritics is judged by its accented form, a word typed without by its plain form.
    """

    def __init__(self, stopwords: Iterable[str]) -> None:
        words = {normalize(w) for w in stopwords if w.strip()}
        self.stop_plain = {w for w in words if w == fold_word(w)}
        self.stop_accented = {w for w in words if w != fold_word(w)}

    def word(self, word: str) -> str:
        folded = fold_word(word)
        if folded == word:  # typed without diacritics
            return folded + STOP if folded in self.stop_plain else folded
        if word in self.stop_accented:
            return folded + STOP
        return folded + COLLIDE if folded in self.stop_plain else folded

    def __call__(self, text: str) -> str:
        return " ".join(self.word(w) for w in normalize(text).split())


def is_stop(token: str) -> bool:
    return token.endswith(STOP)


class Canonicaliser:
    """Maps regional words and spellings to one form (heo → lợn, túi ủ → hầm) on folded text."""

    def __init__(self, groups: Iterable[list[str]], folder: WordFolder) -> None:
        mapping: dict[str, str] = {}
        for group in groups:
            canonical = folder(group[0])
            for phrase in group[1:]:
                folded = folder(phrase)
                if folded and folded != canonical:
                    mapping.setdefault(folded, canonical)
        # longest phrases first so "tui u biogas" wins over "tui u"
        self._phrases = sorted(mapping, key=lambda p: (-len(p.split()), -len(p)))
        self._mapping = mapping
        self._pattern = (
            re.compile(r"\b(" + "|".join(re.escape(p) for p in self._phrases) + r")\b")
            if self._phrases
            else None
        )

    def __call__(self, folded: str) -> str:
        if self._pattern is None:
            return folded
        return self._pattern.sub(lambda m: self._mapping[m.group(1)], folded)


class SearchIndex:
    def __init__(
        self,
        cards: Iterable[Card],
        *,
        synonyms: Iterable[list[str]] = (),
        stopwords: Iterable[str] = (),
        threshold: float = 0.55,
        margin: float = 0.04,
    ) -> None:
        self.cards = list(cards)
        self.threshold = threshold
        self.margin = margin
        self.folder = WordFolder(stopwords)
        self.canon = Canonicaliser(synonyms, self.folder)
        card_credits: list[dict[str, float]] = []
        self._phrases: list[str] = []
        self._phrase_owner: list[int] = []
        docs: list[list[str]] = []
        for i, card in enumerate(self.cards):
            names = [t for text in [card.title, *card.keywords, *card.synonyms] for t in self.terms(text)]
            summary = self.terms(card.summary)
            body = self.terms(_plain(card.body))
            docs.append(self.terms(card.title) * 2 + (names + summary) * 2 + body)
            credit = dict.fromkeys(body, CREDIT_BODY)
            credit.update(dict.fromkeys(summary, CREDIT_SUMMARY))
            credit.update(dict.fromkeys(names, CREDIT_NAMES))
            card_credits.append(credit)
            for phrase in [card.title, *card.keywords, *card.synonyms]:
                self._phrases.append(self._content(phrase))
                self._phrase_owner.append(i)
        df: Counter[str] = Counter()
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for j, credit in enumerate(card_credits):
            df.update(credit.keys())
            for term, value in credit.items():
                ids, credits = postings.setdefault(term, ([], []))
                ids.append(j)
                credits.append(value)
        # term -> (cards that have it, credit in each): coverage costs the postings, not the catalogue
        self._postings = {t: (np.array(i, dtype=np.int64), np.array(c)) for t, (i, c) in postings.items()}
        self._card_phrases: list[list[int]] = [[] for _ in self.cards]
        for k, owner in enumerate(self._phrase_owner):
            self._card_phrases[owner].append(k)
        n = max(len(self.cards), 1)
        self._idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5)
        self._vocab = sorted({w for t in df for w in t.split("_") if not (is_stop(w) or w.endswith(COLLIDE))})
        self._vocab_set = set(self._vocab)
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        if docs:
            self._bm25.index(docs, show_progress=False)

    # -- text processing -------------------------------------------------------------
    def prepare(self, text: str) -> str:
        """Folded, canonical form of ``text`` (stopwords marked, not removed)."""
        return self.canon(self.folder(text))

    def _content(self, text: str) -> str:
        return " ".join(w for w in self.prepare(text).split() if not is_stop(w))

    def _correct(self, word: str) -> str:
        """Fix a typo in a word the cards do not use, when a close word exists."""
        if (
            word in self._vocab_set or len(word) < 4 or _NUMBER.match(word) or not self._vocab
            or is_stop(word) or word.endswith(COLLIDE)
        ):
            return word
        cutoff = 80 if len(word) <= 5 else 75
        best = process.extractOne(word, self._vocab, scorer=fuzz.ratio, score_cutoff=cutoff)
        return best[0] if best else word

    def terms(self, text: str, *, correct: bool = False) -> list[str]:
        """Informative words and word pairs ("dem_lot") of ``text``."""
        words = self.prepare(text).split()
        if correct:
            words = self.canon(" ".join(self._correct(w) for w in words)).split()
        out = [w for w in words if not is_stop(w) and not _NUMBER.match(w)]
        # neighbouring informative words as pairs ("dem_lot", "xuong_ham"); a stopword breaks a pair
        for a, b in itertools.pairwise(words):
            if not (is_stop(a) or is_stop(b) or _NUMBER.match(a) or _NUMBER.match(b)):
                out.append(f"{a}_{b}")
        return out

    # -- ranking ---------------------------------------------------------------------
    def search(self, question: str, limit: int = 5) -> SearchResult:
        terms = self.terms(question, correct=True)
        if not self.cards or not terms:
            return SearchResult(question, [], None, False)
        unique = list(dict.fromkeys(terms))
        weights = np.array([self._idf.get(t, self._unknown_idf) for t in unique])
        total = float(weights.sum()) or 1.0
        coverage = np.zeros(len(self.cards))
        for term, weight in zip(unique, weights, strict=True):
            posting = self._postings.get(term)
            if posting is not None:
                coverage[posting[0]] += weight * posting[1]
        coverage /= total
        bm = np.asarray(self._bm25.get_scores(terms), dtype=float)
        bm_rel = bm / bm.max() if bm.max() > 0 else bm
        score = W_COVERAGE * coverage + W_BM25 * bm_rel
        # the whole-question similarity is computed for the most promising cards only
        shortlist = np.argsort(-score, kind="stable")[:FUZZY_SHORTLIST]
        query = self._content(question)
        if query:
            phrase_ids = [k for j in shortlist for k in self._card_phrases[j]]
            sims = process.cdist([query], [self._phrases[k] for k in phrase_ids], scorer=fuzz.token_sort_ratio)[0]
            fuzzy = np.zeros(len(self.cards))
            for k, sim in zip(phrase_ids, sims, strict=True):
                owner = self._phrase_owner[k]
                fuzzy[owner] = max(fuzzy[owner], sim / 100.0)
            score = score + W_FUZZY * fuzzy
        # one or two common words are weak evidence, however well they match
        score *= min(1.0, 0.6 + 0.4 * total / MIN_EVIDENCE)
        order = np.argsort(-score, kind="stable")[: max(limit, 3)]
        candidates = [Candidate(self.cards[i].id, float(score[i])) for i in order]
        best = candidates[0]
        answer = best.card_id if best.score >= self.threshold else None
        ambiguous = (
            answer is not None
            and len(candidates) > 1
            and candidates[1].score >= self.threshold
            and best.score - candidates[1].score < self.margin
        )
        return SearchResult(question, candidates, answer, ambiguous)


def _plain(markdown: str) -> str:
    return re.sub(r"[#*_>`|-]+", " ", markdown)
