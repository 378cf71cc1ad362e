"""What an official asks in words about the figures: «xã nào chưa báo cáo», «tỷ lệ rơm rạ năm
2026», «tiến độ hộ chăn nuôi xử lý chất thải».

``parse`` reads a message (with or without diacritics) and returns a ``FigureQuestion`` — which
indicator, which year or half-year, or the completeness — or None when it is not about figures
(then the message is a question for the cards). A message must name the figures (tỷ lệ, tiến
độ, bao nhiêu, chỉ tiêu, số liệu, mục tiêu, kết quả…, or a year) and what they are about (an
indicator's words, or «báo cáo» for the completeness); a technical question such as «ủ rơm thế
nào» names no figure and stays with the cards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from reporting import areas

# words that ask for figures (folded: no diacritics, lower case)
FIGURE_WORDS = ("ty le", "ti le", "tien do", "bao nhieu", "chi tieu", "so lieu", "muc tieu", "ket qua",
                "thong ke", "dat duoc", "con thieu", "lo trinh", "phan tram", "so luong", "tinh hinh", "nam nay")
# the completeness: who has (not) reported
COMPLETENESS = (
    re.compile(r"\b(xa|don vi|htx|hop tac xa|trang trai|ai|noi)\b( \w+){0,3} (chua|khong) (bao cao|nop|gui)"),
    re.compile(r"\bchua (bao cao|nop bao cao|gui bao cao)\b"),
    re.compile(r"\b(tinh hinh|tien do|muc do) (nop |gui )?bao cao\b"),
    re.compile(r"\bbao nhieu (xa|don vi)( \w+){0,2} (da )?(bao cao|nop)"),
    re.compile(r"\bday du bao cao\b"),
)
# the words of each indicator, most specific first; a message takes the indicator whose words
# match longest (ties: the first listed)
INDICATOR_WORDS: dict[str, tuple[str, ...]] = {
    "coop_member_households_treating_pct": ("ho xa vien", "xa vien htx", "xa vien hop tac xa"),
    "household_waste_treatment_pct": ("ho chan nuoi", "ho xu ly chat thai", "ho ap dung xu ly"),
    "farm_waste_treatment_pct": ("trang trai xu ly", "trang trai ap dung", "trang trai chan nuoi xu ly"),
    "farms_reached_pct": ("trang trai duoc tiep can", "trang trai tiep can", "chuyen giao trang trai",
                          "trang trai duoc chuyen giao"),
    "coops_reached_pct": ("htx duoc tiep can", "htx tiep can", "hop tac xa duoc tiep can", "hop tac xa tiep can",
                          "htx duoc chuyen giao", "hop tac xa duoc chuyen giao"),
    "extension_staff_trained_pct": ("can bo khuyen nong", "can bo duoc tap huan", "can bo tap huan"),
    "organic_waste_recycled_pct": ("chat thai huu co", "tai che"),
    "crop_byproduct_reuse_pct": ("phu pham",),
    "straw_reuse_pct": ("rom ra", "rom"),
    "aquaculture_bioproduct_area_pct": ("thuy san", "nuoi ca", "nuoi tom", "ao nuoi", "dien tich nuoi"),
    "fish_cages": ("long ca", "long nuoi"),
    "trainings_held": ("buoi tap huan", "lop tap huan", "so buoi"),
    "training_participants": ("luot nguoi", "nguoi du tap huan", "nguoi tham du", "luot tap huan"),
    "bio_enterprises": ("doanh nghiep",),
}
# a technical question (a dose, a method) is for the cards, unless it names a year or an area
TECHNICAL = ("ure", "lieu luong", "the nao", "lam sao", "cach lam", "cach u", "huong dan", "kg", "lit", "gam",
             "bao lau", "may ngay", "bao nhieu ngay", "co nen", "duoc khong", "men", "men vi sinh", "mat do",
             "tron", "m2", "met vuong", "con mot", "bao nhieu con", "nuoc", "phan bo", "phan chuong",
             "cua toi", "nha toi", "ao toi", "ao nha", "la dung", "thi dung", "u phan", "ty le tron", "1 tan",
             "mot tan", "moi tan", "cho 1", "cho mot")
AREA_WORDS = ("xa", "tinh", "huyen", "toan tinh", "cac xa")
# «tiến độ» / «các chỉ tiêu» alone: every indicator of the plan
ALL_WORDS = ("tien do", "cac chi tieu", "tat ca chi tieu", "chi tieu", "muc tieu 2030", "ke hoach", "lo trinh",
             "duoi lo trinh", "cham tien do")
YEAR = re.compile(r"\b(20[2-4]\d)\b")
FIRST_HALF = re.compile(r"\b6 thang dau\b|\bnua dau\b|\bdau nam\b")
SECOND_HALF = re.compile(r"\b6 thang cuoi\b|\bnua cuoi\b|\bcuoi nam\b")
LAST_YEAR = re.compile(r"\bnam (ngoai|truoc|roi)\b")


@dataclass(frozen=True)
class FigureQuestion:
    kind: Literal["indicator", "all", "completeness"]
    indicator_id: str | None = None
    year: int | None = None
    half: int | None = None  # 1 or 2 when a half-year was named
    years_back: int = 0  # «năm ngoái»: 1 (when no year is named)


def fold(text: str) -> str:
    """Lower case, no diacritics (``areas.fold``), «%» read as «phần trăm»."""
    return areas.fold(text.replace("%", " phần trăm "))


def _contains(text: str, phrase: str) -> bool:
    return re.search(rf"\b{re.escape(phrase)}\b", text) is not None


def indicator_of(text: str) -> str | None:
    """The indicator a folded message names, by its longest matching words."""
    best: tuple[int, str] | None = None
    for indicator, phrases in INDICATOR_WORDS.items():
        for phrase in phrases:
            if _contains(text, phrase) and (best is None or len(phrase) > best[0]):
                best = (len(phrase), indicator)
    return best[1] if best else None


def parse(message: str) -> FigureQuestion | None:
    text = fold(message)
    if not text:
        return None
    year_match = YEAR.search(text)
    year = int(year_match.group(1)) if year_match else None
    half = 1 if FIRST_HALF.search(text) else 2 if SECOND_HALF.search(text) else None
    back = 1 if year is None and LAST_YEAR.search(text) else 0
    if any(pattern.search(text) for pattern in COMPLETENESS):
        return FigureQuestion("completeness", year=year, half=half, years_back=back)
    indicator = indicator_of(text)
    counted = indicator is not None and any(_contains(text, f"so {phrase}") for phrase in INDICATOR_WORDS[indicator])
    asks_figures = any(_contains(text, word) for word in FIGURE_WORDS) or year is not None or back > 0 or counted
    if not asks_figures:
        return None
    technical = any(_contains(text, word) for word in TECHNICAL)
    if technical and year is None and not any(_contains(text, word) for word in AREA_WORDS):
        return None
    if indicator is not None:
        return FigureQuestion("indicator", indicator, year=year, half=half, years_back=back)
    if any(_contains(text, word) for word in ALL_WORDS):
        return FigureQuestion("all", year=year, half=half, years_back=back)
    return None
