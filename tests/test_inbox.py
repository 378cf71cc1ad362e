"""The durable inbox: an update that got a 200 is answered exactly once, whatever happens after."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.receiving import inbox
from bot.settings import Settings
from bot.storage.db import unit_of_work, utcnow
from bot.storage.models import InboxUpdate, OutgoingMessage
from tests.fakes.server import free_port, serve, wait_for
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import APP_ID, APP_SECRET, OA_SECRET, FakeZalo, post_event
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


class _Burst:
    """One channel's side of a webhook burst: its fake platform, its updates, its answers."""

    def __init__(self, channel: str, n: int) -> None:
        self.channel = channel
        if channel == "telegram":
            self.tg = FakeTelegram()
            self.updates = [self.tg.text_update(30_000 + i, "ủ rơm với urê") for i in range(n)]
            self.users = [str(u["message"]["chat"]["id"]) for u in self.updates]
        else:
            self.zalo = FakeZalo()
            self.users = [f"zalo-burst-{i}" for i in range(n)]
            self.updates = [self.zalo.event(u, "ủ rơm với urê") for u in self.users]

    def app(self) -> FastAPI:
        return self.tg.app() if self.channel == "telegram" else self.zalo.app()

    def env(self, api: str) -> dict[str, str]:
        if self.channel == "telegram":
            return _env(self.tg, api)
        return {"ZALO_APP_ID": APP_ID, "ZALO_OA_SECRET_KEY": OA_SECRET, "ZALO_APP_SECRET": APP_SECRET,
                "ZALO_ACCESS_TOKEN": "access-1", "ZALO_REFRESH_TOKEN": "refresh-1", "ZALO_API_BASE_URL": api,
                "ZALO_OAUTH_URL": f"{api}/v4/oa/access_token", "AGRIBOT_DELIVERY_LEASE_SECONDS": "600"}

    def post(self, client: httpx.Client, port: int, i: int) -> int:
        if self.channel == "telegram":
            return client.post(f"http://127.0.0.1:{port}/telegram/webhook", json=self.updates[i],
                               headers=HEADERS, timeout=10).status_code
        return post_event(client, f"http://127.0.0.1:{port}", self.updates[i]).status_code

    def answers(self) -> Counter[str]:
        """Platform calls that reached the fake API, per user."""
        if self.channel == "telegram":
            return Counter(str(c.params["chat_id"]) for c in self.tg.sent())
        with self.zalo._lock:
            return Counter(m["recipient"]["user_id"] for m in self.zalo.messages)


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_kill_9_in_a_webhook_burst_answers_every_acknowledged_update(
        tmp_path: Path, engine: str, channel: str, request: pytest.FixtureRequest) -> None:
    """Every update that got a 200 is answered after a kill -9 and a restart: none lost. A reply
    is repeated only when the kill fell between its request being written and its mark (README,
    «Replies»): at most once, and only for the sends in flight at the kill."""
    db = f"sqlite:///{tmp_path / 'inbox.db'}" if engine == "sqlite" else request.getfixturevalue("postgres_schema_url")
    port, n = free_port(), 150
    burst = _Burst(channel, n)
    acked: set[str] = set()
    lock = threading.Lock()
    with serve(burst.app()) as api:
        env = burst.env(api)
        server = _serve(db, port, tmp_path, **env)
        killed = threading.Event()
        client = httpx.Client()

        def post(i: int) -> None:
            try:
                status = burst.post(client, port, i)
            except httpx.HTTPError:
                return  # no answer: the platform would deliver it again
            if status == 200:
                with lock:
                    acked.add(burst.users[i])
                    if len(acked) >= n // 3 and not killed.is_set():
                        killed.set()
                        _kill(server)  # in the middle of the burst: updates accepted, answered, in flight

        try:
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(post, range(n)))
        finally:
            client.close()
            if not killed.is_set():
                _kill(server)
        assert n // 3 <= len(acked) < n  # the kill came in the middle
        answered_before = set(burst.answers())
        from bot.runtime import create_runtime

        rt = create_runtime(Settings(database_url=db), load_content=False)
        server = _serve(db, port, tmp_path, **env)

        def settled() -> bool:  # every stored update handled, every reply's sending ended
            with rt.sessions() as s:
                return s.scalar(select(func.count()).select_from(InboxUpdate).where(
                    InboxUpdate.state != "done")) == 0 and s.scalar(select(func.count()).select_from(
                        OutgoingMessage).where(OutgoingMessage.state != "sent")) == 0
        try:
            wait_for(settled, timeout=120)
            time.sleep(3.0)  # anything sent twice would show now
        finally:
            _kill(server)
            rt.close()
    calls = burst.answers()
    normal = Counter(calls.values()).most_common(1)[0][0]  # the calls of one answer
    lost = {u: calls.get(u, 0) for u in acked if calls.get(u, 0) < normal}
    repeated = {u: c for u, c in calls.items() if c > normal}
    assert lost == {}  # every acknowledged update answered in full
    assert all(c == normal + 1 for c in repeated.values()), repeated  # one call repeated, once
    assert len(repeated) <= 16  # only sends in flight at the kill (16 inbox workers)
    assert answered_before < acked  # some were answered only after the restart
    print(f"{channel}/{engine}: {len(acked)} acknowledged, 0 lost, {len(repeated)} replies repeated")


def test_a_webhooks_update_is_committed_when_accepted_and_its_connection_goes_back_transactional(
        database_url: str) -> None:
    """``accept_now`` (the webhook's one statement, in autocommit) has committed when it returns
    — another connection reads the row at once —, refuses a second delivery, and the pooled
    connection it used is transactional again: a later rollback still undoes."""
    from bot.runtime import create_runtime
    from bot.storage.db import make_engine

    create_runtime(Settings(database_url=database_url), load_content=False).close()  # migrated
    engine = make_engine(database_url)  # as the service's; used one call at a time: one connection, reused
    other = make_engine(database_url)
    try:
        assert inbox.accept_now(engine, channel="telegram", update_id="900", user_id="a", body="{}", now=utcnow())
        with other.connect() as c:  # committed: visible outside, before anything else happens
            assert c.scalar(select(func.count()).select_from(InboxUpdate)
                            .where(InboxUpdate.update_id == "900")) == 1
        assert not inbox.accept_now(engine, channel="telegram", update_id="900", user_id="a", body="{}",
                                    now=utcnow())
        with Session(engine) as s:  # the same pooled connection, in a transaction again
            inbox.accept(s, channel="telegram", update_id="901", user_id="b", body="{}", now=utcnow())
            s.rollback()
        with other.connect() as c:
            rows = c.scalars(select(InboxUpdate.update_id).where(InboxUpdate.update_id.in_(["900", "901"]))).all()
        assert rows == ["900"]
    finally:
        engine.dispose()
        other.dispose()


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


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_kill_9_while_replies_are_on_the_wire_loses_no_reply(
        tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> None:
    """Replies cut off on the wire are not sent twice; every other reply goes out after the
    restart at once (not after the lease), and each user's next message is answered too."""
    db = f"sqlite:///{tmp_path / 'wire.db'}" if engine == "sqlite" else request.getfixturevalue("postgres_schema_url")
    port, users = free_port(), 30
    tg = FakeTelegram(hold_after=10)  # from the 11th reply on, Telegram gets them but never answers
    with serve(tg.app()) as api:
        env = _env(tg, api)
        server = _serve(db, port, tmp_path, **env)
        try:
            for question in ("ủ rơm với urê", "cá nổi đầu"):
                for i in range(users):
                    update = tg.text_update(40_000 + i, question)
                    r = httpx.post(f"http://127.0.0.1:{port}/telegram/webhook", json=update, headers=HEADERS)
                    assert r.status_code == 200
            wait_for(tg.held.is_set, timeout=60)

            # every first reply has reached "Telegram" (held ones time out, uncertain, and are not
            # sent again); second messages of users already answered may be on the wire too
            wait_for(lambda: len(tg.sent()) >= users, timeout=60)
            # and each held call's mark is committed (a kill between the write and the mark would
            # rightly send it again: README «Replies»); this test is about marked ones
            from bot.runtime import create_runtime

            probe = create_runtime(Settings(database_url=db), load_content=False)
            try:
                def marked() -> bool:
                    with probe.sessions() as s:
                        flying = s.scalar(select(func.count()).select_from(OutgoingMessage).where(
                            OutgoingMessage.in_flight.is_(True) | (OutgoingMessage.uncertain > 0)))
                    return flying >= len(tg.sent()) - 10
                wait_for(marked, timeout=30)
            finally:
                probe.close()
        finally:
            _kill(server)
        time.sleep(0.5)  # bytes written before the kill still arrive
        tg.release.set()
        on_the_wire = len(tg.sent()) - 10
        assert on_the_wire >= users - 10
        server = _serve(db, port, tmp_path, **env)
        try:
            wait_for(lambda: len(tg.sent()) >= 2 * users, timeout=90)
            time.sleep(3.0)  # anything sent twice would show now
        finally:
            _kill(server)
    per_chat: dict[int, list[str]] = {}
    for call in tg.sent():
        per_chat.setdefault(int(call.params["chat_id"]), []).append(call.params["text"])
    assert len(per_chat) == users
    for replies in per_chat.values():  # both answers, once each, in the order asked: none lost
        assert len(replies) == 2 and "Ủ RƠM VỚI URÊ" in replies[0] and "NỔI ĐẦU" in replies[1]
    from bot.runtime import create_runtime

    rt = create_runtime(Settings(database_url=db), load_content=False)
    try:
        with rt.sessions() as s:  # the replies cut off on the wire are counted, not sent again
            assert s.scalar(select(func.sum(OutgoingMessage.uncertain))) == on_the_wire
            assert s.scalar(select(func.count()).select_from(OutgoingMessage).where(
                OutgoingMessage.state != "sent")) == 0
    finally:
        rt.close()


def test_a_send_that_never_got_a_connection_is_sent_not_counted_uncertain() -> None:
    """A call that timed out waiting for the connection pool never left: it is tried again
    (it was counted as an uncertain, sent message before, and never reached Telegram)."""
    import asyncio

    from telegram.error import TimedOut

    from bot.channels.telegram_limits import SendLimiter

    calls: list[str] = []
    async def callback() -> bool:
        calls.append("call")
        if len(calls) == 1:
            try:
                raise httpx.PoolTimeout("all connections busy")
            except httpx.PoolTimeout as exc:
                raise TimedOut("Pool timeout") from exc
        return True

    async def mark() -> None:
        return None

    limiter = SendLimiter(backoff_seconds=0.01)
    result = asyncio.run(limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": 1}, mark))
    assert result is True and calls == ["call", "call"]


def test_agribot_worker_takes_over_the_inbox_of_a_killed_serve(tmp_path: Path, postgres_schema_url: str) -> None:
    """On PostgreSQL `agribot worker` drains the same inbox: when the serving process is killed
    right after acknowledging a burst, the worker answers every update — once, but for a reply
    the killed process had written and not yet marked (README, «Replies»: repeated, never lost)."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    db, port, n = postgres_schema_url, free_port(), 40
    tg = FakeTelegram()
    with serve(tg.app()) as api:
        env = _env(tg, api)
        server = _serve(db, port, tmp_path, **env)
        worker_env = {**os.environ, "AGRIBOT_DATABASE_URL": db, "AGRIBOT_LOG_LEVEL": "info", **env}
        with open(tmp_path / "worker.log", "ab") as log:
            worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", "--concurrency", "4"], cwd=ROOT,
                                      env=worker_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: b"draining the inbox" in (tmp_path / "worker.log").read_bytes(), timeout=60)
            for i in range(n):
                update = tg.text_update(50_000 + i, "ủ rơm với urê")
                r = httpx.post(f"http://127.0.0.1:{port}/telegram/webhook", json=update, headers=HEADERS)
                assert r.status_code == 200
            _kill(server)  # every update acknowledged; many not handled yet
            wait_for(lambda: len({int(c.params["chat_id"]) for c in tg.sent()}) == n, timeout=90)
            time.sleep(3.0)  # anything answered twice would show now
        finally:
            if server.poll() is None:
                _kill(server)
            worker.terminate()
            worker.wait(timeout=30)
    per_chat = Counter(int(c.params["chat_id"]) for c in tg.sent())
    assert set(per_chat) == {50_000 + i for i in range(n)}  # none lost
    repeated = [chat for chat, count in per_chat.items() if count > 1]
    assert all(per_chat[c] == 2 for c in repeated) and len(repeated) <= 16  # only sends in flight at the kill


def test_agribot_worker_refuses_sqlite_in_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run([sys.executable, "-m", "bot.cli", "--database-url", f"sqlite:///{tmp_path / 'a.db'}",
                           "worker"], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "PostgreSQL" in done.stderr


def test_handled_updates_are_deleted_after_a_week_and_nothing_else(database_url: str) -> None:
    """The inbox does not grow for ever: the nightly housekeeping job deletes rows handled more
    than a week ago; a row handled yesterday still refuses its duplicate, waiting rows stay."""
    from datetime import timedelta

    from bot.runtime import create_runtime
    from bot.scheduling import jobs

    rt = create_runtime(Settings(database_url=database_url), load_content=False)
    now = utcnow()
    try:
        with unit_of_work(rt.sessions) as s:
            for update_id in ("old", "recent", "waiting"):
                assert inbox.accept(s, channel="telegram", update_id=update_id, user_id=update_id, body="{}",
                                    now=now - timedelta(days=9))
            rows = {r.update_id: r for r in s.scalars(select(InboxUpdate))}
            rows["old"].state, rows["old"].done_at = "done", now - timedelta(days=8)
            rows["recent"].state, rows["recent"].done_at = "done", now - timedelta(days=1)
        assert jobs.housekeeping(rt, now=now) == 1
        with unit_of_work(rt.sessions) as s:
            assert sorted(s.scalars(select(InboxUpdate.update_id))) == ["recent", "waiting"]
            assert not inbox.accept(s, channel="telegram", update_id="recent", user_id="recent", body="{}", now=now)
    finally:
        rt.close()


def test_a_serve_that_only_accepts_leaves_the_updates_to_agribot_worker(tmp_path: Path,
                                                                         postgres_schema_url: str) -> None:
    """AGRIBOT_INBOX_CONCURRENCY=0: `agribot serve` answers the webhook after one insert and
    handles nothing itself; the updates wait, acknowledged, until an `agribot worker` answers them."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    db, port, n = postgres_schema_url, free_port(), 5
    tg = FakeTelegram()
    with serve(tg.app()) as api:
        env = {**_env(tg, api), "AGRIBOT_INBOX_CONCURRENCY": "0"}
        server = _serve(db, port, tmp_path, **env)
        worker = None
        try:
            for i in range(n):
                r = httpx.post(f"http://127.0.0.1:{port}/telegram/webhook", headers=HEADERS,
                               json=tg.text_update(60_000 + i, "ủ rơm với urê"))
                assert r.status_code == 200
            time.sleep(3.0)
            assert tg.sent() == []  # acknowledged and kept, not handled here
            with open(tmp_path / "worker.log", "ab") as log:
                worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=ROOT,
                                          env={**os.environ, "AGRIBOT_DATABASE_URL": db, **env},
                                          stdout=log, stderr=subprocess.STDOUT)
            wait_for(lambda: len({int(c.params["chat_id"]) for c in tg.sent()}) == n, timeout=60)
        finally:
            _kill(server)
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)


def test_only_accepting_is_refused_on_sqlite_in_one_line() -> None:
    from bot.settings import SettingsRefused, load_settings

    with pytest.raises(SettingsRefused) as refused:
        load_settings(database_url="sqlite:///x.db", inbox_concurrency=0)
    assert "AGRIBOT_INBOX_CONCURRENCY=0 needs PostgreSQL" in str(refused.value) and "\n" not in str(refused.value)
