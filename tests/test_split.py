from bot.conversation.split import split_reply, split_text
from bot.conversation.types import Button, Reply


def test_short_text_is_one_message() -> None:
    assert split_text("ngắn") == ["ngắn"]


def test_long_text_splits_between_paragraphs_under_the_limit() -> None:
    paragraphs = [f"Đoạn {i}: " + " ".join(["chữ"] * 300) for i in range(12)]
    text = "\n\n".join(paragraphs)
    parts = split_text(text, limit=4000)
    assert len(parts) > 1
    assert all(len(p) <= 4000 for p in parts)
    # no paragraph is cut in two: each part is whole paragraphs
    assert all(p.split("\n\n")[0].startswith("Đoạn") for p in parts)
    assert "\n\n".join(parts) == text.strip()


def test_one_huge_paragraph_is_cut_at_words() -> None:
    text = "từ " * 3000
    parts = split_text(text, limit=4000)
    assert all(len(p) <= 4000 for p in parts)
    assert " ".join(parts).split() == text.split()


def test_buttons_stay_on_the_last_part() -> None:
    reply = Reply(text="\n\n".join(["a" * 3000] * 3), buttons=((Button("Menu", "menu"),),))
    parts = split_reply(reply)
    assert len(parts) == 3
    assert [bool(p.buttons) for p in parts] == [False, False, True]
