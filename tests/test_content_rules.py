"""`agribot content check` keeps the cards honest: sourced with a year, no repeated opening,
regional words in the text, enough example questions and none on two cards, valid tips and
intents; and every shipped card fits a phone."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.knowledge.cards import parse_card
from bot.knowledge.content_rules import MIN_QUESTIONS, near_copy
from tests.conftest import ROOT
from tests.test_cli import run

CARDS = ROOT / "content" / "cards"


def _copy(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    return content


def _edit(path: Path, fn) -> None:  # type: ignore[no-untyped-def]
    path.write_text(fn(path.read_text(encoding="utf-8")), encoding="utf-8")


def _questions(path: Path) -> list[str]:
    card, _ = parse_card(path, path.parents[1])
    assert card is not None
    return card.questions


def test_each_new_rule_is_reported_with_file_and_field(tmp_path: Path) -> None:
    content = _copy(tmp_path)
    cards = content / "cards"
    # a source without a year
    _edit(cards / "biogas/mua-dong.md", lambda t: re.sub(r", year: \d{4}", "", t, count=1))
    # an opening paragraph that repeats the summary
    def repeat_summary(text: str) -> str:
        summary = re.search(r'^summary: "(.*)"$', text, re.MULTILINE).group(1)  # type: ignore[union-attr]
        head, body = text.split("\n---\n", 1)
        return f"{head}\n---\n{summary}\n\n{body}"
    _edit(cards / "biogas/it-khi.md", repeat_summary)
    # «lợn» without «heo», and wording a farmer misreads
    _edit(cards / "chung/mo-hinh-vac.md",
          lambda t: t.replace("lợn (heo)", "lợn").replace("(heo)", "").replace("heo", "lợn"))
    _edit(cards / "thuy-san/ca-noi-dau.md", lambda t: t.replace("oxy", "ô-xy", 1))
    # too few example questions on one card; one question on two cards
    few = cards / "rom-ra/thu-gom-cuon-rom.md"
    kept = _questions(few)[: MIN_QUESTIONS - 1]
    _edit(few, lambda t: re.sub(r"questions:\n(  - .*\n)+", "questions:\n" + "".join(f'  - "{q}"\n' for q in kept), t))
    borrowed = _questions(cards / "biogas/bao-duong.md")[0]
    _edit(cards / "biogas/tinh-the-tich.md", lambda t: t.replace("questions:\n", f'questions:\n  - "{borrowed}"\n', 1))
    # a tip that points at a card that does not exist; an intent the bot does not know
    _edit(content / "tips.yaml", lambda t: t.replace("card: rom-ra/khong-dot-rom", "card: rom-ra/khong-co", 1))
    _edit(content / "intents.yaml", lambda t: t.replace("- id: offtopic", "- id: lac-de", 1))

    out = run("--content-dir", str(content), "content", "check")
    assert out.returncode == 1
    report = out.stdout
    assert "cards/biogas/mua-dong.md: sources.0.year: Field required" in report
    assert "cards/biogas/it-khi.md: body: the opening repeats the summary" in report
    assert "cards/chung/mo-hinh-vac.md: body: says «lợn» but never «heo»" in report
    assert "cards/thuy-san/ca-noi-dau.md: body: «ô-xy»: write «oxy»" in report
    assert f"cards/rom-ra/thu-gom-cuon-rom.md: questions: {MIN_QUESTIONS - 1} example questions" in report
    assert f"cards/biogas/tinh-the-tich.md: questions: «{borrowed}» is also on biogas/bao-duong" in report
    assert "tips.yaml[0]: card: 'rom-ra/khong-co' does not resolve to a card" in report
    assert "intents.yaml[3]: id: unknown intent 'lac-de'" in report


# (summary, opening paragraph, repeats?)
OPENINGS = [
    ("Nạp phân tươi mỗi ngày, pha 1 phần phân với 1–3 phần nước.",
     "Mỗi ngày nạp phân tươi vào hầm, pha 1 phần phân với 1–3 phần nước. Không pha loãng hơn.", True),
    ("Tìm chỗ xì bằng nước xà phòng, không bao giờ dùng lửa.",
     "Khí biogas gần như không mùi, nên đừng chờ ngửi thấy mới kiểm tra.", False),
    ("Trời lạnh khí ra yếu: che hầm, nạp vào giờ ấm nhất.",
     "Trời lạnh khí ra yếu; che hầm và nạp vào giờ ấm nhất trong ngày là đủ.", True),
    ("Đệm cho gà mỏng hơn đệm cho lợn.", "Gà, vịt đi trên đệm nên đệm phải khô, tơi.", False),
]


@pytest.mark.parametrize(("summary", "opening", "repeats"), OPENINGS)
def test_a_near_copy_of_the_summary_is_caught(summary: str, opening: str, repeats: bool) -> None:
    assert (near_copy(summary, opening + "\n\n## Các bước\n- …") is not None) is repeats


def test_no_shipped_card_repeats_its_summary() -> None:
    for path in sorted(CARDS.rglob("*.md")):
        card, _ = parse_card(path, CARDS)
        assert card is not None and near_copy(card.summary, card.body) is None, path


def test_every_card_cites_sources_with_a_year_and_has_enough_questions() -> None:
    for path in sorted(CARDS.rglob("*.md")):
        card, problems = parse_card(path, CARDS)
        assert card is not None and not problems, (path, problems)
        assert all(1900 <= s.year <= 2026 for s in card.sources), path
        assert len(card.questions) >= MIN_QUESTIONS, path


def test_the_first_message_of_every_card_fits_a_phone(runtime) -> None:
    from bot.conversation.types import IncomingMessage

    for n, card_id in enumerate(runtime.services.library.cards):
        [reply] = runtime.handle(IncomingMessage(channel="web", user_id=f"phone-{n}", button=f"card:{card_id}"))
        assert len(reply.text) <= 900, (card_id, len(reply.text))
        assert reply.text.startswith("📗") and "Xem đầy đủ" in reply.text


def test_digester_safety_content_says_what_saves_lives() -> None:
    card, _ = parse_card(CARDS / "biogas/khi-doc-xuong-ham.md", CARDS)
    assert card is not None
    text = f"{card.summary}\n{card.body}"
    for must in ("CO₂", "oxy", "114", "115", "ép tim", "buộc dây", "lửa"):
        assert must in text, must
    assert "hô hấp nhân tạo" not in text


def test_the_critical_corrections_hold() -> None:
    urea, _ = parse_card(CARDS / "rom-ra/u-ure-cho-trau-bo.md", CARDS)
    pond, _ = parse_card(CARDS / "thuy-san/chuan-bi-ao.md", CARDS)
    assert urea is not None and pond is not None
    assert "6 tuần" in urea.summary and "khai" in urea.summary  # cold weather: weeks, open on the smell
    assert "7–10 kg cho 100 m²" in pond.summary and "3–3,5 tấn/ha" not in pond.body
    assert "CaCO₃" in pond.summary and "vôi sống" in pond.summary.lower()
