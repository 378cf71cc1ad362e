"""Vietnamese text normalisation for matching.

``normalize`` gives NFC text, lower case, one tone-mark placement (hoà → hòa, thuỷ → thủy)
and punctuation turned to spaces. ``fold`` also drops every diacritic and maps đ → d, which is
how farmers often type (``lam dem lot cho heo``). Both first remove invisible characters
(zero-width spaces and joiners, soft hyphens, direction marks: Unicode "format" characters)
that phones and copy-paste slip into words.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Combining tone marks: grave, acute, hook above, tilde, dot below.
_TONES = {"\u0300", "\u0301", "\u0309", "\u0303", "\u0323"}
# Vowel letters once the tone is removed (NFC); the ones with a "hat", breve or horn rank first.
_MARKED = set("ăâêôơư")
_VOWELS = set("aeiouy") | _MARKED
_WORD = re.compile(r"\w+", re.UNICODE)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def strip_invisible(text: str) -> str:
    """Drop format characters (category Cf: U+200B, U+200D, U+00AD, U+FEFF, U+202E …)."""
    if text.isascii():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _strip_tone(syllable: str) -> tuple[str, str | None]:
    decomposed = unicodedata.normalize("NFD", syllable)
    tone = next((ch for ch in decomposed if ch in _TONES), None)
    bare = "".join(ch for ch in decomposed if ch not in _TONES)
    return unicodedata.normalize("NFC", bare), tone


def _tone_position(bare: str) -> int | None:
    """Index of the vowel that carries the tone, in the placement most keyboards type.

That is the "old style" for open syllables (hòa, thủy, khỏe) and the tone on the
last vowel before a final consonant (hoàng, thuyền)."""
    lower = bare.lower()
    start = 0
    # "qu" and "gi" + vowel: the u / i belong to the consonant.
    if lower.startswith("qu") or (lower.startswith("gi") and len(lower) > 2 and lower[2] in _VOWELS):
        start = 2
    positions = [i for i in range(start, len(lower)) if lower[i] in _VOWELS]
    if not positions and start:  # "gì", "quý"? fall back to every vowel
        positions = [i for i, ch in enumerate(lower) if ch in _VOWELS]
    if not positions:
        return None
    # keep only the first contiguous vowel cluster
    cluster = [positions[0]]
    for p in positions[1:]:
        if p == cluster[-1] + 1:
            cluster.append(p)
        else:
            break
    marked = [p for p in cluster if lower[p] in _MARKED]
    if marked:
        return marked[-1]
    if len(cluster) == 1:
        return cluster[0]
    has_final = cluster[-1] < len(lower) - 1
    if has_final:
        return cluster[-1]
    if len(cluster) == 3:
        return cluster[1]
    # Open two-vowel syllables take the tone on the first vowel: hòa, khỏe, thủy, mùa, mía.
    return cluster[0]


@lru_cache(maxsize=65536)
def fix_tone_placement(syllable: str) -> str:
    """Move a tone mark to the one placement this project uses (hoà → hòa, thuỷ → thủy)."""
    bare, tone = _strip_tone(syllable)
    if tone is None:
        return unicodedata.normalize("NFC", syllable)
    pos = _tone_position(bare)
    if pos is None:
        return unicodedata.normalize("NFC", syllable)
    return unicodedata.normalize("NFC", bare[: pos + 1] + tone + bare[pos + 1 :])


def normalize(text: str) -> str:
    """NFC, lower case, one tone placement, punctuation to single spaces."""
    text = unicodedata.normalize("NFC", strip_invisible(text)).lower()
    words = (fix_tone_placement(w) for w in _WORD.findall(text.replace("_", " ")))
    return " ".join(words)


@lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower case, no diacritics, đ → d, punctuation to single spaces."""
    text = unicodedata.normalize("NFC", strip_invisible(text)).lower()
    text = _NON_WORD.sub(" ", text.replace("_", " "))
    return " ".join(fold_word(w) for w in text.split())


def tokens(text: str) -> list[str]:
    """Folded words of ``text``."""
    return fold(text).split()
