"""The real python-telegram-bot client against a local fake Bot API server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.settings import Settings
from bot.storage.models import ChatUser, MediaMessage, UnansweredQuestion
from tests.fakes.server import serve, wait_for
from tests.fakes.telegram_api import FakeTelegram

SECRET = "s3cret-token-for-tests"
CHAT = 5550001


@pytest.fixture
def fake() -> Iterator[tuple[FakeTelegram, str]]:
    tg = FakeTelegram()
    with serve(tg.app()) as url:
        yield tg, url


def tg_settings(settings: Settings, api_url: str, **extra: object) -> Settings:
    values = settings.model_dump()
    values.update(
        telegram_bot_token=FakeTelegram.token, telegram_api_base_url=api_url,
        telegram_rate_per_chat=50.0, **extra,
    )
    return Settings(**values)


@contextmanager
def agribot(settings: Settings) -> Iterator[str]:
    with serve(create_app(settings)) as url:
        yield url


def texts(tg: FakeTelegram, chat: int = CHAT) -> list[str]:
    return [c.params["text"] for c in tg.sent(chat)]


def test_polling_answers_a_question_and_sets_the_command_menu(settings, fake) -> None:
    tg, api = fake
    with agribot(tg_settings(settings, api)):
        tg.queue(tg.text_update(CHAT, "bếp biogas nhà tôi lửa yếu quá"))
        wait_for(lambda: tg.sent(CHAT))
    answer = texts(tg)[0]
    assert answer.startswith("<b>📗 HẦM ÍT KHÍ")
    commands = tg.sent(method="setMyCommands")[0].params["commands"]
    assert {c["command"] for c in commands} == {"start", "menu", "hoi", "help"}
    assert all(c["description"] for c in commands)
    assert "sendChatAction" in tg.methods()  # "typing…" while answering
    markup = tg.sent(CHAT)[0].params["reply_markup"]
    datas = [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
    assert "officer" in datas and all(len(d.encode()) <= 64 for d in datas)


def test_browsing_with_buttons_answers_every_callback(settings, fake) -> None:
    tg, api = fake
    with agribot(tg_settings(settings, api)):
        tg.queue(tg.text_update(CHAT, "/start"))
        wait_for(lambda: len(tg.sent(CHAT)) == 1)
        tg.queue(tg.callback_update(CHAT, "topic:dem-lot"))
        wait_for(lambda: len(tg.sent(CHAT)) == 2)
        tg.queue(tg.callback_update(CHAT, "card:dem-lot/lam-dem-lon"))
        wait_for(lambda: len(tg.sent(CHAT)) == 3)
    assert "Xin chào" in texts(tg)[0]
    topic_buttons = [b["callback_data"] for row in tg.sent(CHAT)[1].params["reply_markup"]["inline_keyboard"]
                     for b in row]
    assert "card:dem-lot/lam-dem-lon" in topic_buttons
    assert "LÀM ĐỆM CHO LỢN" in texts(tg)[2]
    assert len(tg.sent(method="answerCallbackQuery")) == 2


def test_user_text_is_escaped_in_html(settings, fake) -> None:
    tg, api = fake
    with agribot(tg_settings(settings, api)):
        tg.queue(tg.callback_update(CHAT, "officer"))
        wait_for(lambda: len(tg.sent(CHAT)) == 1)
        tg.queue(tg.text_update(CHAT, "hầm <b>nổ</b> & cháy?"))
        wait_for(lambda: len(tg.sent(CHAT)) == 2)
        tg.queue(tg.text_update(CHAT, "huu lung"))
        wait_for(lambda: len(tg.sent(CHAT)) == 3)
    assert "hầm &lt;b&gt;nổ&lt;/b&gt; &amp; cháy?" in texts(tg)[2]
    assert tg.sent(CHAT)[2].params["parse_mode"] == "HTML"


def test_webhook_mode_answers_once_per_update_id(settings, fake) -> None:
    tg, api = fake
    cfg = tg_settings(settings, api, telegram_webhook_url="https://example.invalid/telegram/webhook",
                      telegram_webhook_secret=SECRET)
    with agribot(cfg) as url:
        hook = tg.sent(method="setWebhook")[0].params
        assert hook["url"] == "https://example.invalid/telegram/webhook"
        assert hook["secret_token"] == SECRET
        update = tg.text_update(CHAT, "cá nổi đầu lúc gần sáng")
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        first = httpx.post(f"{url}/telegram/webhook", json=update, headers=headers)
        again = httpx.post(f"{url}/telegram/webhook", json=update, headers=headers)  # Telegram retried
        assert first.status_code == again.status_code == 200
        wait_for(lambda: tg.sent(CHAT))
        # the duplicate had time to be processed too: still one answer
        httpx.post(f"{url}/telegram/webhook", json=tg.text_update(CHAT + 1, "/help"), headers=headers)
        wait_for(lambda: tg.sent(CHAT + 1))
    assert len(tg.sent(CHAT)) == 1
    assert "CÁ, TÔM NỔI ĐẦU" in texts(tg)[0]


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, {"update_id": 1}, 401),
        ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {"update_id": 1}, 401),
        ({"X-Telegram-Bot-Api-Secret-Token": SECRET}, "not json", 400),
        ({"X-Telegram-Bot-Api-Secret-Token": SECRET}, {"no_update_id": True}, 400),
        ({"X-Telegram-Bot-Api-Secret-Token": SECRET}, {"update_id": 5, "message": {"bad": 1}}, 400),
    ],
)
def test_bad_webhook_calls_get_4xx(settings, fake, headers, body, status) -> None:
    _tg, api = fake
    cfg = tg_settings(settings, api, telegram_webhook_url="https://example.invalid/telegram/webhook",
                      telegram_webhook_secret=SECRET)
    with agribot(cfg) as url:
        if isinstance(body, str):
            r = httpx.post(f"{url}/telegram/webhook", content=body.encode(),
                           headers={**headers, "content-type": "application/json"})
        else:
            r = httpx.post(f"{url}/telegram/webhook", json=body, headers=headers)
    assert r.status_code == status


def test_a_429_is_waited_out_and_the_message_sent_once(settings, fake) -> None:
    tg, api = fake
    tg.failures["sendMessage"] = [(429, 1)]
    with agribot(tg_settings(settings, api)):
        tg.queue(tg.text_update(CHAT, "/menu"))
        wait_for(lambda: len(tg.sent(CHAT)) == 2)  # the refused try and the retry
    refused, delivered = tg.sent(CHAT)
    assert delivered.at - refused.at >= 1.0
    assert refused.params["text"] == delivered.params["text"]


def test_5xx_is_retried_without_duplicates(settings, fake) -> None:
    tg, api = fake
    tg.failures["sendMessage"] = [(502, None), (500, None)]
    with agribot(tg_settings(settings, api)):
        tg.queue(tg.text_update(CHAT, "/help"))
        wait_for(lambda: len(tg.sent(CHAT)) == 3)
    assert len({c.params["text"] for c in tg.sent(CHAT)}) == 1


def test_sends_to_one_chat_are_spaced_one_per_second(settings, fake) -> None:
    tg, api = fake
    cfg = tg_settings(settings, api)
    cfg = Settings(**{**cfg.model_dump(), "telegram_rate_per_chat": 1.0})
    with agribot(cfg):
        for text in ("/menu", "/help", "chào"):
            tg.queue(tg.text_update(CHAT, text))
        wait_for(lambda: len(tg.sent(CHAT)) == 3)
    times = [c.at for c in tg.sent(CHAT)]
    assert times[1] - times[0] >= 0.9 and times[2] - times[1] >= 0.9


def test_a_user_who_blocked_the_bot_is_marked_inactive(settings, fake) -> None:
    tg, api = fake
    tg.blocked_chats.add(CHAT)
    cfg = tg_settings(settings, api)
    with agribot(cfg):
        tg.queue(tg.text_update(CHAT, "/start"))
        wait_for(lambda: tg.sent(CHAT))
        from bot.runtime import create_runtime

        rt = create_runtime(cfg)
        try:
            def inactive() -> bool:
                with rt.sessions() as s:
                    user = s.get(ChatUser, ("telegram", str(CHAT)))
                    return user is not None and not user.active
            wait_for(inactive)
        finally:
            rt.close()


def test_media_gets_a_polite_reply_and_is_kept_and_edits_are_ignored(settings, fake) -> None:
    tg, api = fake
    cfg = tg_settings(settings, api)
    with agribot(cfg):
        tg.queue(tg.media_update(CHAT, "photo"))
        wait_for(lambda: len(tg.sent(CHAT)) == 1)
        tg.queue(tg.media_update(CHAT, "location"))
        wait_for(lambda: len(tg.sent(CHAT)) == 2)
        edited = tg.text_update(CHAT, "sửa lại tin")
        edited["edited_message"] = {**edited.pop("message"), "edit_date": 1}
        tg.queue(edited)
        tg.queue(tg.text_update(CHAT, "/help"))
        wait_for(lambda: len(tg.sent(CHAT)) == 3)
    assert "ảnh" in texts(tg)[0] and "vị trí" in texts(tg)[1]
    assert "Cách dùng" in texts(tg)[2]  # the edit produced no reply
    from bot.runtime import create_runtime

    rt = create_runtime(cfg)
    try:
        with rt.sessions() as s:
            kept = [(m.kind, m.ref) for m in s.scalars(select(MediaMessage))]
    finally:
        rt.close()
    assert kept == [("photo", "photo-big"), ("location", "21.85,106.76")]


def test_restart_in_the_middle_of_a_conversation(settings, fake) -> None:
    tg, api = fake
    cfg = tg_settings(settings, api)
    with agribot(cfg):
        tg.queue(tg.callback_update(CHAT, "officer"))
        wait_for(lambda: len(tg.sent(CHAT)) == 1)
    assert "gõ câu hỏi muốn gửi cán bộ" in texts(tg)[0]
    # the service restarts; the old button and the pending step still work
    with agribot(cfg):
        tg.queue(tg.text_update(CHAT, "bò nhà tôi bị chướng bụng"))
        wait_for(lambda: len(tg.sent(CHAT)) == 2)
        tg.queue(tg.text_update(CHAT, "huu lung"))
        wait_for(lambda: len(tg.sent(CHAT)) == 3)
        tg.queue(tg.callback_update(CHAT, "card:biogas/it-khi"))
        wait_for(lambda: len(tg.sent(CHAT)) == 4)
    assert "bò nhà tôi bị chướng bụng" in texts(tg)[2]
    assert "HẦM ÍT KHÍ" in texts(tg)[3]
    from bot.runtime import create_runtime

    rt = create_runtime(cfg)
    try:
        with rt.sessions() as s:
            reasons = [q.reason for q in s.scalars(select(UnansweredQuestion))]
    finally:
        rt.close()
    assert reasons == ["officer_requested"]


def test_an_update_delivered_again_after_a_restart_is_not_answered_twice(settings, fake) -> None:
    tg, api = fake
    cfg = tg_settings(settings, api)
    update = tg.text_update(CHAT, "nuôi trùn quế bằng phân bò")
    with agribot(cfg):
        tg.queue(update)
        wait_for(lambda: len(tg.sent(CHAT)) == 1)
    with agribot(cfg):
        tg.queue(update)  # Telegram hands the unconfirmed update out again
        tg.queue(tg.text_update(CHAT, "/help"))
        wait_for(lambda: len(tg.sent(CHAT)) == 2)
    assert "NUÔI TRÙN QUẾ" in texts(tg)[0]
    assert "Cách dùng" in texts(tg)[1]


def test_an_official_gets_the_chart_and_workbook_as_files(settings, fake, tmp_path) -> None:
    from bot.runtime import create_runtime
    from bot.storage.db import unit_of_work
    from reporting import demo, people
    from tests.test_indicator_outputs import NOW

    tg, api = fake
    cfg = tg_settings(settings, api, files_dir=tmp_path / "files")
    rt = create_runtime(cfg)
    try:
        with unit_of_work(rt.sessions) as session:
            demo.seed(session, now=NOW)
            code = people.create_invite(session, role=people.PROVINCIAL_OFFICIAL, province_code=20, now=NOW).code
    finally:
        rt.close()
    with agribot(cfg):
        tg.queue(tg.text_update(CHAT, f"/start {code}"))
        wait_for(lambda: len(tg.sent(CHAT)) == 1)
        tg.queue(tg.callback_update(CHAT, "ind:show:ls-ktth-nn-2030:2025"))
        wait_for(lambda: tg.sent(CHAT, "sendDocument"))
        tg.queue(tg.callback_update(CHAT, "ind:chart:ls-ktth-nn-2030:2025:0"))  # the 1st indicator's charts
        wait_for(lambda: tg.sent(CHAT, "sendPhoto"))
    assert "Đăng ký thành công" in texts(tg)[0]
    assert "📊" in texts(tg)[1]
    photo = tg.sent(CHAT, "sendPhoto")[0].params
    document = tg.sent(CHAT, "sendDocument")[0].params
    assert photo["photo"].endswith(".png") and document["document"].endswith(".xlsx")


def test_deeply_nested_json_gets_400_without_an_echo(settings, fake) -> None:
    _tg, api = fake
    cfg = tg_settings(settings, api, telegram_webhook_url="https://example.invalid/telegram/webhook",
                      telegram_webhook_secret=SECRET)
    nested = b'{"update_id": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with agribot(cfg) as url:
        r = httpx.post(f"{url}/telegram/webhook", content=nested,
                       headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "content-type": "application/json"})
        assert r.status_code == 400 and b"[[" not in r.content
        # the secret is checked first: without it, the same body is refused unread
        assert httpx.post(f"{url}/telegram/webhook", content=nested).status_code == 401
