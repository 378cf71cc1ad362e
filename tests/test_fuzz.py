"""Bad input of every shape, on SQLite and PostgreSQL: no 500 from any endpoint (hypothesis),
nothing crashes. Strings include NUL, control characters and (where the transport allows)
lone surrogates."""

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
from bot.services import api_tokens
from bot.settings import Settings
from bot.storage.db import unit_of_work, utcnow
from tests.conftest import fresh_postgres_schema
from tests.fakes.server import serve
from tests.fakes.zalo_api import APP_ID, OA_SECRET, sign

SECRET = "fuzz-secret"
# any code point: NUL and other controls, and lone surrogates (sent as \\u escapes, see _post_json)
nasty_text = st.text(st.characters(blacklist_categories=()), max_size=50)
# what a form field can carry over HTTP (UTF-8): controls and NUL, no lone surrogates
form_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | nasty_text,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(nasty_text, children, max_size=5),
    max_leaves=20,
)
AUTH: dict[str, str] = {}  # an API token's header, made by the ``base`` fixture
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _post_json(url: str, body: object, **headers: str) -> httpx.Response:
    return httpx.post(url, content=json.dumps(body).encode(), headers={"content-type": "application/json", **headers})


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
        return
    with fresh_postgres_schema() as url:
        yield url


@pytest.fixture(scope="module")
def base(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    cfg = Settings(database_url=database, files_dir=tmp / "files", zalo_app_id=APP_ID, zalo_oa_secret_key=OA_SECRET,
                   zalo_api_base_url="http://127.0.0.1:9", scheduler_enabled=False, flood_limit_per_minute=100000)
    app = create_app(cfg)
    with unit_of_work(app.state.runtime.sessions) as session:
        token = api_tokens.create(session, name="fuzz", province_code=None, created_by="admin", now=utcnow())
    AUTH["Authorization"] = f"Bearer {token}"
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
    r = _post_json(f"{base}/api/chat", body)
    assert r.status_code < 500


@FUZZ
@given(text=st.text(st.characters(blacklist_categories=()), max_size=300), name=st.none() | nasty_text)
def test_any_text_from_any_user_gets_a_reply(base: str, text: str, name: str | None) -> None:
    r = _post_json(f"{base}/api/chat", {"name": name, "text": text})  # a new browser each time
    assert r.status_code in (200, 422)
    if r.status_code == 200:
        assert r.json()["replies"]


@FUZZ
@given(body=json_values)
def test_telegram_webhook_never_500(base: str, body: object) -> None:
    r = _post_json(f"{base}/telegram/webhook", body, **{"X-Telegram-Bot-Api-Secret-Token": SECRET})
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
@given(plan=form_text, period=form_text, commune=form_text)
def test_indicator_api_never_500(base: str, plan: str, period: str, commune: str) -> None:
    for path in ("/api/indicators", "/api/indicators.xlsx", "/api/indicators.csv"):
        r = httpx.get(f"{base}{path}", params={"plan": plan, "period": period, "commune": commune}, headers=AUTH)
        assert r.status_code < 500


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["username", "password", "csrf", "role", "commune", "x"]),
                              form_text, max_size=5))
def test_dashboard_forms_never_500(base: str, fields: dict[str, str]) -> None:
    for path in ("/admin/login", "/admin/invites", "/admin/broadcasts", "/admin/logout", "/admin/accounts/invite",
                 "/admin/join/not-a-token"):
        r = httpx.post(f"{base}{path}", data=fields)
        assert r.status_code < 500
    time.sleep(0)
