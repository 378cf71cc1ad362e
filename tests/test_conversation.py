"""Conversations as tables of (message in → replies out) through the real router and database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.conversation.types import IncomingMessage, MediaKind, Reply
from bot.runtime import create_runtime
from bot.storage.models import UnansweredQuestion


def say(rt, text=None, *, button=None, media=None, user="u1", channel="web") -> list[Reply]:
    return rt.handle(IncomingMessage(channel=channel, user_id=user, text=text, button=button, media=media))


def buttons(replies: list[Reply]) -> dict[str, str]:
    return {b.text: b.data for r in replies for row in r.buttons for b in row}


# (what the user sends, a text the replies must contain, a button payload the replies must offer)
TABLE = [
    (("/start", None), "Xin chào", "topic:biogas"),
    (("chào bạn", None), "Xin chào bác", "topic:dem-lot"),
    ((None, "topic:rom-ra"), "Rơm rạ", "card:rom-ra/u-ure-cho-trau-bo"),
    ((None, "card:rom-ra/u-ure-cho-trau-bo"), "4 kg urê", "officer"),
    (("u rom voi ure cho trau bo", None), "LƯU Ý AN TOÀN", "card:rom-ra/du-tru-rom-mua-dong"),
    (("cảm ơn nhiều", None), "Không có gì", "topic:biogas"),
    (("/help", None), "Cách dùng", "topic:thuy-san"),
    (("menu", None), "chọn một chủ đề", "topic:chung"),
    (("/lenhla", None), "chưa hiểu lệnh", "topic:biogas"),
    ((None, "khong-ton-tai:1"), "Nút này đã cũ", "topic:biogas"),
    ((None, "card:biogas/khong-co"), "không còn nữa", "topic:biogas"),
]


@pytest.mark.parametrize(("message", "expected_text", "expected_button"), TABLE)
def test_message_gets_the_expected_reply(runtime, message, expected_text, expected_button) -> None:
    text, button = message
    replies = say(runtime, text, button=button)
    joined = "\n".join(r.text for r in replies)
    assert expected_text in joined
    assert expected_button in buttons(replies).values()


def test_card_answer_has_title_answer_body_source_and_buttons(runtime) -> None:
    replies = say(runtime, "đệm lót nuôi gà thịt dày bao nhiêu")
    text = "\n".join(r.text for r in replies)
    assert "LÀM ĐỆM CHO GÀ, VỊT" in text
    assert "Nguồn:" in text and "Cập nhật:" in text
    offered = buttons(replies)
    assert any(d.startswith("card:") for d in offered.values())  # related cards
    assert "officer" in offered.values() and "menu" in offered.values()


def test_unknown_question_falls_back_and_is_logged(runtime) -> None:
    replies = say(runtime, "giá vàng hôm nay thế nào", user="farmer-9")
    assert "chưa có câu trả lời" in replies[0].text
    assert "officer" in buttons(replies).values()
    with runtime.sessions() as session:
        row = session.scalars(select(UnansweredQuestion)).one()
    assert (row.user_id, row.text, row.reason) == ("farmer-9", "giá vàng hôm nay thế nào", "no_match")
    assert row.created_at is not None


def test_officer_button_records_the_last_question(runtime) -> None:
    say(runtime, "giá vàng hôm nay thế nào")
    assert "Bác ở xã (phường) nào?" in say(runtime, button="officer")[0].text  # asked once
    replies = say(runtime, "huu lung")
    assert "giá vàng hôm nay thế nào" in replies[0].text
    with runtime.sessions() as session:
        reasons = sorted(r.reason for r in session.scalars(select(UnansweredQuestion)))
    assert reasons == ["no_match", "officer_requested"]


def test_ambiguous_question_offers_choices(runtime) -> None:
    index = runtime.services.index
    index_margin = index.margin
    index.margin = 1.0  # every candidate above the threshold counts as close
    try:
        replies = say(runtime, "hầm biogas ít khí mùa lạnh")
    finally:
        index.margin = index_margin
    assert "nội dung nào" in replies[0].text
    assert sum(d.startswith("card:") for d in buttons(replies).values()) >= 2


def test_media_gets_a_polite_reply(runtime) -> None:
    replies = say(runtime, media=MediaKind.PHOTO)
    assert "ảnh" in replies[0].text
    assert "officer" in buttons(replies).values()


def test_users_do_not_share_state(runtime) -> None:
    say(runtime, "/hoi", user="a")
    replies = say(runtime, "ủ rơm với urê cho trâu", user="b")
    assert "Ủ RƠM VỚI URÊ" in replies[0].text
    replies = say(runtime, "nuôi trùn quế", user="a")
    assert "NUÔI TRÙN QUẾ" in replies[0].text


def test_state_survives_a_restart(settings) -> None:
    first = create_runtime(settings)
    prompt = say(first, button="officer", user="restart-user")
    assert "gõ câu hỏi muốn gửi cán bộ" in prompt[0].text
    first.close()  # the process stops mid-conversation

    second = create_runtime(settings)
    try:
        assert "xã" in say(second, "con bò nhà tôi bỏ ăn hai ngày", user="restart-user")[0].text
        replies = say(second, "xã Hữu Lũng", user="restart-user")
        assert "con bò nhà tôi bỏ ăn hai ngày" in replies[0].text
        with second.sessions() as session:
            row = session.scalars(select(UnansweredQuestion)).one()
        assert row.reason == "officer_requested"
    finally:
        second.close()


def test_long_answers_are_split_under_the_limit(runtime) -> None:
    replies = say(runtime, "x" * 5000)
    assert all(len(r.text) <= 4000 for r in replies)
