"""Standard rankers the shipped one is compared with (``make eval-compare``; README "Q&A").

Each is a factory ``(cards, examples) -> scores``: built from the cards and the example
questions of the training folds, it returns a (questions × cards) score matrix. They are
kept here, outside the product, only so that the comparison can be run again.
"""

from __future__ import annotations

from collections.abc import Sequence

import bm25s
import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as l2

from bot.knowledge.cards import Card
from bot.knowledge.evaluation import Example, RankerFactory, ScoresFn, shipped_factory
from bot.knowledge.intents import phrases
from bot.knowledge.library import Library
from bot.knowledge.normalize import fold
from bot.knowledge.ranker import CardRanker, _standardised


def _doc(card: Card, examples: Sequence[str]) -> str:
    names = " . ".join([card.title, *card.keywords])
    return " . ".join([names, names, names, *card.synonyms, card.summary, card.body, *examples])


def _by_card(cards: Sequence[Card], examples: Sequence[Example]) -> list[list[str]]:
    index = {c.id: i for i, c in enumerate(cards)}
    out: list[list[str]] = [[] for _ in cards]
    for q, label in examples:
        if label in index:
            out[index[label]].append(q)
    return out


def bm25(cards: Sequence[Card], examples: Sequence[Example]) -> ScoresFn:
    docs = [fold(_doc(c, e)).split() for c, e in zip(cards, _by_card(cards, examples), strict=True)]
    model = bm25s.BM25(k1=1.2, b=0.75)
    model.index(docs, show_progress=False)

    def scores(questions: Sequence[str]) -> np.ndarray:
        return np.vstack([np.asarray(model.get_scores(fold(q).split()), dtype=float) for q in questions])

    return scores


def _tfidf(analyzer: str, ngrams: tuple[int, int]) -> RankerFactory:
    def factory(cards: Sequence[Card], examples: Sequence[Example]) -> ScoresFn:
        vec = TfidfVectorizer(preprocessor=fold, analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True)
        docs = vec.fit_transform([_doc(c, e) for c, e in zip(cards, _by_card(cards, examples), strict=True)])

        def scores(questions: Sequence[str]) -> np.ndarray:
            return np.asarray((vec.transform(questions) @ docs.T).todense())

        return scores

    return factory


tfidf_word = _tfidf("word", (1, 2))
tfidf_char = _tfidf("char_wb", (2, 5))


def nearest_example(cards: Sequence[Card], examples: Sequence[Example]) -> ScoresFn:
    """The card of the most similar example question (or title / keyword), by TF-IDF cosine."""
    index = {c.id: i for i, c in enumerate(cards)}
    items = [(q, index[label]) for q, label in examples if label in index]
    items += [(t, i) for i, c in enumerate(cards) for t in [c.title, *c.keywords]]
    texts = [t for t, _ in items]
    owner = np.array([i for _, i in items])
    word = TfidfVectorizer(preprocessor=fold, ngram_range=(1, 2), sublinear_tf=True).fit(texts)
    char = TfidfVectorizer(preprocessor=fold, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True).fit(texts)

    def vectors(xs: Sequence[str]):  # type: ignore[no-untyped-def]
        return l2(hstack([word.transform(xs), char.transform(xs)]).tocsr())

    matrix = vectors(texts)

    def scores(questions: Sequence[str]) -> np.ndarray:
        sims = np.asarray((vectors(questions) @ matrix.T).todense())
        out = np.zeros((len(questions), len(cards)))
        for j in range(len(cards)):
            mask = owner == j
            if mask.any():
                out[:, j] = sims[:, mask].max(axis=1)
        return out

    return scores


def classifier_only(library: Library) -> RankerFactory:
    """The shipped linear SVM alone (no TF-IDF card similarity beside it)."""

    def factory(cards: Sequence[Card], examples: Sequence[Example]) -> ScoresFn:
        ranker = CardRanker(cards, examples, synonyms=library.synonyms, rules=library.clues,
                            extra_corpus=phrases(library.intents))

        def scores(questions: Sequence[str]) -> np.ndarray:
            features = ranker._features(questions)
            decision = np.asarray(features @ ranker._coef) + ranker._intercept
            out = decision[:, ranker._columns]
            if len(ranker._other_columns):
                other = decision[:, ranker._other_columns].max(axis=1)
                out = out - 10.0 * (other > out.max(axis=1))[:, None]
            return out

        return scores

    return factory


def handmade(library: Library) -> RankerFactory:
    """The hand-made scorer shipped before (BM25 + IDF coverage + fuzzy; no example questions)."""

    def factory(cards: Sequence[Card], examples: Sequence[Example]) -> ScoresFn:
        from bench.handmade_scorer import SearchIndex

        index = SearchIndex(cards, synonyms=library.synonyms, stopwords=library.stopwords)
        ids = {c.id: i for i, c in enumerate(cards)}

        def scores(questions: Sequence[str]) -> np.ndarray:
            out = np.zeros((len(questions), len(cards)))
            for n, q in enumerate(questions):
                for cand in index.search(q, limit=len(cards)).candidates:
                    out[n, ids[cand.card_id]] = cand.score
            return out

        return scores

    return factory


def combined(*factories: RankerFactory) -> RankerFactory:
    """The mean of the per-question standardised scores of several rankers."""

    def factory(cards: Sequence[Card], examples: Sequence[Example]) -> ScoresFn:
        parts = [f(cards, examples) for f in factories]
        return lambda questions: sum(_standardised(p(questions)) for p in parts) / len(parts)  # type: ignore[return-value]

    return factory


def methods(library: Library) -> dict[str, RankerFactory]:
    shipped = shipped_factory(library)
    return {
        "shipped: linear SVM + TF-IDF (words)": shipped,
        "linear SVM alone": classifier_only(library),
        "TF-IDF word 1–2-grams": tfidf_word,
        "TF-IDF character 2–5-grams": tfidf_char,
        "BM25": bm25,
        "nearest example question": nearest_example,
        "hand-made scorer (before)": handmade(library),
        "shipped + nearest example": combined(shipped, nearest_example),
    }
