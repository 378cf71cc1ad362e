"""The durable inbox: an update that got a 200 is answered exactly once, whatever happens after."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.receiving import inbox
from bot.settings import Settings
from bot.storage.db import unit_of_work, utcnow
from bot.storage.models import InboxUpdate, OutgoingMessage
from tests.fakes.server import free_port, serve, wait_for
from tests.fakes.telegram_api import FakeTelegram
from tests.test_faults import _kill, _serve

SECRET = "inbox-secret"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


def _env(tg: FakeTelegram, api: str) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_BASE_URL": api,
            "TELEGRAM_WEBHOOK_URL": "https://example.invalid/telegram/webhook", "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "AGRIBOT_TELEGRAM_RATE_OVERALL": "200",
            # far longer than the test waits: the rows of the killed process must be taken over
            # because it is dead, not because its lease ran out
            "AGRIBOT_DELIVERY_LEASE_SECONDS": "600"}


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_kill_9_in_a_webhook_burst_answers_every_acknowledged_update_once(
        tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> None:
    db = f"sqlite:///{tmp_path / 'inbox.db'}" if engine == "sqlite" else request.getfixturevalue("postgres_schema_url")
    port, n = free_port(), 150
    tg = FakeTelegram()
    updates = [tg.text_update(30_000 + i, "ủ rơm với urê") for i in range(n)]
    acked: set[int] = set()
    lock = threading.Lock()
    with serve(tg.app()) as api:
        env = _env(tg, api)
        server = _serve(db, port, tmp_path, **env)
        killed = threading.Event()

        def post(update: dict) -> None:
            try:
                r = httpx.post(f"http://127.0.0.1:{port}/telegram/webhook", json=update, headers=HEADERS, timeout=10)
            except httpx.HTTPError:
                return  # no answer: Telegram would deliver it again
            if r.status_code == 200:
                with lock:
                    acked.add(update["message"]["chat"]["id"])
                    if len(acked) >= n // 3 and not killed.is_set():
                        killed.set()
                        _kill(server)  # in the middle of the burst: updates accepted, answered, in flight

        try:
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(post, updates))
        finally:
            if not killed.is_set():
                _kill(server)
        assert n // 3 <= len(acked) < n  # the kill came in the middle
        answered_before = {int(c.params["chat_id"]) for c in tg.sent()}
        server = _serve(db, port, tmp_path, **env)
        try:
            wait_for(lambda: acked <= {int(c.params["chat_id"]) for c in tg.sent()}, timeout=90)
            time.sleep(3.0)  # anything answered twice would show now
        finally:
            _kill(server)
    per_chat: dict[int, int] = {}
    for call in tg.sent():
        per_chat[int(call.params["chat_id"])] = per_chat.get(int(call.params["chat_id"]), 0) + 1
    assert all(per_chat.get(chat) == 1 for chat in acked), {c: per_chat.get(c) for c in acked if per_chat.get(c) != 1}
    assert set(per_chat.values()) == {1}  # not acknowledged (stored or not): never answered twice either
    assert answered_before < acked  # some were answered only after the restart
    from bot.runtime import create_runtime

    rt = create_runtime(Settings(database_url=db), load_content=False)
    try:
        with rt.sessions() as s:  # nothing left behind, no reply lost
            assert s.scalar(select(func.count()).select_from(InboxUpdate).where(InboxUpdate.state != "done")) == 0
            lost = s.scalar(select(func.count()).select_from(OutgoingMessage).where(
                OutgoingMessage.state != "sent"))
            assert lost == 0
    finally:
        rt.close()


def test_a_duplicate_is_refused_by_the_key_and_a_user_waits_for_their_earlier_update(database_url: str) -> None:
    from bot.runtime import create_runtime

    rt = create_runtime(Settings(database_url=database_url), load_content=False)
    try:
        with unit_of_work(rt.sessions) as s:
            assert inbox.accept(s, channel="telegram", update_id="1", user_id="a", body="{}", now=utcnow())
            assert inbox.accept(s, channel="telegram", update_id="2", user_id="a", body="{}", now=utcnow())
            assert inbox.accept(s, channel="telegram", update_id="3", user_id="b", body="{}", now=utcnow())
        with unit_of_work(rt.sessions) as s:
            assert not inbox.accept(s, channel="telegram", update_id="1", user_id="a", body="{}", now=utcnow())
        skip = rt.engine.dialect.name == "postgresql"
        with unit_of_work(rt.sessions) as s:
            first = inbox.claim(s, owner=1, now=utcnow(), limit=10, skip_locked=skip)
        assert [r.update_id for r in first] == ["1", "3"]  # a's second waits for a's first
        with unit_of_work(rt.sessions) as s:
            assert inbox.claim(s, owner=2, now=utcnow(), limit=10, skip_locked=skip) == []
            assert inbox.depth(s, now=utcnow()).waiting == 3
            inbox.done(s, row_id=first[0].id, owner=1, now=utcnow())
        with unit_of_work(rt.sessions) as s:
            assert [r.update_id for r in inbox.claim(s, owner=2, now=utcnow(), limit=10, skip_locked=skip)] == ["2"]
        with unit_of_work(rt.sessions) as s:  # owner 1 died: its row is taken back at once
            assert inbox.recover(s, now=utcnow(), lease=rt.leases.lease, alive={2}) == 1
            assert inbox.depth(s, now=utcnow()).waiting == 2
    finally:
        rt.close()
