"""Zalo OA: signed events in, customer-service messages out to a fake Zalo API on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from bot.app import create_app
from bot.runtime import create_runtime
from bot.settings import Settings
from bot.storage.db import unit_of_work, utcnow
from bot.storage.models import OAuthToken, ReplyWindow
from tests.fakes.server import serve, wait_for
from tests.fakes.zalo_api import APP_ID, APP_SECRET, OA_SECRET, FakeZalo, post_event, sign

USER = "zalo-user-1"


@pytest.fixture
def zalo(settings: Settings) -> Iterator[tuple[FakeZalo, Settings]]:
    fake = FakeZalo()
    with serve(fake.app()) as api:
        values = settings.model_dump()
        values.update(zalo_app_id=APP_ID, zalo_oa_secret_key=OA_SECRET, zalo_app_secret=APP_SECRET,
                      zalo_access_token="access-1", zalo_refresh_token="refresh-1", zalo_api_base_url=api,
                      zalo_oauth_url=f"{api}/v4/oa/access_token", public_url="https://bot.example.vn")
        yield fake, Settings(**values)


def test_a_signed_question_is_answered_with_template_buttons(zalo) -> None:
    fake, cfg = zalo
    with serve(create_app(cfg)) as url, httpx.Client() as client:
        r = post_event(client, url, fake.event(USER, "làm đệm lót cho lợn thịt thế nào"))
        assert r.status_code == 200
        wait_for(lambda: fake.to(USER))
        post_event(client, url, fake.event(USER, "máy tính bị virus phải làm sao"))
        wait_for(lambda: len(fake.to(USER)) >= 2)
    card = "\n".join(m["text"] for m in fake.to(USER)[:-1])
    assert "LÀM ĐỆM CHO LỢN" in card and "Bác trả lời bằng số:" in card  # 6 buttons: numbered
    assert all(len(m["text"]) <= 2000 for m in fake.to(USER))
    fallback = fake.to(USER)[-1]
    buttons = fallback["attachment"]["payload"]["buttons"]
    assert [b["payload"] for b in buttons] == ["#b:officer", "#b:menu"]
    assert all(b["type"] == "oa.query.hide" for b in buttons)


def test_button_payloads_and_numbered_choices_come_back_as_buttons(zalo) -> None:
    fake, cfg = zalo
    with serve(create_app(cfg)) as url, httpx.Client() as client:
        post_event(client, url, fake.event(USER, "/start"))
        wait_for(lambda: fake.to(USER))
        menu = fake.to(USER)[-1]
        # the menu has more buttons than a template allows: a numbered list instead
        assert "attachment" not in menu and "Bác trả lời bằng số:" in menu["text"]
        assert "1. Khí sinh học (biogas)" in menu["text"]
        post_event(client, url, fake.event(USER, "1"))
        wait_for(lambda: len(fake.to(USER)) >= 2)
        assert "Bác chọn nội dung muốn xem" in fake.to(USER)[-1]["text"]
        post_event(client, url, fake.event(USER, "#b:card:biogas/it-khi"))
        wait_for(lambda: any("HẦM ÍT KHÍ" in m["text"] for m in fake.to(USER)))


def test_bad_signature_401_and_malformed_400(zalo) -> None:
    fake, cfg = zalo
    with serve(create_app(cfg)) as url, httpx.Client() as client:
        assert post_event(client, url, fake.event(USER, "chào"), good_signature=False).status_code == 401
        r = client.post(f"{url}/zalo/webhook", content=b"not json", headers={"X-ZEvent-Signature": "mac=x"})
        assert r.status_code == 401  # the signature is checked on the raw body, before it is parsed
        r = client.post(f"{url}/zalo/webhook", json={"event_name": "user_send_text"})
        assert r.status_code == 401
        timestamp = str(int(time.time() * 1000))  # signed, but nested 100,000 deep
        nested = b'{"timestamp": "' + timestamp.encode() + b'", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        r = client.post(f"{url}/zalo/webhook", content=nested, headers={"X-ZEvent-Signature": sign(nested, timestamp)})
        assert r.status_code == 400 and b"[[" not in r.content
        unsigned = client.post(f"{url}/zalo/webhook", content=nested, headers={"X-ZEvent-Signature": "mac=0"})
        assert unsigned.status_code == 401
        time.sleep(0.3)
    assert fake.messages == []


def test_replayed_and_duplicate_events_are_ignored(zalo) -> None:
    fake, cfg = zalo
    old = fake.event(USER, "cá nổi đầu", timestamp_ms=int((time.time() - 3600) * 1000))
    with serve(create_app(cfg)) as url, httpx.Client() as client:
        r = post_event(client, url, old)
        assert r.status_code == 200 and r.json()["ignored"] == "stale timestamp"
        event = fake.event(USER, "cá nổi đầu lúc sáng", msg_id="dup-1")
        post_event(client, url, event)
        post_event(client, url, event)  # Zalo delivered it twice
        wait_for(lambda: fake.to(USER))
        post_event(client, url, fake.event(USER, "/help"))
        wait_for(lambda: any("Cách dùng" in m["text"] for m in fake.to(USER)))
    answers = [m for m in fake.to(USER) if "CÁ, TÔM NỔI ĐẦU" in m["text"]]
    assert len(answers) == 1


def test_expired_token_is_refreshed_once_and_the_pair_stored(zalo) -> None:
    fake, cfg = zalo
    fake.expire()  # Zalo now refuses access-1 with -216
    fake.access_token = "access-1-expired"
    with serve(create_app(cfg)) as url, httpx.Client() as client:
        for i in range(3):
            post_event(client, url, fake.event(f"u{i}", "ủ rơm với urê"))
        wait_for(lambda: all(fake.to(f"u{i}") for i in range(3)))
    assert len(fake.refreshes) == 1  # one refresher for three senders
    assert fake.refreshes[0]["refresh_token"] == "refresh-1" and fake.refreshes[0]["secret_key"] == APP_SECRET
    rt = create_runtime(cfg)
    try:
        with rt.sessions() as s:
            row = s.get(OAuthToken, "zalo")
            assert (row.access_token, row.refresh_token) == (fake.access_token, fake.refresh_token)
    finally:
        rt.close()


def test_media_events_get_a_polite_reply(zalo) -> None:
    fake, cfg = zalo
    attachments = [{"type": "image", "payload": {"url": "https://zalo.example/img.jpg", "thumbnail": "t"}}]
    with serve(create_app(cfg)) as url, httpx.Client() as client:
        post_event(client, url, fake.event(USER, None, name="user_send_image", attachments=attachments))
        wait_for(lambda: fake.to(USER))
    assert "ảnh" in fake.to(USER)[0]["text"]


def test_nothing_is_sent_past_the_free_reply_window(zalo) -> None:
    from bot.channels.zalo import ZaloChannel
    from bot.conversation.types import Reply

    fake, cfg = zalo
    with serve(create_app(cfg)) as url, httpx.Client() as client:
        post_event(client, url, fake.event(USER, "chào"))
        wait_for(lambda: fake.to(USER))
    rt = create_runtime(cfg)

    async def reminders() -> tuple[int, int]:
        channel = ZaloChannel(rt, cfg)
        try:
            with unit_of_work(rt.sessions) as s:  # 49 hours have passed since the user wrote
                s.get(ReplyWindow, ("zalo", USER)).last_inbound_at = utcnow() - timedelta(hours=49)
            outside = await channel.send(USER, [Reply("Nhắc hạn báo cáo")])
            with unit_of_work(rt.sessions) as s:  # a fresh window with 7 of 8 free messages used
                row = s.get(ReplyWindow, ("zalo", USER))
                row.last_inbound_at, row.sent_since = utcnow(), 7
            inside = await channel.send(USER, [Reply("một"), Reply("hai")])
            return outside, inside
        finally:
            await channel.stop()

    try:
        assert asyncio.run(reminders()) == (0, 1)
    finally:
        rt.close()
    texts = [m["text"] for m in fake.to(USER)]
    assert texts[-1] == "một" and "hai" not in texts and "Nhắc hạn báo cáo" not in texts


def test_two_processes_share_one_refresh_of_the_single_use_token(zalo) -> None:
    """Two workers behind a proxy meet the expired token at once: Zalo sees one refresh."""
    from bot.channels.zalo import ZaloChannel
    from bot.conversation.types import Reply
    from bot.storage.models import ReplyWindow as Window

    fake, cfg = zalo
    fake.expire()
    rt = create_runtime(cfg)
    try:
        with unit_of_work(rt.sessions) as s:
            for user in ("a", "b"):
                s.add(Window(channel="zalo", user_id=user, last_inbound_at=utcnow(), sent_since=0))

        async def both() -> list[int]:
            first, second = ZaloChannel(rt, cfg), ZaloChannel(rt, cfg)  # each has its own in-process lock
            try:
                return list(await asyncio.gather(first.send("a", [Reply("một")]), second.send("b", [Reply("hai")])))
            finally:
                await first.stop()
                await second.stop()

        assert asyncio.run(both()) == [1, 1]
    finally:
        rt.close()
    assert [r["refresh_token"] for r in fake.refreshes] == ["refresh-1"]
    assert [m["text"] for m in fake.to("a")] == ["một"] and [m["text"] for m in fake.to("b")] == ["hai"]


def test_refused_refresh_token_holds_messages_until_an_admin_stores_a_new_pair(zalo, tmp_path) -> None:
    from bot.cli import main

    fake, cfg = zalo
    fake.expire()
    fake.refresh_token = "refresh-already-spent"  # Zalo will refuse refresh-1
    with serve(create_app(cfg)) as url, httpx.Client() as client:
        post_event(client, url, fake.event(USER, "ủ rơm với urê"))
        wait_for(lambda: client.get(f"{url}/healthz").json()["zalo"] == "needs_reauth")
        health = client.get(f"{url}/healthz")
        assert health.status_code == 200 and health.json()["status"] == "degraded"
        post_event(client, url, fake.event(USER, "cá nổi đầu"))  # a second question meanwhile
        time.sleep(1.0)
        assert fake.to(USER) == [] and len(fake.refreshes) == 1  # held; Zalo is not asked again and again
        assert main(["--database-url", cfg.database_url, "zalo", "status"]) == 1
        access, refresh = fake.authorise_again()
        assert main(["--database-url", cfg.database_url, "zalo", "token", "--access-token", access,
                     "--refresh-token", refresh]) == 0
        wait_for(lambda: len(fake.to(USER)) >= 2, timeout=30)
        time.sleep(1.0)
        assert client.get(f"{url}/healthz").json()["zalo"] == "ok"
    texts = [m["text"] for m in fake.to(USER)]
    assert any("Ủ RƠM VỚI URÊ" in t for t in texts) and any("CÁ NỔI ĐẦU" in t.upper() for t in texts)
    assert len(texts) == len(set(texts))
    assert main(["--database-url", cfg.database_url, "zalo", "status"]) == 0


def test_typed_digits_at_a_numeric_question_are_the_answer_not_a_listed_button(zalo) -> None:
    from reporting import people
    from tests.builders import HUU_LUNG

    fake, cfg = zalo
    app = create_app(cfg)
    with unit_of_work(app.state.runtime.sessions) as s:
        code = people.format_code(people.create_invite(s, role=people.EXTENSION_OFFICER, commune_code=HUU_LUNG,
                                                       now=utcnow()).code)
    with serve(app) as url, httpx.Client() as client:
        def say(text: str, count: int) -> str:
            post_event(client, url, fake.event(USER, text))
            wait_for(lambda: len(fake.to(USER)) >= count)
            return fake.to(USER)[-1]["text"]

        assert "Đăng ký thành công" in say(code, 1)
        periods = say("#b:rpt:form:commune", 2)
        assert "Bác trả lời bằng số:" in periods and "\n1. 6 tháng " in periods and "\n2. 6 tháng " in periods
        assert "Câu 1/17" in say("1", 3)  # «1» picked the listed period
        assert "Câu 2/17" in say("2", 4)  # at the question «2» is the answer, not the second period
    with app.state.runtime.sessions() as s:
        from sqlalchemy import select

        from reporting.models import Report
        assert s.scalars(select(Report)).one().values == {"households_applying": 2}
