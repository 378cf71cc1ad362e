"""No 500 from input (both databases), capped bodies, 413/422 that never echo, and /metrics."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.app import create_app
from bot.conversation import state
from bot.conversation.clean import BadInput
from bot.conversation.types import IncomingMessage, Reply
from bot.runtime import Runtime
from bot.sending import delivery
from bot.settings import Settings
from bot.storage import migrate
from bot.storage.db import make_engine, unit_of_work, utcnow
from bot.storage.models import ChatUser, ConversationState
from tests.fakes.server import serve

SECRET = "ZZ-SECRET-INPUT-ZZ"


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Runtime]]:
    app = create_app(Settings(database_url=database_url, files_dir=tmp_path / "files", scheduler_enabled=False,
                              max_body_bytes=64 * 1024))
    with serve(app) as url:
        yield url, app.state.runtime


def _post(url: str, body: object, client: httpx.Client | None = None) -> httpx.Response:
    """JSON as a client may send it: lone surrogates as \\u escapes (ensure_ascii). A new
    browser each time unless ``client`` (which keeps the chat cookie) is given."""
    return (client or httpx).post(url, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


def test_nul_and_controls_in_text_and_names_are_stripped(service) -> None:
    url, rt = service
    with httpx.Client() as browser:
        for text in ("bep biogas lua yeu\x00", "\x00\x01\x1b[31m hầm biogas ít khí \x7f"):
            r = _post(f"{url}/api/chat", {"text": text, "name": "Nam\x00\x07"}, browser)
            assert r.status_code == 200 and r.json()["replies"]
    with rt.sessions() as s:
        assert [u.display_name for u in s.scalars(select(ChatUser).where(ChatUser.channel == "web"))] == ["Nam"]


def test_a_lone_surrogate_in_json_is_stripped_and_the_message_answered(service) -> None:
    url, rt = service
    r = _post(f"{url}/api/chat", {"text": "bep biogas lua yeu\ud800", "name": "Bà\udfff Tư"})
    assert r.status_code == 200 and r.json()["replies"] and "\\ud800" not in r.text
    with rt.sessions() as s:
        assert [u.display_name for u in s.scalars(select(ChatUser).where(ChatUser.channel == "web"))] == ["Bà Tư"]


def test_surrogates_from_any_channel_are_stripped_before_the_database(runtime: Runtime) -> None:
    """Telegram's and Zalo's JSON parsers accept lone surrogates: the conversation layer strips them."""
    for channel in ("telegram", "zalo", "console"):
        replies = runtime.handle(IncomingMessage(channel=channel, user_id="77", text="bep biogas\ud800 lua yeu\x00",
                                                 display_name="Bà\udfff Tư\x00"))
        assert replies
        with runtime.sessions() as s:
            assert s.get(ChatUser, (channel, "77")).display_name == "Bà Tư"


@pytest.mark.parametrize("user", ["tg\x00user", "tg\ud800user", "tab\there"])
def test_an_unusable_user_id_is_refused_and_stores_nothing(runtime: Runtime, user: str) -> None:
    """A platform's user id is never changed to fit: refused (the web chat makes its own ids)."""
    with pytest.raises(BadInput):
        runtime.handle(IncomingMessage(channel="telegram", user_id=user, text="chào"))
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ChatUser)) == 0


def test_a_nul_in_a_query_string_is_refused(service) -> None:
    url, _ = service
    r = httpx.get(f"{url}/api/chat/updates", params={"since": "a\x00" + SECRET})
    assert r.status_code == 400 and SECRET not in r.text


def test_validation_errors_do_not_echo_the_input(service) -> None:
    url, _ = service
    r = httpx.post(f"{url}/api/chat", json={"text": 5, SECRET: SECRET * 10})
    assert r.status_code == 422
    assert SECRET * 2 not in r.text and '"input"' not in r.text
    assert {tuple(e["loc"])[:2] for e in r.json()["detail"]} >= {("body", "text")}
    assert {e["msg"] for e in r.json()["detail"]} == {"Phải là một chuỗi chữ.", "Không nhận trường này."}


def test_bodies_over_the_cap_get_413_without_echo(service) -> None:
    url, _ = service
    big = {"text": SECRET * 10_000}  # ~190 KB, over the 64 KB cap
    r = httpx.post(f"{url}/api/chat", json=big)
    assert r.status_code == 413 and SECRET not in r.text and len(r.content) < 200

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        yield b'{"text": "'
        for _ in range(100):
            yield SECRET.encode() * 100
        yield b'"}'

    r = httpx.post(f"{url}/api/chat", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and SECRET not in r.text
    r = httpx.post(f"{url}/api/chat", json={"text": "bep biogas lua yeu"})
    assert r.status_code == 200  # a normal message still goes through


def test_two_simultaneous_first_messages_of_a_new_user(runtime: Runtime) -> None:
    problems: list[BaseException] = []
    for pair in range(15):
        user = f"new-{pair}"
        barrier = threading.Barrier(2)

        def first(text: str, user: str = user, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                replies = runtime.handle(IncomingMessage(channel="web", user_id=user, text=text))
                assert replies
            except BaseException as exc:
                problems.append(exc)

        threads = [threading.Thread(target=first, args=(t,)) for t in ("chào", "bep biogas lua yeu")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert problems == []
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ChatUser)) == 15
        assert s.scalar(select(func.count()).select_from(ConversationState)) == 15


def _samples(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    r = httpx.get(f"{url}/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def test_metrics_in_prometheus_format(service) -> None:
    url, rt = service
    before = _samples(url)
    with httpx.Client() as browser:
        assert browser.post(f"{url}/api/chat", json={"text": "bep biogas nha toi lua yeu qua"}).status_code == 200
        assert browser.post(f"{url}/api/chat", json={"text": "máy bay giá bao nhiêu"}).status_code == 200
    files_status = str(httpx.get(f"{url}/files/nothing-here.png").status_code)
    assert files_status in ("401", "404")
    with unit_of_work(rt.sessions) as s:
        row = delivery.enqueue(s, channel="telegram", user_id="42", replies=[Reply("tin")], kind="broadcast",
                               now=utcnow(), quiet=False)
        s.flush()
        done = delivery.enqueue(s, channel="telegram", user_id="43", replies=[Reply("tin")], kind="broadcast",
                                now=utcnow(), quiet=False, claim_now=True)
        s.flush()
        delivery.finish(s, message_id=done.id, state="sent", now=utcnow())
    assert row is not None
    after = _samples(url)

    def delta(name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("agribot_http_requests_total", method="POST", route="/api/chat", status="200") == 2
    assert delta("agribot_http_requests_total", method="GET", route="/files/{name}", status=files_status) == 1
    assert delta("agribot_questions_total", outcome="answered") >= 1
    assert delta("agribot_sends_total", channel="telegram", result="sent") == 1
    assert after[("agribot_delivery_queue_depth", frozenset({("channel", "telegram"), ("state", "pending")}))] == 1
    assert ("agribot_delivery_queue_oldest_age_seconds",
            frozenset({("channel", "telegram"), ("state", "pending")})) in after
    assert after[("agribot_inbox_depth", frozenset())] == 0  # no update acknowledged and waiting
    assert ("agribot_inbox_oldest_age_seconds", frozenset()) in after
    assert after[("agribot_scheduler_leader", frozenset())] == 0  # scheduler disabled here
    assert not any(dict(labels).get("route", "").startswith("/api/chat?") for _, labels in after)


def test_touch_user_and_state_of_one_new_user_in_two_transactions_at_once(database_url: str) -> None:
    """The first-message race itself: B looks the user up before A commits, then inserts too."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    a, b = Session(engine), Session(engine)
    problems: list[BaseException] = []
    try:
        state.touch_user(a, channel="web", user_id="twin", display_name=None)
        state.save(a, channel="web", user_id="twin", record=state.StateRecord("idle", {"from": "a"}))
        a.flush()  # A has inserted, not committed

        def other() -> None:
            try:
                state.touch_user(b, channel="web", user_id="twin", display_name="B")  # blocks on A's row
                state.save(b, channel="web", user_id="twin", record=state.StateRecord("idle", {"from": "b"}))
                b.commit()
            except BaseException as exc:
                problems.append(exc)
                b.rollback()

        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(1.0)  # let B read (nothing yet) and wait on A's insert
        a.commit()
        thread.join()
        assert problems == []
        with Session(engine) as s:
            assert s.get(ChatUser, ("web", "twin")).display_name == "B"
            assert s.get(ConversationState, ("web", "twin")).data == {"from": "b"}
    finally:
        a.close()
        b.close()
        engine.dispose()
