"""No question left with nobody: a commune without an officer sends the farmer's question to the
province's queue, the province's officials get it and answer in chat or on the dashboard, the
answer reaches the farmer; /cauhoi lists an officer's open questions oldest first; forged buttons
change nothing; a question answered once is not answered twice; unanswered questions escalate
again, at most once per interval, and show as overdue."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.conversation.types import IncomingMessage, Reply
from bot.runtime import Runtime, create_runtime
from bot.scheduling import jobs
from bot.sending import delivery
from bot.services import handovers
from bot.settings import Settings
from bot.storage.db import unit_of_work
from bot.storage.models import HandoverRequest, OutgoingMessage
from reporting import areas, people
from tests.builders import HUU_LUNG
from tests.fakes.server import serve, wait_for
from tests.test_browser import CHROMIUM, page, site  # noqa: F401
from tests.test_browser import PASSWORD as BROWSER_PASSWORD

START = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
PASSWORD = "province-pass-123"
NO_OFFICER = "Xã của bác chưa có cán bộ khuyến nông đăng ký với hệ thống"
OTHER = next(c for c in areas.communes_of(20) if c.code != HUU_LUNG)  # another commune of Lạng Sơn


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    runtime = create_runtime(Settings(**{**settings.model_dump(), "scheduler_enabled": False}))
    yield runtime
    runtime.close()


def say(rt: Runtime, user: str, text: str | None = None, *, button: str | None = None,
        at: datetime = START, channel: str = "web") -> list[Reply]:
    return rt.handle(IncomingMessage(channel=channel, user_id=user, text=text, button=button, at=at))


def joined(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def data(replies: list[Reply]) -> list[str]:
    return [b.data for r in replies for row in r.buttons for b in row]


def register(rt: Runtime, user: str, role: str, **where: int) -> None:
    with unit_of_work(rt.sessions) as session:
        code = people.create_invite(session, role=role, now=START, **where).code
    assert "Đăng ký thành công" in joined(say(rt, user, code))


def ask(rt: Runtime, farmer: str, question: str, commune: str, at: datetime = START) -> str:
    """The farmer types a question, presses «Hỏi cán bộ», names the commune; the bot's answer."""
    say(rt, farmer, question, at=at)
    first = joined(say(rt, farmer, button="officer", at=at))
    if "Bác ở xã (phường) nào?" in first:
        return joined(say(rt, farmer, commune, at=at))
    return first


def sent_to(rt: Runtime, user: str) -> list[Reply]:
    """What the delivery queue holds for ``user``, in order (each reply of each row)."""
    with rt.sessions() as s:
        rows = s.scalars(select(OutgoingMessage).where(OutgoingMessage.user_id == user)
                         .order_by(OutgoingMessage.id)).all()
        return [reply for row in rows for reply in delivery.replies_of(row)]


def request_of(rt: Runtime, farmer: str) -> HandoverRequest:
    with rt.sessions() as s:
        return s.scalars(select(HandoverRequest).where(HandoverRequest.user_id == farmer)).one()


def test_a_commune_without_officer_goes_to_the_province_and_the_official_answers_in_chat(rt) -> None:
    register(rt, "official", people.PROVINCIAL_OFFICIAL, province_code=20)
    register(rt, "officer-elsewhere", people.EXTENSION_OFFICER, commune_code=OTHER.code)
    told = ask(rt, "farmer", "rơm ủ urê bị mốc trắng có cho bò ăn được không", "Hữu Lũng")
    assert NO_OFFICER in told and "gửi lên cán bộ của tỉnh" in told
    assert "115" not in told  # not an emergency
    request = request_of(rt, "farmer")
    assert request.state == "open" and request.escalated_at is not None and request.province_code == 20
    assert sent_to(rt, "officer-elsewhere") == []  # another commune's officer is not asked
    notice = sent_to(rt, "official")
    assert len(notice) == 1 and "rơm ủ urê bị mốc trắng" in notice[0].text and "Xã Hữu Lũng" in notice[0].text
    assert "chưa có cán bộ khuyến nông đăng ký" in notice[0].text
    reply_button = data(notice)[0]
    assert reply_button == f"ho:reply:{request.id}"
    assert "gõ câu trả lời" in joined(say(rt, "official", button=reply_button, at=START + timedelta(hours=1)))
    done = say(rt, "official", "Rơm mốc trắng thì không cho ăn, bỏ phần mốc đi, ủ mẻ mới kín hơn.",
               at=START + timedelta(hours=1))
    assert "Đã gửi câu trả lời" in joined(done)
    answer = sent_to(rt, "farmer")
    assert len(answer) == 1
    assert "Rơm mốc trắng thì không cho ăn" in answer[0].text and "Cán bộ khuyến nông của tỉnh" in answer[0].text
    assert request_of(rt, "farmer").state == "answered"
    # the farmer rates it from the delivered message's own button
    assert "Cảm ơn bác đã đánh giá" in joined(say(rt, "farmer", button=data(answer)[0]))


def test_a_commune_with_an_officer_says_so_and_never_offers_115(rt) -> None:
    register(rt, "officer", people.EXTENSION_OFFICER, commune_code=HUU_LUNG)
    told = ask(rt, "farmer", "đệm lót bị ướt nhão phải làm sao", "Hữu Lũng")
    assert "Đã chuyển câu hỏi" in told and NO_OFFICER not in told and "115" not in told
    assert request_of(rt, "farmer").escalated_at is None  # the commune's officer has it
    assert len(sent_to(rt, "officer")) == 1
    emergency = joined(say(rt, "farmer2", "có người ngất dưới hầm biogas"))
    assert "115" in emergency  # an emergency still says 115


def test_cauhoi_lists_open_questions_oldest_first_and_answers_from_the_list(rt) -> None:
    register(rt, "officer", people.EXTENSION_OFFICER, commune_code=HUU_LUNG)
    questions = {"farmer-a": "lợn con tiêu chảy sau khi chuyển sang đệm lót",
                 "farmer-b": "hầm biogas mới xây bao lâu thì có khí",
                 "farmer-c": "rơm rạ ủ nấm rơm xong thì làm phân được không"}
    for hours, (farmer, question) in enumerate(questions.items()):
        ask(rt, farmer, question, "Hữu Lũng", at=START + timedelta(hours=hours * 10))
    ask(rt, "farmer-x", "tôm nổi đầu buổi sáng", OTHER.name, at=START)  # another commune: not this officer's
    now = START + timedelta(hours=30)
    listed = say(rt, "officer", "/cauhoi", at=now)
    text = joined(listed)
    assert "3 câu" in text
    positions = [text.index(q) for q in questions.values()]
    assert positions == sorted(positions)  # oldest first
    assert "tôm nổi đầu" not in text
    lines = text.split("\n\n")[1:]
    assert "quá hạn" in lines[0] and "đã chờ 1 ngày 6 giờ" in lines[0]  # asked 30 hours ago (limit: 24)
    assert "quá hạn" not in lines[1] and "quá hạn" not in lines[2]  # 20 and 10 hours
    ids = {farmer: request_of(rt, farmer).id for farmer in questions}
    assert data(listed) == [f"ho:reply:{ids[f]}" for f in questions]
    # answer the second from the list
    assert "hầm biogas mới xây" in joined(say(rt, "officer", button=data(listed)[1], at=now))
    done = say(rt, "officer", "Khoảng 2–3 tuần sau khi nạp phân đủ, trời lạnh thì lâu hơn.", at=now)
    assert "Đã gửi câu trả lời" in joined(done) and "ho:list" in data(done)  # others still wait
    assert "Cán bộ khuyến nông xã" in sent_to(rt, "farmer-b")[0].text
    again = say(rt, "officer", button="ho:list", at=now)
    assert "2 câu" in joined(again) and data(again) == [f"ho:reply:{ids['farmer-a']}", f"ho:reply:{ids['farmer-c']}"]
    # the menu offers the list to an officer, not to a farmer
    assert "ho:list" in data(say(rt, "officer", "menu", at=now))
    assert "ho:list" not in data(say(rt, "farmer-a", "menu", at=now))
    refused = joined(say(rt, "farmer-a", "/cauhoi", at=now))
    assert "dành cho cán bộ khuyến nông xã và cán bộ tỉnh" in refused


def test_forged_and_stale_buttons_change_nothing(rt) -> None:
    register(rt, "officer", people.EXTENSION_OFFICER, commune_code=HUU_LUNG)
    register(rt, "officer-other", people.EXTENSION_OFFICER, commune_code=OTHER.code)
    register(rt, "official", people.PROVINCIAL_OFFICIAL, province_code=20)
    register(rt, "official-other", people.PROVINCIAL_OFFICIAL, province_code=1)  # Hà Nội
    ask(rt, "farmer", "phân ủ có mùi hôi thối", "Hữu Lũng")
    request_id = request_of(rt, "farmer").id
    refusal = "không thuộc địa bàn của bác"
    for user, button in (("officer-other", f"ho:reply:{request_id}"),  # another commune
                         ("official", f"ho:reply:{request_id}"),  # not in the province's queue yet
                         ("official-other", f"ho:done:{request_id}"),  # another province
                         ("farmer", f"ho:reply:{request_id}"),  # not an officer at all
                         ("stranger", f"ho:done:{request_id}"),
                         ("officer", "ho:reply:999999"),  # no such question
                         ("officer", "ho:reply:1e3"), ("officer", "ho:reply:-1"), ("officer", "ho:reply:")):
        assert refusal in joined(say(rt, user, button=button)), (user, button)
    # a forged rating from someone else is refused too
    assert "Nút này đã cũ" in joined(say(rt, "stranger", button=f"ho:rate:{request_id}:up"))
    # the officer's answering step cannot be pointed at another question by a stale state
    assert "gõ câu trả lời" in joined(say(rt, "officer", button=f"ho:reply:{request_id}"))
    assert "Đã gửi câu trả lời" in joined(say(rt, "officer", "Bác đảo đống ủ, thêm rơm khô cho thoáng."))
    # a button of an answered question: who answered, and nothing sent again
    stale = joined(say(rt, "officer", button=f"ho:reply:{request_id}"))
    assert "đã được trả lời rồi" in stale and "Cán bộ khuyến nông xã" in stale
    assert "đã được trả lời rồi" in joined(say(rt, "officer", button=f"ho:done:{request_id}"))
    with rt.sessions() as s:
        row = s.get(HandoverRequest, request_id)
        assert (row.state, row.rating) == ("answered", None)
    assert len(sent_to(rt, "farmer")) == 1


def test_two_officials_answer_at_once_one_wins_the_other_is_told(rt) -> None:
    register(rt, "official-1", people.PROVINCIAL_OFFICIAL, province_code=20)
    register(rt, "official-2", people.PROVINCIAL_OFFICIAL, province_code=20)
    ask(rt, "farmer", "chế phẩm EM pha bao nhiêu cho ao cá", "Hữu Lũng")
    button = f"ho:reply:{request_of(rt, 'farmer').id}"
    say(rt, "official-1", button=button)
    say(rt, "official-2", button=button)  # both are typing
    assert "Đã gửi câu trả lời" in joined(say(rt, "official-1", "Pha 1 lít EM thứ cấp cho 1.000 m³ nước."))
    second = joined(say(rt, "official-2", "Khoảng 2 lít cho mỗi sào ao."))
    assert "đã được trả lời rồi" in second and "Cán bộ tỉnh" in second and "không gửi nữa" in second
    got = sent_to(rt, "farmer")
    assert len(got) == 1 and "1 lít EM" in got[0].text


def test_at_the_same_moment_on_postgresql_exactly_one_answer_wins(postgres_schema_url: str) -> None:
    cfg = Settings(database_url=postgres_schema_url, scheduler_enabled=False)
    rt = create_runtime(cfg)
    try:
        ask(rt, "farmer", "ủ phân chuồng bao lâu thì dùng được", "Hữu Lũng")
        request_id = request_of(rt, "farmer").id
        t = rt.services.messages
        results: list[bool] = []
        first = rt.sessions()
        won = handovers.answer(first, request=first.get(HandoverRequest, request_id), by="dashboard:a",
                               from_province=True, text="Khoảng 2 tháng.", now=START, t=t)  # not committed yet

        def second() -> None:
            with unit_of_work(rt.sessions) as session:
                request = session.get(HandoverRequest, request_id)
                assert request is not None and request.state == "open"  # it looks open: the first has not committed
                results.append(handovers.answer(session, request=request, by="dashboard:b", from_province=True,
                                                text="Ba tháng.", now=START, t=t))

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive()  # the second waits on the row
        first.commit()
        first.close()
        thread.join(timeout=30)
        assert won is True and results == [False]
        assert [r.text for r in sent_to(rt, "farmer")] == [
            "👨‍🌾 Cán bộ khuyến nông của tỉnh trả lời câu hỏi «ủ phân chuồng bao lâu thì dùng được»:"
            "\n\nKhoảng 2 tháng."]
    finally:
        rt.close()


def test_unanswered_questions_escalate_again_once_per_interval(rt) -> None:
    register(rt, "officer", people.EXTENSION_OFFICER, commune_code=HUU_LUNG)
    register(rt, "official", people.PROVINCIAL_OFFICIAL, province_code=20)
    ask(rt, "farmer", "trâu ăn rơm ủ bị chướng bụng", "Hữu Lũng")
    assert sent_to(rt, "official") == []  # the commune's officer has it
    assert "Hiện không có câu hỏi nào" in joined(say(rt, "official", "/cauhoi"))  # not in the province's queue
    hours = rt.settings.handover_escalate_hours
    assert hours == 24
    assert jobs.escalate_handovers(rt, now=START + timedelta(hours=23)) == 0
    assert jobs.escalate_handovers(rt, now=START + timedelta(hours=25)) == 1
    assert jobs.escalate_handovers(rt, now=START + timedelta(hours=25, minutes=10)) == 0  # the job ran again
    moved = sent_to(rt, "official")
    assert len(moved) == 1 and "chuyển lên tỉnh" in moved[0].text and "trâu ăn rơm ủ" in moved[0].text
    assert "đã chờ 1 ngày 1 giờ" in moved[0].text
    assert request_of(rt, "farmer").escalated_at == START + timedelta(hours=25)
    assert jobs.escalate_handovers(rt, now=START + timedelta(hours=48)) == 0  # 23 hours after the move
    assert jobs.escalate_handovers(rt, now=START + timedelta(hours=49)) == 1  # told again
    assert jobs.escalate_handovers(rt, now=START + timedelta(hours=49, minutes=10)) == 0
    again = sent_to(rt, "official")
    assert len(again) == 2 and "Nhắc lại" in again[1].text and "đã chờ 2 ngày 1 giờ" in again[1].text
    assert len(sent_to(rt, "officer")) == 1  # the officer was told once, when it was asked
    listed = say(rt, "official", "/cauhoi", at=START + timedelta(hours=50))
    assert "quá hạn" in joined(listed) and "trâu ăn rơm ủ" in joined(listed)
    say(rt, "official", button=data(listed)[0], at=START + timedelta(hours=50))
    say(rt, "official", "Cho trâu đi lại, xoa bụng, gọi thú y xã nếu không đỡ.", at=START + timedelta(hours=50))
    assert "gọi thú y xã" in sent_to(rt, "farmer")[0].text
    assert jobs.escalate_handovers(rt, now=START + timedelta(hours=100)) == 0  # answered: no more notices
    with rt.sessions() as s:
        assert s.get(HandoverRequest, request_of(rt, "farmer").id).notices == 2


def _csrf(client: httpx.Client, url: str) -> str:
    html = client.get(f"{url}/admin/handovers").text
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_the_dashboard_answers_a_province_question_and_the_farmer_gets_it(tmp_path) -> None:
    cfg = Settings(database_url=f"sqlite:///{tmp_path / 'queue.db'}", admin_password=PASSWORD)
    with serve(create_app(cfg)) as url, httpx.Client(follow_redirects=True, timeout=60) as admin:
        farmer = httpx.Client(base_url=url, timeout=60)  # the farmer's browser, with its own secret cookie

        def chat(**body: str) -> str:
            return "\n".join(r["text"] for r in farmer.post("/api/chat", json=body).json()["replies"])

        chat(text="giun quế nuôi bằng phân bò có cần ủ trước không")
        chat(button="officer")
        assert NO_OFFICER in chat(text="huu lung")
        rt = create_runtime(cfg)
        try:
            with unit_of_work(rt.sessions) as s:  # an older question, asked 30 hours ago
                s.add(HandoverRequest(channel="web", user_id="someone", commune_code=OTHER.code, province_code=20,
                                      question="bùn ao tôm để làm phân được không", notices=0,
                                      created_at=datetime.now(UTC) - timedelta(hours=30)))
            with rt.sessions() as s:
                ours = s.scalars(select(HandoverRequest).where(HandoverRequest.user_id != "someone")).one().id
        finally:
            rt.close()
        admin.post(f"{url}/admin/login", data={"username": "admin", "password": PASSWORD})
        csrf = _csrf(admin, url)
        page = admin.get(f"{url}/admin/handovers").text
        assert page.index("bùn ao tôm") < page.index("giun quế")  # oldest first
        assert "Xã Hữu Lũng" in page and OTHER.name in page and "Hàng đợi của tỉnh" in page
        old_row = re.search(r'<tr data-id="\d+" data-state="(\w+)">\s*<td>\d+</td>\s*<td>' + re.escape(OTHER.name),
                            page)
        assert old_row is not None and old_row.group(1) == "overdue"
        assert page.count("quá hạn</strong>") == 1  # only the old one
        # without the session's CSRF token nothing is answered
        forged = admin.post(f"{url}/admin/handovers/{ours}/answer", data={"csrf": "forged", "text": "x"})
        assert forged.status_code == 403
        empty = admin.post(f"{url}/admin/handovers/{ours}/answer", data={"csrf": csrf, "text": "   "})
        assert empty.status_code == 422 and "Chưa có nội dung câu trả lời" in empty.text
        missing = admin.post(f"{url}/admin/handovers/999999/answer", data={"csrf": csrf, "text": "Có."})
        assert missing.status_code == 404 and "Không có câu hỏi này" in missing.text
        done = admin.post(f"{url}/admin/handovers/{ours}/answer",
                          data={"csrf": csrf, "text": "Nên ủ phân bò 2–3 tuần cho hết nóng rồi mới thả giun."})
        assert done.status_code == 200 and f"Đã gửi câu trả lời cho câu hỏi số {ours}" in done.text

        def later() -> list[dict]:
            return farmer.get("/api/chat/updates").json()["replies"]

        got = wait_for(later, timeout=30)
        assert "Nên ủ phân bò 2–3 tuần" in got[0]["text"] and "Cán bộ khuyến nông của tỉnh" in got[0]["text"]
        twice = admin.post(f"{url}/admin/handovers/{ours}/answer", data={"csrf": csrf, "text": "Không cần ủ."})
        assert twice.status_code == 409 and "đã được trả lời" in twice.text and "tài khoản admin" in twice.text
        assert "Không cần ủ." in twice.text  # what was typed is not lost
        settled = twice.text[twice.text.index('id="settled"'):]
        assert "Nên ủ phân bò" in settled
        assert later() == []  # the farmer got one answer
        farmer.close()


@pytest.mark.skipif(not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()), reason=f"no chromium at {CHROMIUM}")
def test_the_questions_page_fits_a_phone_and_answers_in_chromium(site, page) -> None:  # noqa: F811
    url, _ = site
    farmer = httpx.Client(base_url=url, timeout=60)
    for body in ({"text": "hố phân bị ngập nước mưa thì xử lý sao"}, {"button": "officer"}, {"text": "huu lung"}):
        farmer.post("/api/chat", json=body)
    page.goto(url + "/admin/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", BROWSER_PASSWORD)
    page.click("form button")
    page.goto(url + "/admin/handovers")
    row = page.locator("#open tr", has_text="hố phân bị ngập nước mưa")
    row.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    row.locator("textarea[name=text]").fill("Khơi rãnh thoát nước quanh hố, che mái; phân loãng thì trộn thêm rơm.")
    row.locator("button").click()
    page.get_by_text("Đã gửi câu trả lời cho câu hỏi số").wait_for()
    assert page.locator("#open tr", has_text="hố phân bị ngập nước mưa").count() == 0
    assert page.locator("#settled tr", has_text="hố phân bị ngập nước mưa").count() == 1
    got = wait_for(lambda: farmer.get("/api/chat/updates").json()["replies"], timeout=30)
    assert "Khơi rãnh thoát nước quanh hố" in got[0]["text"]
    farmer.close()
