"""Turn a farmer's message into words for matching, keeping diacritics where they tell words apart.

Farmers type with and without diacritics. Folding everything (``khối`` → ``khoi``) lets
``ham bao nhieu khoi`` match, but makes ``khối`` (m³) and ``khởi`` (start), ``bộ`` (cán bộ)
and ``bò`` (cattle), ``gà`` (chicken) and ``ga`` (gas) the same word. So a word is kept in
both forms:

* a word typed **with** diacritics keeps them: ``khối`` never matches ``khởi``;
* a word typed **without** diacritics whose plain form is shared by several words of the
  content (``khoi``: khối, khởi, khói) is *restored* from its neighbours — the accented word
  that the cards and example questions most often write between the same neighbours
  (``bao nhieu khoi`` → khối, ``khoi dong`` → khởi, ``can bo`` → bộ) — and, for a few words
  the text rarely shows, from a clue word anywhere in the message (``ga`` is gas near
  «hầm», «bếp», «biogas»: ``content/ambiguous.yaml``); with no clear evidence it stays plain;
* regional words and spellings are then mapped to one form (``heo`` → ``lợn``): a phrase
  written with diacritics matches a typed word with the same diacritics, or a plain typed
  word that is not ambiguous.

``features`` gives the words and word pairs in both forms (``f:`` folded, ``a:`` accented)
for the ranker; ``folded_text`` the folded canonical text for character n-grams.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bot.knowledge.normalize import fold_word, normalize

_NUMBER = re.compile(r"^\d+([.,]\d+)?$")
NUMBER = "#"
# a text is "typed with diacritics" (its plain words mean themselves) when this share of its
# words that could carry a mark do
_MARKED_TEXT = 0.5
_ALPHA, _CONTEXTS = 0.5, 20  # add-α smoothing of the neighbour counts


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # normalized, accented as typed or restored
    folded: str
    marked: bool  # typed (or restored) with diacritics: the accented form is meaningful

    @classmethod
    def of(cls, text: str, *, marked: bool | None = None) -> Word:
        folded = fold_word(text)
        return cls(text, folded, (folded != text) if marked is None else marked)


@dataclass(frozen=True, slots=True)
class ClueRule:
    """A plain word read as ``reading`` by the word before or after it, or a clue anywhere.

    From ``content/ambiguous.yaml``; all context words are folded. The first rule that fits
    decides, before the neighbour statistics are asked.
    """

    plain: str
    reading: str
    after: frozenset[str] = frozenset()  # the word just before is one of these ("#": a number)
    before: frozenset[str] = frozenset()  # the word just after is one of these
    near: frozenset[str] = frozenset()  # one of these is anywhere in the message

    def fits(self, previous: str, following: str, present: set[str]) -> bool:
        return previous in self.after or following in self.before or bool(self.near & present)


def _is_number(text: str) -> bool:
    return bool(_NUMBER.match(text))


def _words(text: str) -> list[str]:
    return [NUMBER if _is_number(w) else w for w in normalize(text).split()]


def _typed_with_marks(words: list[str]) -> bool:
    letters = [w for w in words if w != NUMBER]
    if not letters:
        return False
    return sum(fold_word(w) != w for w in letters) / len(letters) >= _MARKED_TEXT


class Restorer:
    """Puts diacritics back on ambiguous plain words, from neighbour pairs seen in the content.

    For a plain word with several readings, each reading is scored as in a naive Bayes model:
    how often the content writes it, times how often with the word before and with the word
    after (add-one smoothing). The best reading is taken when it holds ``CONFIDENCE`` of the
    total; otherwise a clue rule may decide, else the word stays plain.
    """

    CONFIDENCE = 0.75

    def __init__(self, corpus: Iterable[str], rules: Iterable[ClueRule] = ()) -> None:
        readings: dict[str, Counter[str]] = defaultdict(Counter)
        left: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        right: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for text in corpus:
            words = _words(text)
            if not _typed_with_marks(words):
                continue
            folded = [fold_word(w) for w in words]
            for i, w in enumerate(words):
                if w == NUMBER:
                    continue
                readings[folded[i]][w] += 1
                if i > 0:
                    left[(folded[i - 1], folded[i])][w] += 1
                if i + 1 < len(words):
                    right[(folded[i], folded[i + 1])][w] += 1
        self.ambiguous = {f for f, c in readings.items() if len(c) > 1}
        self._readings = {f: c for f, c in readings.items() if f in self.ambiguous}
        self._left = {k: v for k, v in left.items() if k[1] in self.ambiguous}
        self._right = {k: v for k, v in right.items() if k[0] in self.ambiguous}
        self.rules: dict[str, list[ClueRule]] = defaultdict(list)
        for rule in rules:
            self.rules[rule.plain].append(rule)
            self.ambiguous.add(rule.plain)

    def restore(self, words: list[str]) -> list[Word]:
        if _typed_with_marks(words):  # the writer uses diacritics: a plain word is meant plain
            return [Word(w, fold_word(w), w != NUMBER) for w in words]
        folded = [fold_word(w) for w in words]
        present = set(folded)
        out: list[Word] = []
        for i, w in enumerate(words):
            if w == NUMBER or w not in self.ambiguous:
                out.append(Word(w, w, False))
                continue
            before = folded[i - 1] if i > 0 else ""
            after = folded[i + 1] if i + 1 < len(words) else ""
            reading = self._by_clue(w, before, after, present) or self._decide(w, before, after)
            out.append(Word(reading, w, True) if reading is not None else Word(w, w, False))
        return out

    def _decide(self, plain: str, before: str, after: str) -> str | None:
        prior = self._readings.get(plain)
        if not prior:
            return None
        lefts = self._left.get((before, plain), Counter())
        rights = self._right.get((plain, after), Counter())
        if not lefts and not rights:
            return None
        def likelihood(counts: Counter[str], reading: str, seen: int) -> float:
            return (counts[reading] + _ALPHA) / (seen + _ALPHA * _CONTEXTS)

        scores = {}
        for r, c in prior.items():
            score = float(c)
            if before:
                score *= likelihood(lefts, r, c)
            if after:
                score *= likelihood(rights, r, c)
            scores[r] = score
        best = max(scores, key=scores.__getitem__)
        if lefts[best] + rights[best] == 0 or scores[best] < self.CONFIDENCE * sum(scores.values()):
            return None
        return best

    def _by_clue(self, plain: str, before: str, after: str, present: set[str]) -> str | None:
        for rule in self.rules.get(plain, ()):
            if rule.fits(before, after, present):
                return rule.reading
        return None


class Canonicaliser:
    """Maps regional words and spellings to the first phrase of their group (heo → lợn)."""

    def __init__(self, groups: Iterable[list[str]], ambiguous: set[str]) -> None:
        self._ambiguous = ambiguous
        self._by_first: dict[str, list[tuple[list[Word], list[Word]]]] = defaultdict(list)
        for group in groups:
            canonical = [Word.of(w) for w in normalize(group[0]).split()]
            for phrase in group[1:]:
                words = [Word.of(w) for w in normalize(phrase).split()]
                if words and [w.text for w in words] != [c.text for c in canonical]:
                    self._by_first[words[0].folded].append((words, canonical))
        for options in self._by_first.values():
            options.sort(key=lambda item: -len(item[0]))  # longest phrase first

    def _matches(self, pattern: Word, word: Word) -> bool:
        if pattern.folded != word.folded:
            return False
        if word.marked:  # typed or restored with its diacritics: they must agree
            return pattern.text == word.text
        return word.folded not in self._ambiguous  # a plain word: only when it cannot be another

    def __call__(self, words: list[Word]) -> list[Word]:
        out: list[Word] = []
        i = 0
        while i < len(words):
            for phrase, canonical in self._by_first.get(words[i].folded, ()):
                n = len(phrase)
                window = words[i : i + n]
                if len(window) == n and all(self._matches(p, w) for p, w in zip(phrase, window, strict=True)):
                    out.extend(canonical)
                    i += n
                    break
            else:
                out.append(words[i])
                i += 1
        return out


class Analyzer:
    """Message → canonical words → matching features (see the module docstring)."""

    def __init__(
        self,
        *,
        synonyms: Iterable[list[str]] = (),
        corpus: Iterable[str] = (),
        rules: Iterable[ClueRule] = (),
    ) -> None:
        groups = [list(g) for g in synonyms]
        self.restorer = Restorer(corpus, rules)
        self.canon = Canonicaliser(groups, self.restorer.ambiguous)

    def read(self, text: str) -> list[Word]:
        """The message's words, with diacritics restored where the context is clear."""
        return self.restorer.restore(_words(text))

    def words(self, text: str) -> list[Word]:
        """``read``, then regional words mapped to one form."""
        return self.canon(self.read(text))

    def features(self, text: str) -> list[str]:
        words = self.words(text)
        out = [f"f:{w.folded}" for w in words]
        out += [f"a:{w.text}" for w in words if w.marked]
        for a, b in itertools.pairwise(words):
            out.append(f"f:{a.folded} {b.folded}")
            if a.marked and b.marked:
                out.append(f"a:{a.text} {b.text}")
        return out

    def folded_text(self, text: str) -> str:
        return " ".join(w.folded for w in self.words(text))
