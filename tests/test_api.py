"""The web app over real HTTP: uvicorn on a loopback port, httpx as the client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from bot.app import create_app
from bot.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=15)


def test_health(server: str) -> None:
    r = httpx.get(f"{server}/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "cards": 51, "zalo": None}  # Zalo is off here


def test_chat_answers_a_question_with_buttons(server: str) -> None:
    web1 = httpx.Client(base_url=server)  # one browser: it keeps the secret cookie the server sets
    r = web1.post("/api/chat", json={"text": "cá nổi đầu lúc gần sáng"})
    assert r.status_code == 200
    replies = r.json()["replies"]
    assert "CÁ, TÔM NỔI ĐẦU" in replies[0]["text"]
    datas = [b["data"] for row in replies[-1]["buttons"] for b in row]
    assert "officer" in datas

    related = next(d for d in datas if d.startswith("card:"))
    r = web1.post("/api/chat", json={"button": related})
    assert r.status_code == 200
    assert r.json()["replies"][0]["text"].startswith("📗")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": "a", "button": "menu"},
        {"user": "web-someone-else", "text": "a"},  # who is talking is never the client's say
        {"button": "b" * 65},
        {"text": "a", "extra": 1},
    ],
)
def test_bad_requests_get_4xx_not_500(server: str, body: dict) -> None:
    r = httpx.post(f"{server}/api/chat", json=body)
    assert r.status_code == 422


def test_malformed_json_gets_4xx(server: str) -> None:
    r = httpx.post(f"{server}/api/chat", content=b"{not json", headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500
