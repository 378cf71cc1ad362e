"""Bad input of every shape: no 500 from any endpoint (hypothesis), nothing crashes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import create_app
from bot.channels.telegram import TelegramChannel
from bot.settings import Settings
from tests.fakes.server import serve
from tests.fakes.zalo_api import APP_ID, OA_SECRET, sign

SECRET = "fuzz-secret"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    cfg = Settings(database_url=f"sqlite:///{tmp / 'fuzz.db'}", zalo_app_id=APP_ID, zalo_oa_secret_key=OA_SECRET,
                   zalo_api_base_url="http://127.0.0.1:9", scheduler_enabled=False, flood_limit_per_minute=100000)
    app = create_app(cfg)
    hook_settings = Settings(telegram_webhook_url="https://x.invalid/hook", telegram_webhook_secret=SECRET)

    class Stub:
        """The Telegram channel without a Bot API: stores updates in the inbox as the real one does."""

        webhook_mode = True
        settings = hook_settings
        runtime = app.state.runtime
        store = TelegramChannel.store

        def readable(self, data: dict) -> bool:
            from telegram import Update

            try:
                Update.de_json(data, None)  # type: ignore[arg-type]
            except (TypeError, ValueError, KeyError, AttributeError):
                return False
            return True

    app.state.telegram = Stub()
    with serve(app) as url:
        yield url


@FUZZ
@given(body=json_values)
def test_chat_api_never_500(base: str, body: object) -> None:
    r = httpx.post(f"{base}/api/chat", json=body)
    assert r.status_code < 500


@FUZZ
@given(text=st.text(max_size=300), user=st.text(min_size=1, max_size=40))
def test_any_text_from_any_user_gets_a_reply(base: str, text: str, user: str) -> None:
    r = httpx.post(f"{base}/api/chat", json={"user": user, "text": text})
    assert r.status_code in (200, 422)
    if r.status_code == 200 and user.strip():
        assert r.json()["replies"]


@FUZZ
@given(body=json_values)
def test_telegram_webhook_never_500(base: str, body: object) -> None:
    r = httpx.post(f"{base}/telegram/webhook", json=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert r.status_code < 500


@FUZZ
@given(body=json_values)
def test_zalo_webhook_never_500(base: str, body: object) -> None:
    raw = json.dumps(body).encode()
    timestamp = str(body.get("timestamp", "")) if isinstance(body, dict) else ""
    r = httpx.post(f"{base}/zalo/webhook", content=raw,
                   headers={"content-type": "application/json", "X-ZEvent-Signature": sign(raw, timestamp)})
    assert r.status_code < 500


@FUZZ
@given(plan=st.text(max_size=30), period=st.text(max_size=12), commune=st.text(max_size=8))
def test_indicator_api_never_500(base: str, plan: str, period: str, commune: str) -> None:
    for path in ("/api/indicators", "/api/indicators.xlsx", "/api/indicators.csv"):
        r = httpx.get(f"{base}{path}", params={"plan": plan, "period": period, "commune": commune})
        assert r.status_code < 500


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["username", "password", "csrf", "role", "commune", "x"]),
                              st.text(max_size=40), max_size=5))
def test_dashboard_forms_never_500(base: str, fields: dict[str, str]) -> None:
    for path in ("/admin/login", "/admin/invites", "/admin/broadcasts", "/admin/logout"):
        r = httpx.post(f"{base}{path}", data=fields)
        assert r.status_code < 500
    time.sleep(0)
