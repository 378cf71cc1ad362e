"""Nobody gets in where they do not belong: login lockout under parallel guessing, the indicator
API and generated files behind a session or API token, the web chat's secret identity, invite
guessing per client address, logout. Real HTTP through the app, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.dashboard import auth
from bot.runtime import create_runtime
from bot.services import files
from bot.settings import Settings
from bot.storage.db import unit_of_work
from bot.storage.models import ApiToken, DashboardUser
from reporting import demo, people
from tests.fakes.server import serve, wait_for
from tests.fakes.zalo_api import post_event
from tests.test_zalo import zalo  # noqa: F401

PASSWORD = "Lúa-Nước-2026-Hữu-Lũng"
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
PLAN = "ls-ktth-nn-2030"
QUERY = {"plan": PLAN, "period": "2025"}


def _settings(database_url: str, tmp_path: Path, **extra: object) -> Settings:
    return Settings(database_url=database_url, admin_password=PASSWORD, files_dir=tmp_path / "files",
                    scheduler_enabled=False, flood_limit_per_minute=1000, **extra)


@pytest.fixture
def seeded(database_url: str, tmp_path: Path) -> Settings:
    cfg = _settings(database_url, tmp_path)
    rt = create_runtime(cfg)
    try:
        with unit_of_work(rt.sessions) as session:
            demo.seed(session, now=NOW)
    finally:
        rt.close()
    return cfg


@pytest.fixture
def site(seeded: Settings) -> Iterator[str]:
    with serve(create_app(seeded)) as url:
        yield url


def _login(client: httpx.Client, username: str = "admin", password: str = PASSWORD,
           page: str = "/admin/tokens") -> str:
    assert client.post("/admin/login", data={"username": username, "password": password}).status_code == 303
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(page).text)
    assert found
    return found.group(1)


# -- login lockout --------------------------------------------------------------------------
def _parallel_logins(url: str, attempts: list[tuple[str, str]]) -> list[int]:
    def one(attempt: tuple[str, str]) -> int:
        username, password = attempt
        with httpx.Client(base_url=url, timeout=120) as client:
            return client.post("/admin/login", data={"username": username, "password": password}).status_code

    with ThreadPoolExecutor(40) as pool:
        return list(pool.map(one, attempts))


def test_forty_parallel_guesses_check_no_more_than_five_and_then_the_account_is_locked(
        database_url: str, tmp_path: Path) -> None:
    with serve(create_app(_settings(database_url, tmp_path))) as url:
        attempts = [("admin", f"guess-{i}") for i in range(40)]
        attempts[38] = ("admin", PASSWORD)  # the right password at #39, as in the probe
        codes = _parallel_logins(url, attempts)
        wrong, right = codes.count(401), codes.count(303)
        # the right password may come among the first checked: it logs in and (as any success)
        # starts the account's count afresh, so at most one more round of guesses is checked
        assert right <= 1 and wrong <= auth.MAX_FAILURES * (1 + right)
        assert codes.count(429) == 40 - wrong - right  # everyone else was told to wait, unchecked
        if right == 0:  # locked: the right password is refused for now too
            with httpx.Client(base_url=url) as client:
                refused = client.post("/admin/login", data={"username": "admin", "password": PASSWORD})
            assert refused.status_code == 429 and "tạm khoá" in refused.text


def test_four_hundred_parallel_guesses_from_one_address_check_no_more_than_its_limit(
        database_url: str, tmp_path: Path) -> None:
    with serve(create_app(_settings(database_url, tmp_path))) as url:
        codes = _parallel_logins(url, [(f"user{i}", "guess") for i in range(400)])  # a new account each time
        assert codes.count(401) <= auth.MAX_PER_ADDRESS and codes.count(401) + codes.count(429) == 400
        with httpx.Client(base_url=url) as client:  # this address waits, even with the right password
            assert client.post("/admin/login", data={"username": "admin", "password": PASSWORD}).status_code == 429


def test_logout_without_the_csrf_token_still_ends_the_server_session(database_url: str, tmp_path: Path) -> None:
    with serve(create_app(_settings(database_url, tmp_path))) as url, \
            httpx.Client(base_url=url) as client:
        _login(client)
        token = client.cookies["agribot_session"]
        assert client.post("/admin/logout", data={}).status_code == 303
        # the old cookie, replayed, opens nothing
        replay = httpx.get(f"{url}/admin/tokens", cookies={"agribot_session": token})
        assert replay.status_code == 303 and replay.headers["location"] == "/admin/login"


# -- the indicator API and API tokens -----------------------------------------------------------
def test_indicators_need_a_session_or_an_api_token_made_on_the_dashboard(seeded: Settings, site: str) -> None:
    for path in ("/api/indicators", "/api/indicators.xlsx", "/api/indicators.csv"):
        refused = httpx.get(f"{site}{path}", params=QUERY)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert "Hữu Lũng" not in refused.text
    with httpx.Client(base_url=site) as admin:
        csrf = _login(admin)
        assert admin.get("/api/indicators", params=QUERY).json()["plan"] == PLAN  # a dashboard session reads
        page = admin.post("/admin/tokens", data={"csrf": csrf, "name": "Hệ thống Sở NN&MT"}).text
        token = re.search(r'id="new-token">([^<]+)<', page).group(1)  # type: ignore[union-attr]
        assert admin.get("/admin/tokens").text.count(token) == 0  # shown once
    rt = create_runtime(seeded)
    try:
        with rt.sessions() as session:
            stored = session.scalars(select(ApiToken)).one()
        assert token not in stored.token_hash and len(stored.token_hash) == 64  # only a hash is kept
    finally:
        rt.close()
    system = httpx.Client(base_url=site, headers={"Authorization": f"Bearer {token}"})
    data = system.get("/api/indicators", params=QUERY).json()
    assert any(i["by_commune"] for i in data["indicators"])  # the full figures, unit lists included
    assert system.get("/api/indicators.xlsx", params=QUERY).content[:2] == b"PK"
    assert "Toàn tỉnh" in system.get("/api/indicators.csv", params=QUERY).text
    assert httpx.get(f"{site}/api/indicators", params=QUERY,
                     headers={"Authorization": f"Bearer {token[:-2]}xx"}).status_code == 401
    with httpx.Client(base_url=site) as admin:
        csrf = _login(admin)
        assert admin.post(f"/admin/tokens/{stored.id}/revoke", data={"csrf": csrf}).status_code == 303
        assert "Đã thu hồi" in admin.get("/admin/tokens").text
    assert system.get("/api/indicators", params=QUERY).status_code == 401  # revoked: refused at once


def test_only_admins_make_api_tokens(seeded: Settings, site: str) -> None:
    rt = create_runtime(seeded)
    with unit_of_work(rt.sessions) as s:
        s.add(DashboardUser(username="official", role="provincial_official", province_code=20,
                            password_hash=auth.hash_password("official-pass-1"), created_at=NOW))
    rt.close()
    with httpx.Client(base_url=site) as official:
        csrf = _login(official, "official", "official-pass-1", page="/admin")
        assert official.get("/admin/tokens").status_code == 403
        refused = official.post("/admin/tokens", data={"csrf": csrf, "name": "x"})
        assert refused.status_code == 403 and "Chỉ quản trị viên" in refused.text
        assert "agb_" not in refused.text


def test_published_province_figures_never_carry_unit_lists(database_url: str, tmp_path: Path) -> None:
    cfg = _settings(database_url, tmp_path, publish_province_figures=True)
    rt = create_runtime(cfg)
    with unit_of_work(rt.sessions) as session:
        demo.seed(session, now=NOW)
    rt.close()
    with serve(create_app(cfg)) as url:
        public = httpx.get(f"{url}/api/indicators", params=QUERY)
        assert public.status_code == 200
        data = public.json()
        assert data["indicators"] and all("by_commune" not in i for i in data["indicators"])
        assert data["completeness"] and all("missing" not in c for c in data["completeness"])
        assert all("value" in i and "communes_reporting" in i for i in data["indicators"])
        assert httpx.get(f"{url}/api/indicators", params={**QUERY, "commune": 6385}).status_code == 401
        assert httpx.get(f"{url}/api/indicators.xlsx", params=QUERY).status_code == 401
        assert httpx.get(f"{url}/api/indicators.csv", params=QUERY).status_code == 401


# -- the web chat: identity, files, bad characters ------------------------------------------------
def _chat(client: httpx.Client, text: str | None = None, button: str | None = None) -> list[dict]:
    r = client.post("/api/chat", json={"text": text} if text is not None else {"button": button})
    assert r.status_code == 200, r.text
    return list(r.json()["replies"])


def test_a_web_official_keeps_their_role_and_files_through_their_secret_only(seeded: Settings, site: str) -> None:
    rt = create_runtime(seeded)
    with unit_of_work(rt.sessions) as session:
        code = people.create_invite(session, role=people.PROVINCIAL_OFFICIAL, province_code=20, now=NOW).code
    rt.close()
    official, stranger = httpx.Client(base_url=site), httpx.Client(base_url=site)
    _chat(official, code)
    secret = official.cookies["agribot_chat"]
    _chat(stranger, "chào")
    assert "dành cho cán bộ tỉnh" in _chat(stranger, "/chitieu")[0]["text"]
    # a stranger who sends the official's user id in the body is refused outright
    assert stranger.post("/api/chat", json={"user": "web-official", "text": "/chitieu"}).status_code == 422
    _chat(official, "/chitieu")
    _chat(official, button=f"ind:plan:{PLAN}")
    replies = _chat(official, button=f"ind:show:{PLAN}:2025")
    pick = next(b["data"] for r in replies for row in r["buttons"] for b in row if b["data"].startswith("ind:chart:"))
    image = next(r["image"] for r in _chat(official, button=pick) if r.get("image"))  # the indicator picked
    document = next(r["document"] for r in replies if r.get("document"))
    assert re.fullmatch(r"/files/[A-Za-z0-9-]*_[A-Za-z0-9_-]{32}\.png", image)  # 192 random bits in the name
    assert official.get(image).content[:4] == b"\x89PNG"  # the page's <img> loads with the cookie
    assert official.get(document).content[:2] == b"PK"
    assert stranger.get(image).status_code == 401 and httpx.get(f"{site}{document}").status_code == 401
    with httpx.Client(base_url=site) as admin:
        _login(admin)
        assert admin.get(document).status_code == 200  # a dashboard user may open it
    key_link = files.share_link(seeded.files_dir, image)  # what a Zalo message links to
    assert httpx.get(f"{site}{key_link}").status_code == 200
    assert httpx.get(f"{site}{image}?key=wrong-key").status_code == 401
    # the same browser, later (a new client with the same cookie): still the official
    again = httpx.Client(base_url=site, cookies={"agribot_chat": secret})
    assert "dành cho cán bộ tỉnh" not in _chat(again, "/chitieu")[0]["text"]


def test_pending_messages_are_read_only_with_the_secret(site: str) -> None:
    owner = httpx.Client(base_url=site)
    _chat(owner, "chào")
    assert owner.get("/api/chat/updates").json() == {"replies": []}
    assert httpx.get(f"{site}/api/chat/updates").status_code == 401
    assert httpx.get(f"{site}/api/chat/updates", params={"user": "web-anyone"}).status_code == 401
    forged = httpx.get(f"{site}/api/chat/updates", cookies={"agribot_chat": "short"})
    assert forged.status_code == 401
    page = httpx.get(f"{site}/")
    cookie = page.headers["set-cookie"]
    assert "agribot_chat=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


@pytest.mark.parametrize("body", [
    b'{"text": "c\\u00e1 n\\u1ed5i \\ud800\\u0000\\u0007 \\u0111\\u1ea7u"}',
    b'{"text": "ch\\u00e0o", "name": "Lan\\ud800\\u0000\\u001b"}',
    b'{"text": "\\udfff"}',
])
def test_surrogates_nul_and_control_characters_are_stripped_not_a_500(site: str, body: bytes) -> None:
    r = httpx.post(f"{site}/api/chat", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json()["replies"]
    assert "\\ud800" not in r.text and "\x00" not in r.text


def test_a_button_of_control_characters_only_is_a_422(site: str) -> None:
    r = httpx.post(f"{site}/api/chat", content=b'{"button": "\\u0000\\ud800"}',
                   headers={"content-type": "application/json"})
    assert r.status_code == 422 and "\\ud800" not in r.text


def test_invite_guessing_is_limited_per_client_address(seeded: Settings, site: str) -> None:
    rt = create_runtime(seeded)
    with unit_of_work(rt.sessions) as session:
        code = people.create_invite(session, role=people.PROVINCIAL_OFFICIAL, province_code=20, now=NOW).code
    rt.close()

    def guess(text: str) -> str:
        with httpx.Client(base_url=site, timeout=120) as browser:  # a new browser (a new identity) each time
            return str(_chat(browser, text)[0]["text"])

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(guess, ["AAAA-BBBB"] * (people.MAX_PER_ADDRESS + 10)))
    assert sum("sai mã nhiều lần" in a for a in answers) == 10  # past the address's limit: told to wait
    assert "sai mã nhiều lần" in guess(code)  # even the right code waits, from this address


def test_a_zalo_official_gets_chart_links_that_open_with_their_key_only(zalo, tmp_path: Path) -> None:  # noqa: F811
    fake, cfg = zalo
    cfg = Settings(**{**cfg.model_dump(), "files_dir": tmp_path / "files"})
    rt = create_runtime(cfg)
    with unit_of_work(rt.sessions) as session:
        demo.seed(session, now=NOW)
        code = people.create_invite(session, role=people.PROVINCIAL_OFFICIAL, province_code=20, now=NOW).code
    rt.close()
    user = "zalo-official"
    with serve(create_app(cfg)) as url, httpx.Client() as client:
        for n, text in enumerate((code, "/chitieu", f"#b:ind:plan:{PLAN}", f"#b:ind:show:{PLAN}:2025",
                                  f"#b:ind:chart:{PLAN}:2025:0"), start=1):  # the charts of the 1st indicator
            post_event(client, url, fake.event(user, text))
            wait_for(lambda n=n: len(fake.to(user)) >= n)
        sent = wait_for(lambda: next((m["text"] for m in fake.to(user) if "Ảnh: " in m["text"]), None))
        link = re.search(r"Ảnh: (https://bot\.example\.vn(/files/\S+))", sent)
        assert link and "?key=" in link.group(2)
        assert client.get(f"{url}{link.group(2)}").content[:4] == b"\x89PNG"  # opens without a login
        assert client.get(f"{url}{link.group(2).split('?')[0]}").status_code == 401  # the name alone does not
