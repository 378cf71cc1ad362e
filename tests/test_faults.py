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
    cfg = tg_settings(Settings(database_url=through_proxy), api, **HOOK)
    with agribot(cfg) as base:
        assert httpx.get(f"{base}/healthz").status_code == 200
        proxy.stop()  # PostgreSQL "stopped"
        health = httpx.get(f"{base}/healthz", timeout=30)
        assert health.status_code == 503 and health.json()["database"] == "down"
        hook = httpx.post(f"{base}/telegram/webhook", json=tg.text_update(CHAT, "ủ rơm với urê"), headers=HEADERS,
                          timeout=30)
        assert hook.status_code == 503  # so Telegram delivers it again later
        chat = httpx.post(f"{base}/api/chat", json={"user": "u", "text": "chào"}, timeout=30)
        assert chat.status_code == 503 and "thử lại" in chat.json()["detail"]
        proxy.start()  # back, on the same port: the service recovers by itself
        wait_for(lambda: httpx.get(f"{base}/healthz", timeout=30).status_code == 200, timeout=30)
        retried = httpx.post(f"{base}/telegram/webhook", json=tg.text_update(CHAT, "ủ rơm với urê"),
                             headers=HEADERS, timeout=30)
        assert retried.status_code == 200
        wait_for(lambda: tg.sent(CHAT))
        assert "Ủ RƠM VỚI URÊ" in texts(tg)[0]
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


def _serve(db: str, port: int, tmp: Path) -> subprocess.Popen:
    env = {**os.environ, "AGRIBOT_DATABASE_URL": db, "AGRIBOT_PORT": str(port), "AGRIBOT_FILES_DIR": str(tmp),
           "AGRIBOT_LOG_LEVEL": "warning"}
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: _up(port), timeout=60)
    return process


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


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

    def say(**body):
        r = httpx.post(f"http://127.0.0.1:{port}/api/chat", json={"user": "officer", **body}, timeout=20)
        return r.json()["replies"]

    server = _serve(db, port, tmp_path)
    try:
        say(text=code)
        say(text="/taphuan")
        say(text="hôm nay")
        say(button=f"rpt:commune:{HUU_LUNG}")
        say(button="rpt:pick:biogas")
        say(button="rpt:done")
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
