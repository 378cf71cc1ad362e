"""What an official types about the figures is read as figures; a technical question is not."""

from __future__ import annotations

import pytest

from reporting.figure_questions import FigureQuestion, parse

FIGURES = [
    ("xã nào chưa báo cáo", FigureQuestion("completeness")),
    ("xa nao chua bao cao", FigureQuestion("completeness")),
    ("HTX nào chưa nộp báo cáo năm 2026", FigureQuestion("completeness", year=2026)),
    ("bao nhiêu xã đã báo cáo", FigureQuestion("completeness")),
    ("tình hình báo cáo năm ngoái", FigureQuestion("completeness", years_back=1)),
    ("tỷ lệ rơm rạ năm 2026 đạt bao nhiêu", FigureQuestion("indicator", "straw_reuse_pct", year=2026)),
    ("ti le rom ra nam 2025", FigureQuestion("indicator", "straw_reuse_pct", year=2025)),
    ("tiến độ hộ chăn nuôi xử lý chất thải", FigureQuestion("indicator", "household_waste_treatment_pct")),
    ("tỉ lệ trang trại áp dụng xử lý chất thải", FigureQuestion("indicator", "farm_waste_treatment_pct")),
    ("tỷ lệ cán bộ khuyến nông được tập huấn", FigureQuestion("indicator", "extension_staff_trained_pct")),
    ("tỷ lệ hộ xã viên HTX xử lý chất thải", FigureQuestion("indicator", "coop_member_households_treating_pct")),
    ("số lồng cá", FigureQuestion("indicator", "fish_cages")),
    ("6 tháng đầu năm 2026 có bao nhiêu buổi tập huấn",
     FigureQuestion("indicator", "trainings_held", year=2026, half=1)),
    ("diện tích nuôi thủy sản dùng chế phẩm đạt bao nhiêu phần trăm",
     FigureQuestion("indicator", "aquaculture_bioproduct_area_pct")),
    ("năm ngoái tỷ lệ rơm rạ bao nhiêu", FigureQuestion("indicator", "straw_reuse_pct", years_back=1)),
    ("tiến độ", FigureQuestion("all")),
    ("các chỉ tiêu năm 2026", FigureQuestion("all", year=2026)),
]

NOT_FIGURES = [
    "ủ rơm thế nào",
    "rơm rạ",
    "tỷ lệ ủ rơm với urê bao nhiêu",  # a dose: the cards answer it
    "chế phẩm vi sinh cho ao tôm liều lượng bao nhiêu",
    "bể biogas bị rò khí",
    "xin chào",
    "lúa bị sâu cuốn lá",
    "",
]


@pytest.mark.parametrize(("text", "expected"), FIGURES, ids=[t for t, _ in FIGURES])
def test_an_official_asking_for_figures_is_understood(text: str, expected: FigureQuestion) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text", NOT_FIGURES)
def test_a_technical_question_stays_with_the_cards(text: str) -> None:
    assert parse(text) is None
