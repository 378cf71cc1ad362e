"""The flood limit holds across processes (kept in the database) and never drops a message in silence."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.conversation.types import IncomingMessage
from bot.runtime import create_runtime
from bot.settings import Settings
from bot.storage.models import AskedQuestion

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
FLOOD = "Bác gửi nhanh quá"


def _say(rt, user, text=None, button=None, at=NOW):
    return rt.handle(IncomingMessage(channel="web", user_id=user, text=text, button=button, at=at))


def test_a_flood_is_told_and_what_was_not_taken_is_said_after(runtime) -> None:
    replies = [_say(runtime, "flooder", f"giá lúa hôm nay {i}", at=NOW + timedelta(seconds=i)) for i in range(40)]
    assert all(r and FLOOD not in r[0].text for r in replies[:30])
    assert "chưa nhận tin này" in replies[30][0].text and "30 giây tới" in replies[30][0].text
    assert all(r == [] for r in replies[31:])
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AskedQuestion)) == 30
    later = _say(runtime, "flooder", "chào", at=NOW + timedelta(minutes=3))
    assert "chưa nhận 10 tin" in later[0].text and "«giá lúa hôm nay 39»" in later[0].text
    assert "Xin chào" in later[1].text  # and the message itself is answered
    again = _say(runtime, "flooder", "chào", at=NOW + timedelta(minutes=3, seconds=1))
    assert "chưa nhận" not in again[0].text  # said once


def test_the_typed_answer_after_a_fast_burst_is_not_lost_in_silence(settings) -> None:
    rt = create_runtime(Settings(**{**settings.model_dump(), "flood_limit_per_minute": 4}))
    try:
        for i in range(4):  # tapping fast through menus
            assert FLOOD not in _say(rt, "fast", button="menu", at=NOW + timedelta(seconds=i))[0].text
        warned = _say(rt, "fast", button="menu", at=NOW + timedelta(seconds=5))
        assert FLOOD in warned[0].text and "55 giây tới" in warned[0].text
        assert _say(rt, "fast", "bep biogas lua yeu", at=NOW + timedelta(seconds=8)) == []  # told in advance
        later = _say(rt, "fast", "chào", at=NOW + timedelta(seconds=70))
        assert "chưa nhận 2 tin" in later[0].text and "«bep biogas lua yeu»" in later[0].text
    finally:
        rt.close()


def test_the_limit_holds_across_processes(settings) -> None:
    """Two runtimes (as two processes: each its own engine and pool) on one database, 24 messages
    of one user at once: exactly the limit is handled, one warning, the rest not taken."""
    cfg = Settings(**{**settings.model_dump(), "flood_limit_per_minute": 6})
    runtimes = [create_runtime(cfg), create_runtime(cfg, upgrade_db=False)]
    results: list[list] = []
    lock = threading.Lock()
    barrier = threading.Barrier(24)

    def send(i: int) -> None:
        barrier.wait()
        replies = _say(runtimes[i % 2], "twin", f"giá lúa {i}", at=NOW + timedelta(seconds=1))
        with lock:
            results.append(replies)

    try:
        threads = [threading.Thread(target=send, args=(i,)) for i in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        handled = [r for r in results if r and FLOOD not in r[0].text]
        warned = [r for r in results if r and FLOOD in r[0].text]
        assert (len(handled), len(warned), results.count([])) == (6, 1, 17)
        with runtimes[0].sessions() as s:
            assert s.scalar(select(func.count()).select_from(AskedQuestion)) == 6
    finally:
        for rt in runtimes:
            rt.close()
