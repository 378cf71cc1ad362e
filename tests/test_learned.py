"""The bot learns from its farmers: an editor attaches a question on the dashboard, the running
bot answers it with that card at once, the CLI exports it, and the weekly shares are shown."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml

from bot.app import create_app
from bot.conversation.types import IncomingMessage
from bot.runtime import create_runtime
from bot.services import learned
from bot.settings import Settings
from bot.storage.db import unit_of_work
from bot.storage.models import AskedQuestion, Feedback
from tests.fakes.server import serve
from tests.test_cli import run

PASSWORD = "editor-pass-123"
QUESTION = "bã mía làm đệm lót heo được không"
CARD = "dem-lot/nguyen-lieu-che-pham"

SLOW = 60  # seconds: retraining the index in the request is slow on a busy machine (bench/ measures speed)


def _login(client: httpx.Client, url: str) -> str:
    client.post(f"{url}/admin/login", data={"username": "admin", "password": PASSWORD})
    page = client.get(f"{url}/admin/questions").text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_an_attached_question_is_answered_at_once_and_exported(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'learn.db'}"
    cfg = Settings(database_url=db, admin_password=PASSWORD)
    with serve(create_app(cfg)) as url, httpx.Client(follow_redirects=True, timeout=SLOW) as client:
        first = httpx.post(f"{url}/api/chat", json={"text": QUESTION}, timeout=SLOW).json()["replies"]  # a farmer
        assert "Có phải bác muốn hỏi" in first[0]["text"]  # not sure yet
        csrf = _login(client, url)
        page = client.get(f"{url}/admin/questions").text
        assert QUESTION in page and "Thêm làm câu hỏi mẫu" in page
        # a form without the session's CSRF token changes nothing
        refused = client.post(f"{url}/admin/questions/attach", data={"csrf": "x", "text": QUESTION, "card": CARD})
        assert refused.status_code == 403
        done = client.post(f"{url}/admin/questions/attach",
                           data={"csrf": csrf, "text": QUESTION, "card": CARD, "action": "attach"})
        assert done.status_code == 200 and "Bot dùng câu hỏi này ngay" in done.text
        assert "Đã là câu hỏi mẫu của thẻ" in done.text
        # the running bot answers it with that card now, without a restart
        again = httpx.post(f"{url}/api/chat", json={"text": QUESTION}, timeout=60).json()["replies"]  # another farmer
        assert again[0]["text"].startswith("📗 NGUYÊN LIỆU VÀ CHẾ PHẨM")
        # an unknown card is refused with a Vietnamese reason
        bad = client.post(f"{url}/admin/questions/attach", data={"csrf": csrf, "text": QUESTION, "card": "x/y"})
        assert bad.status_code == 422 and "Không có thẻ này" in bad.text
        # marked out of scope: exported under «out-of-scope»
        client.post(f"{url}/admin/questions/attach",
                    data={"csrf": csrf, "text": "máy tính bị virus phải làm sao", "action": "out_of_scope"})
    out = tmp_path / "learned.yaml"
    exported = run("content", "questions", "--export", "-o", str(out), env_db=db)
    assert exported.returncode == 0, exported.stderr
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data == {CARD: [QUESTION], "out-of-scope": ["máy tính bị virus phải làm sao"]}


def test_another_process_learns_within_seconds(tmp_path: Path) -> None:
    cfg = Settings(database_url=f"sqlite:///{tmp_path / 'two.db'}")
    bot_process, dashboard_process = create_runtime(cfg), create_runtime(cfg)
    try:
        with unit_of_work(dashboard_process.sessions) as session:
            learned.attach(session, text=QUESTION, card_id=CARD, by="editor",
                           known_cards=dashboard_process.services.library.cards)
        with bot_process.sessions() as session:
            index = bot_process.services.index.refresh(session, force=True)  # what the 5-second check does
        assert index.search(QUESTION).answer == CARD
    finally:
        bot_process.close()
        dashboard_process.close()


def test_weekly_shares_of_unanswered_and_not_right(tmp_path: Path) -> None:
    cfg = Settings(database_url=f"sqlite:///{tmp_path / 'weeks.db'}", admin_password=PASSWORD)
    rt = create_runtime(cfg)
    now = datetime.now(UTC)
    asked = ["bếp biogas nhà tôi lửa yếu quá", "máy tính bị virus phải làm sao", "cho tôi gặp cán bộ"]
    for n, text in enumerate(asked):
        rt.handle(IncomingMessage(channel="web", user_id=f"w{n}", text=text, at=now))
    with unit_of_work(rt.sessions) as session:
        session.add(Feedback(channel="web", user_id="w0", card_id="biogas/it-khi", helpful=False, created_at=now))
        session.add(AskedQuestion(at=now - timedelta(days=8), channel="web", outcome=learned.REFUSED))
        weeks = learned.weekly_shares(session, now=now, weeks=3)
    rt.close()
    this, last = weeks[0], weeks[1]
    # greetings and requests for a person are not questions for the cards
    assert (this.asked, this.answered, this.refused, this.not_right) == (2, 1, 1, 1)
    assert this.share(this.refused) == 50.0 and last.asked == 1
    assert this.label.startswith("Tuần ") and "/" in this.label
    with serve(create_app(cfg)) as url, httpx.Client(follow_redirects=True, timeout=SLOW) as client:
        _login(client, url)
        page = client.get(f"{url}/admin/feedback").text
    assert "Theo tuần" in page and this.label in page and "50 %" in page
