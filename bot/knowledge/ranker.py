"""The card ranker: a linear classifier over the question's words, averaged with TF-IDF over the cards.

Two views of "which card is this question about", each standardised per question and then
averaged (chosen on cross-validated figures against BM25, TF-IDF, character n-grams and the
nearest example question alone: README, "Q&A"):

* a linear SVM trained on the cards' example questions (and questions editors attached from
  the dashboard), titles, keywords, synonyms, summaries and body lines, one class per card.
  Features from :class:`~bot.knowledge.analyzer.Analyzer` — words and word pairs, folded and
  accented (so «khối» and «khởi» stay apart when typed with diacritics) — and character
  2–5-grams of the folded text (typos: «biogass», «đêm lót»);
* TF-IDF cosine (words and word pairs, folded) between the question and each card's whole
  text with its example questions: it knows every word of the cards, also ones no example used.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from bot.knowledge.analyzer import Analyzer, ClueRule
from bot.knowledge.cards import Card
from bot.knowledge.normalize import fold

C = 0.5  # LinearSVC regularisation: scikit-learn's usual scale, not tuned on the development questions
NAMES_WEIGHT = 3  # a card's title and keywords count this many times in its TF-IDF text
NONE_PENALTY = 10.0  # when a non-card class wins: below every threshold, no card is answered or offered
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")


def card_lines(card: Card) -> list[str]:
    """The summary and every body line of three words or more (headings left out)."""
    lines = [card.summary]
    for line in card.body.splitlines():
        line = _LIST_MARK.sub("", line).strip()
        if not line.startswith("#") and len(line.split()) >= 3:
            lines.append(line.replace("**", ""))
    return lines


class FastTfidf:
    """``TfidfVectorizer.transform`` (sublinear tf, l2) for a few short texts, without
    scikit-learn's per-call input checks, which cost more than the work for one question."""

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        self._analyze = vectorizer.build_analyzer()
        self._vocabulary: dict[str, int] = vectorizer.vocabulary_
        self._idf = vectorizer.idf_
        self._width = len(self._vocabulary)

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        data: list[float] = []
        indices: list[int] = []
        indptr = [0]
        for text in texts:
            counts = Counter(j for j in map(self._vocabulary.get, self._analyze(text)) if j is not None)
            columns = sorted(counts)
            values = np.array([(1.0 + math.log(counts[j])) * self._idf[j] for j in columns])
            norm = float(np.sqrt((values**2).sum())) if columns else 0.0
            data.extend(values / norm if norm else values)
            indices.extend(columns)
            indptr.append(len(indices))
        return csr_matrix((data, indices, indptr), shape=(len(texts), self._width))


def _standardised(scores: np.ndarray) -> np.ndarray:
    return (scores - scores.mean(axis=1, keepdims=True)) / (scores.std(axis=1, keepdims=True) + 1e-9)


class CardRanker:
    def __init__(
        self,
        cards: Sequence[Card],
        examples: Iterable[tuple[str, str | None]],
        *,
        synonyms: Iterable[list[str]] = (),
        rules: Iterable[ClueRule] = (),
        extra_corpus: Iterable[str] = (),
    ) -> None:
        self.card_ids = [c.id for c in cards]
        index = {cid: i for i, cid in enumerate(self.card_ids)}
        asked: list[list[str]] = [[] for _ in cards]
        for question, card_id in examples:
            if card_id is not None and card_id in index:
                asked[index[card_id]].append(question)
        texts: list[str] = []
        labels: list[int] = []
        for i, card in enumerate(cards):
            for text in (card.title, *card.keywords, *card.synonyms, *card_lines(card), *asked[i]):
                texts.append(text)
                labels.append(i)
        # examples no card answers form more classes ("@vet", "@handover", "@none" …): when one of
        # them wins, no card is meant
        self.other_labels = sorted({label for _, label in examples if label is not None and label not in index})
        other = {label: len(cards) + i for i, label in enumerate(self.other_labels)}
        for question, label in examples:
            if label in other:
                texts.append(question)
                labels.append(other[label])
        self.analyzer = Analyzer(synonyms=synonyms, corpus=[*texts, *extra_corpus], rules=rules)
        # the classifier
        self._words = TfidfVectorizer(analyzer=self.analyzer.features, sublinear_tf=True)
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        self._model = LinearSVC(C=C, random_state=0)
        self._model.fit(self._features(texts, fit=True), np.array(labels))
        self._coef = self._model.coef_.T.copy()
        self._intercept = self._model.intercept_
        classes = list(self._model.classes_)
        self._columns = np.array([classes.index(i) for i in range(len(cards))])
        self._other_columns = np.array([classes.index(other[label]) for label in self.other_labels], dtype=int)
        # the whole-card similarity
        self._card_vectorizer = TfidfVectorizer(preprocessor=fold, ngram_range=(1, 2), sublinear_tf=True)
        documents = []
        for card, questions in zip(cards, asked, strict=True):
            names = " . ".join([card.title, *card.keywords])
            documents.append(" . ".join([*[names] * NAMES_WEIGHT, *card.synonyms, card.summary, card.body, *questions]))
        self._documents = self._card_vectorizer.fit_transform(documents).T.tocsr()
        self._fast = [FastTfidf(self._words), FastTfidf(self._chars), FastTfidf(self._card_vectorizer)]

    def _features(self, texts: Sequence[str], *, fit: bool = False) -> csr_matrix:
        folded = [self.analyzer.folded_text(t) for t in texts]
        if fit:
            return hstack([self._words.fit_transform(texts), self._chars.fit_transform(folded)]).tocsr()
        words, chars, _ = self._fast
        return hstack([words.transform(texts), chars.transform(folded)]).tocsr()

    def scores(self, questions: Sequence[str]) -> np.ndarray:
        """(questions × cards) scores, higher is better."""
        return self.rank(questions)[0]

    def rank(self, questions: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:
        """Card scores, and for each question the non-card class ("@vet" …) that beat every card."""
        if not questions:
            return np.zeros((0, len(self.card_ids))), []
        decision = np.asarray(self._features(questions) @ self._coef) + self._intercept
        classifier = decision[:, self._columns]
        similarity = np.asarray((self._fast[2].transform(questions) @ self._documents).todense())
        combined = (_standardised(classifier) + _standardised(similarity)) / 2
        winners: list[str | None] = [None] * len(questions)
        if len(self._other_columns):
            other = decision[:, self._other_columns]
            for n in np.flatnonzero(other.max(axis=1) > classifier.max(axis=1)):
                winners[n] = self.other_labels[int(other[n].argmax())]
                combined[n] -= NONE_PENALTY
        return combined, winners
