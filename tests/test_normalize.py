import pytest

from bot.knowledge.normalize import fix_tone_placement, fold, normalize, tokens


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("hoà", "hòa"), ("thuỷ", "thủy"), ("khoẻ", "khỏe"), ("Huỷ", "Hủy"),
        ("hoàng", "hoàng"), ("thuyền", "thuyền"), ("quý", "quý"), ("giữa", "giữa"),
        ("ngoài", "ngoài"), ("người", "người"), ("quả", "quả"),
    ],
)
def test_one_tone_placement(typed: str, expected: str) -> None:
    assert fix_tone_placement(typed) == expected


def test_normalize_unifies_spellings_and_punctuation() -> None:
    assert normalize("Hoà   BÌNH, thuỷ-sản!!") == "hòa bình thủy sản"
    # decomposed input (NFD, as some phones send) equals the composed form
    assert normalize("ho\u0300a") == normalize("hòa")


def test_fold_drops_diacritics_and_d_stroke() -> None:
    assert fold("Đệm lót sinh học cho lợn") == "dem lot sinh hoc cho lon"
    assert fold("ĐƯỜNG rỉ-mật") == "duong ri mat"
    assert tokens("Hầm biogas: ít khí?") == ["ham", "biogas", "it", "khi"]
