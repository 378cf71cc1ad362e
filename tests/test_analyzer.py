"""Folding without collisions: words that fold alike stay apart (table tests)."""

import pytest

from bot.knowledge.normalize import fold, normalize


def reading(services, text: str) -> list[str]:
    """The words the analyzer reads (accented where typed or restored; regional words mapped)."""
    return [w.text for w in services.index.current.ranker.analyzer.words(text)]


# (message, a word it must be read as, a word it must not be read as)
COLLISIONS = [
    # typed with diacritics: the accented form decides, never the folded one
    ("xây hầm bao nhiêu khối", "m3", "khởi"),  # khối (m³) → the synonym «m3»
    ("khởi động hầm mới", "khởi", "m3"),
    ("gặp cán bộ", "bộ", "trâu bò"),
    ("bỏ phân gà vào hầm", "bỏ", "trâu"),
    ("phân gà vào hầm", "gà", "khí"),
    ("bếp ga yếu", "khí", "gà"),  # «ga» typed plain in an accented text: gas
    ("đốt rơm khói bụi", "khói", "m3"),
    # typed without diacritics: the neighbouring words decide
    ("nuoi 20 con lon xay ham bao nhieu khoi", "m3", "khởi"),
    ("ham moi khoi dong the nao", "khởi", "m3"),
    ("gap can bo xa", "bộ", "trâu"),
    ("bo phan ga vao ham duoc ko", "bỏ", "trâu"),
    ("phan ga vao ham", "gà", "khí"),
    ("nuoi ga tren dem lot", "gà", "khí"),
    ("bep ga yeu qua", "khí", "gà"),
    ("ham it khi qua", "khí", "khi"),
    ("khi nao nap ham", "khi", "khí"),
    ("u rom cho bo an", "trâu bò", "bộ"),
]


@pytest.mark.parametrize(("text", "must", "must_not"), COLLISIONS)
def test_words_that_fold_alike_stay_apart(services, text: str, must: str, must_not: str) -> None:
    words = " ".join(reading(services, text))
    assert f" {must} " in f" {words} ", words
    assert f" {must_not} " not in f" {words} ", words


def test_a_plain_word_with_no_clue_stays_plain(services) -> None:
    analyzer = services.index.current.ranker.analyzer
    [word] = analyzer.words("khoi")
    assert (word.text, word.marked) == ("khoi", False)


def test_features_keep_the_accented_form_beside_the_folded_one(services) -> None:
    features = services.index.current.ranker.analyzer.features("khởi động hầm")
    assert "f:khoi" in features and "a:khởi" in features and "a:khối" not in features


@pytest.mark.parametrize(
    "text",
    ["bi\u200bogas", "bio\u200cgas", "bio\u200dgas", "bio\u00adgas", "\ufeffbiogas", "bio\u2060gas", "\u202ebiogas"],
)
def test_invisible_characters_are_removed(text: str) -> None:
    assert normalize(text) == "biogas" and fold(text) == "biogas"


@pytest.mark.parametrize(("typed", "same"), [("hoà", "hòa"), ("thuỷ", "thủy"), ("HẦM", "hầm"), ("khoẻ", "khỏe")])
def test_one_spelling_for_tone_placement_and_case(typed: str, same: str) -> None:
    assert normalize(typed) == normalize(same)
