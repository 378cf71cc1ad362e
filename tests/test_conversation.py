"""Conversations as tables of (message in → replies out) through the real router and database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.conversation.types import IncomingMessage, MediaKind, Reply
from bot.knowledge.decision import Thresholds
from bot.runtime import create_runtime
from bot.storage.db import unit_of_work
from bot.storage.models import HandoverRequest, UnansweredQuestion


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
    (("u rom voi ure cho trau bo", None), "⚠️ Trâu bò chảy dãi", "card:rom-ra/du-tru-rom-mua-dong"),
    ((None, "full:rom-ra/u-ure-cho-trau-bo"), "Nguồn:", "fb:down:rom-ra/u-ure-cho-trau-bo"),
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


def test_card_answer_fits_a_phone_and_the_rest_is_one_tap_away(runtime) -> None:
    replies = say(runtime, "đệm lót nuôi gà thịt dày bao nhiêu")
    text = "\n".join(r.text for r in replies)
    assert "LÀM ĐỆM CHO GÀ, VỊT" in text
    assert len(text) <= 900 and "Nguồn:" not in text  # the short answer; sources on the full view
    offered = buttons(replies)
    assert offered["📖 Xem đầy đủ"] == "full:dem-lot/lam-dem-ga"
    assert any(d.startswith("card:") for d in offered.values())  # related cards
    assert "officer" in offered.values() and "menu" in offered.values()
    full = "\n".join(r.text for r in say(runtime, button="full:dem-lot/lam-dem-ga"))
    assert "Nguồn:" in full and "Cập nhật:" in full and "ĐẦY ĐỦ" in full
    assert "cán bộ khuyến nông" in full.lower()


def test_a_safety_card_shows_its_safety_line_first(runtime) -> None:
    text = say(runtime, button="card:biogas/khi-doc-xuong-ham")[0].text
    assert "⚠️" in text and "114" in text and "115" in text


def test_unknown_question_falls_back_and_is_logged(runtime) -> None:
    replies = say(runtime, "máy tính bị virus phải làm sao", user="farmer-9")
    assert "chưa có câu trả lời" in replies[0].text
    assert "officer" in buttons(replies).values()
    with runtime.sessions() as session:
        row = session.scalars(select(UnansweredQuestion)).one()
    assert (row.user_id, row.text, row.reason) == ("farmer-9", "máy tính bị virus phải làm sao", "no_match")
    assert row.created_at is not None


def test_officer_button_records_the_last_question(runtime) -> None:
    say(runtime, "máy tính bị virus phải làm sao")
    assert "Bác ở xã (phường) nào?" in say(runtime, button="officer")[0].text  # asked once
    replies = say(runtime, "huu lung")
    assert "máy tính bị virus phải làm sao" in replies[0].text
    with runtime.sessions() as session:
        reasons = sorted(r.reason for r in session.scalars(select(UnansweredQuestion)))
    assert reasons == ["no_match", "officer_requested"]


def test_a_grey_zone_question_asks_which_card_is_meant(runtime) -> None:
    index = runtime.services.index.current
    fitted = index.thresholds
    index.thresholds = Thresholds(answer=99.0, margin=fitted.margin, offer=fitted.offer)  # never sure enough
    try:
        replies = say(runtime, "hầm biogas ít khí mùa lạnh", user="grey")
    finally:
        index.thresholds = fitted
    assert "Có phải bác muốn hỏi" in replies[0].text
    offered = [d for d in buttons(replies).values() if d.startswith("card:")]
    assert 2 <= len(offered) <= 3 and "card:biogas/mua-dong" in offered
    assert buttons(replies)["🙋 Không phải — hỏi cán bộ"] == "officer"
    with runtime.sessions() as session:
        assert session.scalars(select(UnansweredQuestion.reason)).one() == "offered"
    # «Không phải — hỏi cán bộ» hands this very question to the officers
    assert "Bác ở xã (phường) nào?" in say(runtime, button="officer", user="grey")[0].text
    assert "hầm biogas ít khí mùa lạnh" in say(runtime, "huu lung", user="grey")[0].text


# (message, a text the reply must contain, a text it must not contain, a button it must offer)
NOT_CARD_QUESTIONS = [
    ("muốn gặp cán bộ khuyến nông", "xã (phường) nào", "📗", None),
    ("cho xin số điện thoại cán bộ xã", "xã (phường) nào", "📗", None),
    ("chó nhà tôi bị ghẻ, gãi suốt", "thú y", "115", "officer"),
    ("lon nai de kho tu sang", "thú y", "115", "officer"),
    ("chồng tôi ngất dưới hầm biogas", "114", "📗", "card:biogas/khi-doc-xuong-ham"),
    ("cho tôi vay tiền", "vay vốn", "📗", "topic:biogas"),
    ("giá lúa hôm nay bao nhiêu", "giá cả", "📗", "topic:thuy-san"),
    ("mai troi co mua ko", "thời tiết", "📗", "topic:rom-ra"),
]


@pytest.mark.parametrize(("message", "must", "must_not", "button"), NOT_CARD_QUESTIONS)
def test_messages_that_are_not_card_questions_get_their_own_answer(runtime, message, must, must_not, button) -> None:
    replies = say(runtime, message, user="not-a-card")
    text = "\n".join(r.text for r in replies)
    assert must in text and must_not not in text
    if button:
        assert button in buttons(replies).values()
    assert not any(d.startswith("full:") for d in buttons(replies).values())  # no card answer


def test_an_emergency_says_115_and_114_and_nobody_goes_down(runtime) -> None:
    text = say(runtime, "cuu voi, co nguoi nga guc duoi ham biogas")[0].text
    assert "115" in text and "114" in text and "KHÔNG ai xuống cứu" in text


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


def test_every_button_of_every_card_fits_telegram(runtime) -> None:
    """Telegram refuses callback data over 64 bytes: a card whose buttons do not fit would fail
    on Telegram only. Every card, short and full, is opened here and its buttons measured."""
    for card_id in runtime.services.library.cards:
        user = f"reader-{card_id}"  # one reader a card: the flood limit is per person
        for view in ("card", "full"):
            replies = say(runtime, button=f"{view}:{card_id}", user=user)
            data = [b.data for r in replies for row in r.buttons for b in row]
            assert data and all(len(d.encode()) <= 64 for d in data), card_id


@pytest.mark.parametrize("forged", ["ho:rate:{id}:maybe", "ho:rate:{id}", "ho:rate:x{id}:up", "ho:rate:²:up"])
def test_a_forged_rating_button_changes_nothing(runtime, forged) -> None:
    """The farmer's «Hữu ích» is ``ho:rate:<id>:up``; any other shape is an old or forged button."""
    with unit_of_work(runtime.sessions) as s:
        request = HandoverRequest(channel="web", user_id="u1", commune_code=None, province_code=None,
                                  question="lợn bỏ ăn", state="answered", answer="gọi thú y")
        s.add(request)
        s.flush()
        request_id = request.id
    replies = say(runtime, button=forged.format(id=request_id))
    assert "Nút này đã cũ" in replies[0].text
    with runtime.sessions() as s:
        assert s.get(HandoverRequest, request_id).rating is None
    assert "Cảm ơn bác đã đánh giá" in say(runtime, button=f"ho:rate:{request_id}:up")[0].text
    assert "Nút này đã cũ" in say(runtime, button=f"ho:rate:{request_id}:up", user="someone-else")[0].text
    with runtime.sessions() as s:
        assert s.get(HandoverRequest, request_id).rating == 1
