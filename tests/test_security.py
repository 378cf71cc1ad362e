"""Role boundaries, floods, logs without personal data, and the dashboard's defences."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx

from bot.app import create_app
from bot.conversation.types import IncomingMessage
from bot.dashboard import auth
from bot.settings import Settings
from bot.storage.db import unit_of_work
from bot.storage.models import DashboardUser
from reporting import areas, people
from tests.builders import HUU_LUNG
from tests.fakes.server import serve, wait_for
from tests.test_telegram import CHAT, agribot, fake, tg_settings  # noqa: F401

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def _code(rt, role, **kw) -> str:
    with unit_of_work(rt.sessions) as s:
        return people.create_invite(s, role=role, now=NOW, **kw).code


def _say(rt, user, text=None, button=None, at=NOW):
    return rt.handle(IncomingMessage(channel="web", user_id=user, text=text, button=button, at=at))


def test_a_farmer_cannot_see_indicators_or_file_reports(runtime) -> None:
    assert "dành cho cán bộ tỉnh" in _say(runtime, "farmer", button="ind:show:ls-ktth-nn-2030:2025")[0].text
    assert "dành cho cán bộ khuyến nông xã, HTX và trang trại" in _say(runtime, "farmer", button="rpt:send")[0].text


def test_an_officer_answers_only_the_questions_of_their_commune(runtime) -> None:
    other = next(c.code for c in areas.communes_of(20) if c.code != HUU_LUNG)
    _say(runtime, "officer-a", _code(runtime, people.EXTENSION_OFFICER, commune_code=HUU_LUNG))
    _say(runtime, "officer-b", _code(runtime, people.EXTENSION_OFFICER, commune_code=other))
    _say(runtime, "farmer", "bò bị ghẻ lở")
    _say(runtime, "farmer", button="officer")
    _say(runtime, "farmer", "huu lung")
    assert "không thuộc địa bàn" in _say(runtime, "officer-b", button="ho:reply:1")[0].text
    assert "không thuộc địa bàn" in _say(runtime, "stranger", button="ho:reply:1")[0].text
    assert "gõ câu trả lời" in _say(runtime, "officer-a", button="ho:reply:1")[0].text


def test_no_personal_data_in_the_logs(settings, fake, caplog) -> None:  # noqa: F811
    tg, api = fake
    caplog.set_level(logging.INFO)
    secret_text = "nhà tôi số 0912345678 hầm biogas ít khí"
    with agribot(tg_settings(settings, api)):
        update = tg.text_update(CHAT, secret_text)
        update["message"]["from"]["first_name"] = "Hoàng Thị Nguyệt"
        update["message"]["chat"]["first_name"] = "Hoàng Thị Nguyệt"
        tg.queue(update)
        wait_for(lambda: tg.sent(CHAT))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "0912345678" not in logged and "Nguyệt" not in logged and secret_text not in logged


def test_only_admins_create_invites_and_pages_have_security_headers(tmp_path) -> None:
    cfg = Settings(database_url=f"sqlite:///{tmp_path / 'sec.db'}", admin_password="admin-pass-123")
    app = create_app(cfg)
    with unit_of_work(app.state.runtime.sessions) as s:
        s.add(DashboardUser(username="official", role="provincial_official", province_code=20,
                            password_hash=auth.hash_password("official-pass-1"), created_at=NOW))
    with serve(app) as url, httpx.Client(base_url=url) as client:
        assert client.post("/admin/login", data={"username": "official", "password": "official-pass-1"}
                           ).status_code == 303
        page = client.get("/admin/invites")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        refused = client.post("/admin/invites", data={"csrf": csrf, "role": "admin", "province": "20"})
        assert refused.status_code == 403 and "Chỉ quản trị viên" in refused.text
        for path in ("/admin", "/admin/login", "/"):
            headers = client.get(path).headers
            assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
            assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_a_forged_broadcast_area_button_is_refused_never_widened(runtime) -> None:
    """«Gửi tin»: the area button is checked on the server. A commune of another province or a
    made-up code is refused as stale — it never falls back to the whole province — and the
    official's text is kept to pick the area again."""
    from bot.conversation.types import IncomingMessage
    from bot.storage.db import unit_of_work
    from bot.storage.models import ChatUser, Subscription
    from reporting import areas, people
    from tests.builders import HUU_LUNG, NOW

    with unit_of_work(runtime.sessions) as s:
        code = people.create_invite(s, role=people.PROVINCIAL_OFFICIAL, province_code=20, now=NOW).code
        for i in range(3):
            s.add(ChatUser(channel="web", user_id=f"farmer-{i}", commune_code=HUU_LUNG))
            s.add(Subscription(channel="web", user_id=f"farmer-{i}", topic="rom-ra"))
    other = next(c for c in areas.communes().values() if c.province_code != 20)

    def say(text=None, button=None):
        return runtime.handle(IncomingMessage(channel="web", user_id="official", text=text, button=button, at=NOW))

    say(code)
    say("/guitin")
    say(button="bc:topic:rom-ra")
    asked = say("Bà con không đốt rơm rạ sau gặt, ủ làm phân.")
    assert "Gửi cho người đăng ký ở đâu?" in asked[0].text
    for forged in (f"bc:area:{other.code}", "bc:area:99999999", "bc:area:garbage"):
        replies = say(button=forged)
        assert "Nút này đã cũ" in replies[0].text
        assert not any(b.data == "bc:send" for r in replies for row in r.buttons for b in row)
    confirm = say(button=f"bc:area:{HUU_LUNG}")  # the right commune: the text was kept
    assert "Sẽ gửi tới 3 người đăng ký" in confirm[0].text and "không đốt rơm rạ" in confirm[0].text
