"""Faults: the database going away and coming back, duplicate and out-of-order updates, kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.settings import Settings
from reporting.models import Report
from tests.conftest import ROOT
from tests.fakes.server import free_port, wait_for
from tests.fakes.tcp_proxy import TcpProxy
from tests.test_telegram import CHAT, SECRET, agribot, fake, texts, tg_settings  # noqa: F401

HOOK = {"telegram_webhook_url": "https://example.invalid/telegram/webhook", "telegram_webhook_secret": SECRET}
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


def test_database_stops_and_comes_back(postgres_schema_url, fake) -> None:  # noqa: F811
    tg, api = fake
    url = make_url(postgres_schema_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    cfg = tg_settings(Settings(database_url=through_proxy, admin_password="dashboard-pass-123"), api, **HOOK)
    with agribot(cfg) as base:
        assert httpx.get(f"{base}/healthz").status_code == 200
        official = httpx.Client(base_url=base, timeout=30)
        assert official.post("/admin/login", data={"username": "admin", "password": "dashboard-pass-123"}
                             ).status_code == 303
        proxy.stop()  # PostgreSQL "stopped"
        page = official.get("/admin")  # a dashboard page's own query: try again later, not a 500
        assert page.status_code == 503 and "Hệ thống tạm thời gián đoạn" in page.text and "thử lại" in page.text
        health = httpx.get(f"{base}/healthz", timeout=30)
        assert health.status_code == 503 and health.json()["database"] == "down"
        hook = httpx.post(f"{base}/telegram/webhook", json=tg.text_update(CHAT, "ủ rơm với urê"), headers=HEADERS,
                          timeout=30)
        assert hook.status_code == 503  # so Telegram delivers it again later
        chat = httpx.post(f"{base}/api/chat", json={"text": "chào"}, timeout=30)
        assert chat.status_code == 503 and "thử lại" in chat.json()["detail"]
        proxy.start()  # back, on the same port: the service recovers by itself
        wait_for(lambda: httpx.get(f"{base}/healthz", timeout=30).status_code == 200, timeout=30)
        retried = httpx.post(f"{base}/telegram/webhook", json=tg.text_update(CHAT, "ủ rơm với urê"),
                             headers=HEADERS, timeout=30)
        assert retried.status_code == 200
        wait_for(lambda: tg.sent(CHAT))
        assert "Ủ RƠM VỚI URÊ" in texts(tg)[0]
        official.close()
    proxy.stop()


def test_duplicate_and_out_of_order_updates(settings, fake) -> None:  # noqa: F811
    tg, api = fake
    cfg = tg_settings(settings, api, **HOOK)
    later = tg.text_update(CHAT, "cá nổi đầu", update_id=50)
    earlier = tg.text_update(CHAT + 1, "ủ phân gà", update_id=40)
    with agribot(cfg) as base:
        for update in (later, earlier, later, earlier):
            assert httpx.post(f"{base}/telegram/webhook", json=update, headers=HEADERS).status_code == 200
        wait_for(lambda: tg.sent(CHAT) and tg.sent(CHAT + 1))
        time.sleep(1.0)
    assert len(tg.sent(CHAT)) == 1 and len(tg.sent(CHAT + 1)) == 1


def _serve(db: str, port: int, tmp: Path, **extra: str) -> subprocess.Popen:
    env = {**os.environ, "AGRIBOT_DATABASE_URL": db, "AGRIBOT_PORT": str(port), "AGRIBOT_FILES_DIR": str(tmp),
           "AGRIBOT_LOG_LEVEL": "warning", **extra}
    with open(tmp / "server.log", "ab") as log:  # read it when a test fails
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    wait_for(lambda: _up(port), timeout=60)
    return process


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _pressed(replies: list[dict], part: str) -> str:
    """The data of the offered button whose data holds ``part`` (as a person would tap it)."""
    return next(b["data"] for r in replies for row in r["buttons"] for b in row if part in b["data"])


@pytest.mark.parametrize("engine", ["sqlite"])
def test_kill_9_in_the_middle_of_a_report_form(tmp_path: Path, engine: str) -> None:
    db = f"sqlite:///{tmp_path / 'kill.db'}"
    port = free_port()
    from bot.runtime import create_runtime
    from bot.storage.db import unit_of_work
    from reporting import people
    from tests.builders import HUU_LUNG, NOW

    rt = create_runtime(Settings(database_url=db))
    with unit_of_work(rt.sessions) as s:
        code = people.create_invite(s, role=people.EXTENSION_OFFICER, commune_code=HUU_LUNG, now=NOW).code
    rt.close()

    officer = httpx.Client(timeout=20)  # the officer's browser: its secret cookie outlives the restarts

    def say(**body):
        r = officer.post(f"http://127.0.0.1:{port}/api/chat", json=body)
        return r.json()["replies"]

    server = _serve(db, port, tmp_path)
    try:
        say(text=code)
        say(text="/taphuan")
        topics = say(button=_pressed(say(text="hôm nay"), f":{HUU_LUNG}"))
        say(button=_pressed(say(button=_pressed(topics, ":biogas")), "rpt:done:"))
        assert "Trong đó, số nữ" in say(text="25")[0]["text"]
    finally:
        server.send_signal(signal.SIGKILL)  # no shutdown, no flush
        server.wait()
    server = _serve(db, port, tmp_path)
    try:
        text = say(text="10")[0]["text"]  # the next answer goes on where it stopped
        assert "Số người dân tộc thiểu số" in text
        for answer in ("5", "2", "1"):
            say(text=answer)
        assert "Xem lại «Ghi nhận tập huấn»" in say(text="0")[0]["text"]
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    rt = create_runtime(Settings(database_url=db))
    try:
        with rt.sessions() as s:
            drafts = s.scalar(select(func.count()).select_from(Report).where(Report.status == "draft"))
            assert drafts == 1  # one draft, with every answer given before and after the kill
            values = s.scalars(select(Report).where(Report.status == "draft")).one().values
    finally:
        rt.close()
    assert values["participants"] == 25 and values["women"] == 10 and values["coops_represented"] == 0


def _kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)  # no shutdown, no flush
    process.wait()


def test_kill_9_during_a_broadcast_neither_loses_nor_repeats_a_message(tmp_path: Path) -> None:
    from bot.runtime import create_runtime
    from bot.sending import delivery
    from tests.builders import straw_broadcast
    from tests.fakes.server import serve
    from tests.fakes.telegram_api import FakeTelegram

    db, port, n = f"sqlite:///{tmp_path / 'broadcast.db'}", free_port(), 300
    broadcast_id, _ = straw_broadcast(Settings(database_url=db), n, first_chat=20_000)
    tg = FakeTelegram(hold_after=120)  # from the 121st message on, Telegram gets them but never answers
    with serve(tg.app()) as api:
        env = {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_BASE_URL": api,
               "AGRIBOT_TELEGRAM_RATE_OVERALL": "200", "AGRIBOT_DELIVERY_LEASE_SECONDS": "2"}
        server = _serve(db, port, tmp_path, **env)
        try:
            wait_for(tg.held.is_set, timeout=60)

            def settled_down() -> bool:  # every call the bot started has reached "Telegram"
                now = len(tg.sent(ok_only=True))
                time.sleep(0.7)
                return now == len(tg.sent(ok_only=True))

            wait_for(settled_down, timeout=30)
        finally:
            _kill(server)  # while those messages are on the wire, and others wait their turn
        tg.release.set()  # Telegram answers again
        try:
            on_the_wire = len(tg.sent(ok_only=True)) - 120
            assert on_the_wire > 0 and len(tg.sent(ok_only=True)) < n
            server = _serve(db, port, tmp_path, **env)
            try:
                wait_for(lambda: len({c.params["chat_id"] for c in tg.sent(ok_only=True)}) == n, timeout=90)
                time.sleep(3.0)  # a lease and more: anything sent twice would show now
            finally:
                _kill(server)
        finally:
            tg.release.set()
    per_chat: dict[int, int] = {}
    for call in tg.sent(ok_only=True):
        per_chat[int(call.params["chat_id"])] = per_chat.get(int(call.params["chat_id"]), 0) + 1
    assert len(per_chat) == n and set(per_chat.values()) == {1}  # everyone once: none lost, none twice
    rt = create_runtime(Settings(database_url=db))
    try:
        with rt.sessions() as s:  # those cut off on the wire are counted, not sent again
            assert delivery.progress(s, broadcast_id=broadcast_id) == {
                "sent": n, "pending": 0, "failed": 0, "uncertain": on_the_wire}
    finally:
        rt.close()


@pytest.mark.parametrize("zalo_had_it", [False, True], ids=["request-lost", "answer-lost"])
def test_kill_9_during_a_zalo_token_refresh(tmp_path: Path, zalo_had_it: bool) -> None:
    from tests.fakes.server import serve
    from tests.fakes.zalo_api import APP_ID, APP_SECRET, OA_SECRET, FakeZalo, post_event

    db, port, user = f"sqlite:///{tmp_path / 'zalo.db'}", free_port(), "zalo-user-1"
    zalo = FakeZalo(hold_refresh="used" if zalo_had_it else "lost")
    with serve(zalo.app()) as api:
        env = {"ZALO_APP_ID": APP_ID, "ZALO_OA_SECRET_KEY": OA_SECRET, "ZALO_APP_SECRET": APP_SECRET,
               "ZALO_ACCESS_TOKEN": "access-1", "ZALO_REFRESH_TOKEN": "refresh-1", "ZALO_API_BASE_URL": api,
               "ZALO_OAUTH_URL": f"{api}/v4/oa/access_token", "AGRIBOT_ZALO_HTTP_TIMEOUT": "2",
               "AGRIBOT_DELIVERY_LEASE_SECONDS": "2"}
        base = f"http://127.0.0.1:{port}"
        zalo.expire()  # the first reply meets an expired token: a refresh starts
        server = _serve(db, port, tmp_path, **env)
        try:
            with httpx.Client() as client:
                assert post_event(client, base, zalo.event(user, "ủ rơm với urê")).status_code == 200
            wait_for(zalo.refresh_held.is_set, timeout=30)
        finally:
            _kill(server)  # during the refresh call
        try:
            assert not zalo.to(user)
            server = _serve(db, port, tmp_path, **env)
            try:
                if zalo_had_it:  # the new pair died with the process: Zalo refuses the old token
                    wait_for(lambda: httpx.get(f"{base}/healthz").json().get("zalo") == "needs_reauth", timeout=60)
                    assert not zalo.to(user)  # held, not dropped
                    access, refresh = zalo.authorise_again()  # the admin authorises the app again
                    done = subprocess.run(
                        [sys.executable, "-m", "bot.cli", "--database-url", db, "zalo", "token",
                         "--access-token", access, "--refresh-token", refresh],
                        cwd=ROOT, capture_output=True, text=True, timeout=60)
                    assert done.returncode == 0 and "1 held messages go out now" in done.stdout, done.stderr
                wait_for(lambda: zalo.to(user), timeout=60)
                time.sleep(2.5)  # a lease and more: anything sent twice would show now
                assert httpx.get(f"{base}/healthz").json()["zalo"] == "ok"
            finally:
                _kill(server)
        finally:
            zalo.release.set()
    texts = [m["text"] for m in zalo.to(user)]
    assert "Ủ RƠM VỚI URÊ" in texts[0] and len(texts) == len(set(texts))  # the answer, once
    tried = [r["refresh_token"] for r in zalo.refreshes]
    assert tried == (["refresh-1", "refresh-1"] if zalo_had_it else ["refresh-1"])


@pytest.mark.parametrize("error", [OperationalError("INSERT INTO inbox", {}, ConnectionError("server closed")),
                                   PoolTimeout("QueuePool limit of size 10 overflow 20 reached")],
                         ids=["database away", "no connection free"])
def test_a_webhook_that_cannot_store_its_update_answers_503_to_be_sent_again(tmp_path: Path, error) -> None:
    """Neither the database away nor a pool with no connection free in time is a 500: the
    platform gets 503 with Retry-After and delivers the update again."""
    import asyncio

    from bot.channels import inbound
    from bot.runtime import create_runtime

    def store() -> bool:
        raise error

    runtime = create_runtime(Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}"), load_content=False)
    try:
        answer = asyncio.run(inbound.acknowledge(runtime, store))
    finally:
        runtime.close()
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "30"
