"""Hand-over across channels, escalation, reminders, quiet hours, broadcasts and the leader."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from bot.channels import web_identity
from bot.conversation.types import IncomingMessage, Reply
from bot.runtime import create_runtime
from bot.scheduling import jobs
from bot.sending import delivery
from bot.settings import Settings
from bot.storage.db import unit_of_work
from bot.storage.models import ChatUser, HandoverRequest, OutgoingMessage
from reporting import areas, people
from reporting.models import ReportingUnit
from tests.builders import HUU_LUNG, filed, straw_broadcast
from tests.conftest import POSTGRES_URL, ROOT
from tests.fakes.server import wait_for
from tests.test_telegram import CHAT, agribot, fake, texts, tg_settings  # noqa: F401

VN_MORNING = datetime(2026, 12, 3, 0, 30, tzinfo=UTC)  # 07:30 in Vietnam


def _invite(rt, role: str, **kwargs) -> str:
    with unit_of_work(rt.sessions) as session:
        return people.create_invite(session, role=role, now=datetime.now(UTC), **kwargs).code


def test_handover_round_trip_web_farmer_telegram_officer(settings, fake) -> None:  # noqa: F811
    tg, api = fake
    cfg = tg_settings(settings, api)
    rt = create_runtime(cfg)
    code = _invite(rt, people.EXTENSION_OFFICER, commune_code=HUU_LUNG)
    rt.close()
    with agribot(cfg) as url:
        tg.queue(tg.text_update(CHAT, f"/start {code}"))
        wait_for(lambda: len(tg.sent(CHAT)) == 1)

        farmer = httpx.Client(base_url=url, timeout=30)  # the farmer's browser, with its secret cookie

        def chat(**body):
            return farmer.post("/api/chat", json=body).json()["replies"]

        assert "chưa có câu trả lời" in chat(text="máy tính bị virus, sửa ở đâu")[0]["text"]
        assert "xã" in chat(button="officer")[0]["text"]
        assert "Đã chuyển câu hỏi" in chat(text="huu lung")[0]["text"]
        wait_for(lambda: len(tg.sent(CHAT)) == 2)  # the queue delivered it to the officer on Telegram
        card = tg.sent(CHAT)[1].params
        assert "máy tính bị virus, sửa ở đâu" in card["text"]
        reply_button = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        assert reply_button.startswith("ho:reply:")
        tg.queue(tg.callback_update(CHAT, reply_button))
        wait_for(lambda: len(tg.sent(CHAT)) == 3)
        tg.queue(tg.text_update(CHAT, "Bác gọi thú y xã đến ngay, giữ ấm cho lợn nái."))
        wait_for(lambda: len(tg.sent(CHAT)) == 4)
        assert "Đã gửi câu trả lời" in texts(tg)[3]

        def later():
            return farmer.get("/api/chat/updates").json()["replies"]

        stranger = httpx.Client(base_url=url)
        stranger.post("/api/chat", json={"text": "chào"})  # another browser, with its own secret
        assert stranger.get("/api/chat/updates").json()["replies"] == []
        assert httpx.get(f"{url}/api/chat/updates").status_code == 401  # no secret, nothing to read
        answer = wait_for(later)
        assert "Bác gọi thú y xã đến ngay" in answer[0]["text"]
        assert later() == []  # delivered once
        rate = answer[0]["buttons"][0][0]["data"]
        assert "Cảm ơn bác đã đánh giá" in chat(button=rate)[0]["text"]
        farmer_id = web_identity.user_id(farmer.cookies[web_identity.COOKIE])
    rt = create_runtime(cfg)
    try:
        with rt.sessions() as s:
            request = s.scalars(select(HandoverRequest)).one()
            assert (request.state, request.rating, request.commune_code) == ("answered", 1, HUU_LUNG)
            assert s.get(ChatUser, ("web", farmer_id)).commune_code == HUU_LUNG  # remembered
    finally:
        rt.close()


def test_unanswered_questions_escalate_after_24_hours(settings) -> None:
    cfg = Settings(**{**settings.model_dump(), "scheduler_enabled": False})
    rt = create_runtime(cfg)
    try:
        official = _invite(rt, people.PROVINCIAL_OFFICIAL, province_code=20)
        officer = _invite(rt, people.EXTENSION_OFFICER, commune_code=HUU_LUNG)
        start = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)

        def say(user, text=None, button=None, at=start):
            return rt.handle(IncomingMessage(channel="web", user_id=user, text=text, button=button, at=at))

        say("official", official)
        say("officer", officer)
        say("farmer", "bò bị chướng hơi")
        say("farmer", button="officer")
        say("farmer", "Hữu Lũng")
        assert jobs.escalate_handovers(rt, now=start + timedelta(hours=23)) == 0
        assert jobs.escalate_handovers(rt, now=start + timedelta(hours=25)) == 1
        assert jobs.escalate_handovers(rt, now=start + timedelta(hours=26)) == 0  # once
        with rt.sessions() as s:
            to = [(m.user_id, m.kind) for m in s.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id))]
            assert s.scalars(select(HandoverRequest)).one().escalated_at is not None
        assert to == [("officer", "handover"), ("official", "handover")]
    finally:
        rt.close()


def test_reminders_go_only_to_units_that_have_not_reported(settings) -> None:
    cfg = Settings(**{**settings.model_dump(), "scheduler_enabled": False})
    rt = create_runtime(cfg)
    try:
        other = next(c.code for c in areas.communes_of(20) if c.code != HUU_LUNG)
        for user, commune in (("done", HUU_LUNG), ("late", other)):
            rt.handle(IncomingMessage(channel="web", user_id=user,
                                      text=_invite(rt, people.EXTENSION_OFFICER, commune_code=commune)))
        with unit_of_work(rt.sessions) as s:
            unit = s.scalars(select(ReportingUnit).where(ReportingUnit.commune_code == HUU_LUNG)).one()
            filed(s, unit, "commune", {"households_applying": 1, "hh_biogas": 1, "hh_bedding": 0, "hh_compost": 0,
                                       "hh_other": 0, "straw_reused_t": 1.0, "farms_reached": 0, "coops_reached": 0,
                                       "staff_trained": 0}, period="2026S2")
        assert jobs.send_reminders(rt, now=VN_MORNING) == 1  # 7 days before 10 December
        assert jobs.send_reminders(rt, now=VN_MORNING) == 0  # the job ran twice: nothing twice
        assert jobs.send_reminders(rt, now=VN_MORNING + timedelta(days=1)) == 0  # no reminder day
        with rt.sessions() as s:
            row = s.scalars(select(OutgoingMessage)).one()
        assert row.user_id == "late" and row.kind == "reminder"
        reply = delivery.replies_of(row)[0]
        assert "10/12/2026" in reply.text and "còn 7 ngày" in reply.text
        assert reply.buttons[0][0].data == "rpt:form:commune"
    finally:
        rt.close()


def test_quiet_hours_hold_messages_until_morning(settings) -> None:
    late_evening = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 22:00 in Vietnam
    morning = delivery.after_quiet_hours(late_evening)
    assert morning == datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # 06:30 next day in Vietnam
    assert delivery.after_quiet_hours(datetime(2026, 11, 24, 3, 0, tzinfo=UTC)) == datetime(2026, 11, 24, 3, 0,
                                                                                             tzinfo=UTC)
    cfg = Settings(**{**settings.model_dump(), "scheduler_enabled": False})
    rt = create_runtime(cfg)
    try:
        with unit_of_work(rt.sessions) as s:
            delivery.enqueue(s, channel="web", user_id="u", replies=[Reply("Nhắc hạn")], kind="reminder",
                             now=late_evening)
            delivery.enqueue(s, channel="web", user_id="u", replies=[Reply("Cán bộ trả lời")], kind="handover",
                             now=late_evening, quiet=False)
        with unit_of_work(rt.sessions) as s:
            due_at_night = [r.kind for r in delivery.claim(s, now=late_evening + timedelta(hours=1), limit=10)]
        with unit_of_work(rt.sessions) as s:
            due_in_morning = [r.kind for r in delivery.claim(s, now=morning, limit=10)]
        assert due_at_night == ["handover"] and due_in_morning == ["reminder"]
    finally:
        rt.close()


def test_broadcast_of_2000_with_429s_and_a_restart_reaches_each_recipient_once(settings, fake) -> None:  # noqa: F811
    tg, api = fake
    cfg = tg_settings(settings, api)
    cfg = Settings(**{**cfg.model_dump(), "telegram_rate_overall": 400.0})
    n = 2000
    broadcast_id, recipients = straw_broadcast(cfg, n, first_chat=10_000)
    assert recipients == n
    tg.failures["sendMessage"] = [(429, 1), (429, 1), (502, None)]

    def delivered() -> int:
        return len(tg.sent(ok_only=True))

    with agribot(cfg):
        wait_for(lambda: delivered() >= n // 2, timeout=120)
    halfway = delivered()
    assert halfway < n  # stopped in the middle
    tg.failures["sendMessage"] = [(429, 1)]
    with agribot(cfg):
        wait_for(lambda: delivered() >= n, timeout=180)
        time.sleep(1.0)
    per_chat: dict[int, int] = {}
    for call in tg.sent(ok_only=True):
        per_chat[int(call.params["chat_id"])] = per_chat.get(int(call.params["chat_id"]), 0) + 1
    assert len(per_chat) == n and set(per_chat.values()) == {1}
    rt = create_runtime(cfg)
    try:
        with rt.sessions() as s:
            assert delivery.progress(s, broadcast_id=broadcast_id) == {
                "sent": n, "pending": 0, "failed": 0, "uncertain": 0}
            assert s.scalar(select(func.count()).select_from(OutgoingMessage)) == n
    finally:
        rt.close()


@pytest.mark.skipif(POSTGRES_URL is None, reason="PostgreSQL not reachable: leader election needs its advisory locks")
def test_one_leader_among_two_processes_and_a_takeover() -> None:
    script = str(ROOT / "tests" / "fakes" / "leader.py")
    env = {"PYTHONPATH": str(ROOT)}
    import os

    env = {**os.environ, **env}
    first = subprocess.Popen([sys.executable, script, POSTGRES_URL], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert first.stdout.readline().strip() == "waiting"
        assert first.stdout.readline().strip() == "leader"
        second = subprocess.Popen([sys.executable, script, POSTGRES_URL], stdout=subprocess.PIPE, text=True, env=env)
        try:
            assert second.stdout.readline().strip() == "waiting"
            time.sleep(1.5)
            os.set_blocking(second.stdout.fileno(), False)
            assert not second.stdout.readline()  # still waiting while the first leads
            first.kill()  # the leader dies; its connection and lock go with it
            first.wait()
            os.set_blocking(second.stdout.fileno(), True)
            assert second.stdout.readline().strip() == "leader"
        finally:
            second.kill()
            second.wait()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()


def test_worker_finishes_in_flight_messages_when_stopped(settings) -> None:
    from bot.sending.worker import DeliveryWorker

    cfg = Settings(**{**settings.model_dump(), "scheduler_enabled": False})
    rt = create_runtime(cfg)
    seen: list[str] = []

    async def slow(user_id: str, replies: list[Reply], dispatch: object) -> str:
        await asyncio.sleep(0.3)
        seen.append(user_id)
        return "sent"

    try:
        with unit_of_work(rt.sessions) as s:
            for i in range(5):
                delivery.enqueue(s, channel="slow", user_id=f"u{i}", replies=[Reply("x")], kind="broadcast",
                                 now=datetime.now(UTC), quiet=False)

        async def run() -> None:
            worker = DeliveryWorker(rt, {"slow": slow}, concurrency=5)
            worker.start()
            await asyncio.sleep(0.1)
            await worker.stop()

        asyncio.run(run())
        with rt.sessions() as s:
            states = sorted(s.scalars(select(OutgoingMessage.state)))
        assert sorted(seen) == [f"u{i}" for i in range(5)] and states == ["sent"] * 5
    finally:
        rt.close()


def test_a_message_cut_off_by_a_crash_goes_on_after_the_calls_already_made(settings, fake) -> None:  # noqa: F811
    tg, api = fake
    cfg = Settings(**{**tg_settings(settings, api).model_dump(), "delivery_lease_seconds": 1.0})
    rt = create_runtime(cfg)
    try:
        with unit_of_work(rt.sessions) as s:
            row = delivery.enqueue(s, channel="telegram", user_id=str(CHAT), kind="handover", quiet=False,
                                   replies=[Reply("Phần một"), Reply("Phần hai"), Reply("Phần ba")],
                                   now=datetime.now(UTC))
            assert row is not None
            message_id = row.id
            # a process sent part one, and died while part two was on the wire; part three waits
            row.state, row.claimed_at = "sending", datetime.now(UTC) - timedelta(minutes=5)
            row.parts_done, row.in_flight = 1, True
    finally:
        rt.close()
    with agribot(cfg):
        wait_for(lambda: tg.sent(CHAT), timeout=60)  # the lease runs out, the leader takes the row back
        time.sleep(1.5)
    assert texts(tg) == ["Phần ba"]  # one not repeated, two not repeated (it may have arrived), three sent
    rt = create_runtime(cfg)
    try:
        with rt.sessions() as s:
            row = s.get(OutgoingMessage, message_id)
            assert (row.state, row.parts_done, row.uncertain, row.in_flight) == ("sent", 3, 1, False)
    finally:
        rt.close()


def test_a_live_process_keeps_its_lease_while_a_long_send_waits(settings) -> None:
    """A send that outlasts the lease (a long 429 wait) is not taken over by another process."""
    from bot.sending.worker import DeliveryWorker

    cfg = Settings(**{**settings.model_dump(), "scheduler_enabled": False, "delivery_lease_seconds": 0.4})
    first, second = create_runtime(cfg), create_runtime(cfg)  # two processes on one database
    calls: list[str] = []

    async def slow(user_id: str, replies: list[Reply], dispatch: object) -> str:
        calls.append(user_id)
        await asyncio.sleep(1.5)  # nearly four leases
        return "sent"

    try:
        with unit_of_work(first.sessions) as s:
            delivery.enqueue(s, channel="slow", user_id="u1", replies=[Reply("x")], kind="broadcast",
                             now=datetime.now(UTC), quiet=False)

        async def run() -> None:
            sending = DeliveryWorker(first, {"slow": slow}, concurrency=5, idle_seconds=0.05)
            sending.start()
            await asyncio.sleep(0.2)  # the first process holds the row
            watching = DeliveryWorker(second, {"slow": slow}, concurrency=5, idle_seconds=0.05)
            watching.start()  # and recovers rows whose lease ran out, every 0.1 s
            await asyncio.sleep(2.5)
            for worker, rt in ((sending, first), (watching, second)):
                await worker.stop()
                await rt.leases.stop()

        asyncio.run(run())
        with first.sessions() as s:
            states = list(s.scalars(select(OutgoingMessage.state)))
        assert calls == ["u1"] and states == ["sent"]
    finally:
        first.close()
        second.close()
