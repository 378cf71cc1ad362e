"""Pages in a real browser: Debian's chromium driven headless by Playwright."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from docx import Document
from openpyxl import load_workbook

from bot.app import create_app
from bot.channels import web_identity
from bot.conversation.types import Reply
from bot.runtime import create_runtime
from bot.settings import Settings
from bot.storage.db import unit_of_work
from reporting import demo
from tests.fakes.server import serve

CHROMIUM = os.environ.get("AGRIBOT_TEST_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "dashboard-pass-123"
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

pytestmark = pytest.mark.skipif(
    not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()),
    reason=f"no chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)",
)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    cfg = Settings(database_url=f"sqlite:///{tmp_path / 'web.db'}", files_dir=tmp_path / "files",
                   admin_password=PASSWORD)
    rt = create_runtime(cfg)
    with unit_of_work(rt.sessions) as session:
        demo.seed(session, now=NOW)
    rt.close()
    with serve(create_app(cfg)) as url:
        yield url, cfg


@pytest.fixture
def page(tmp_path: Path) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 400, "height": 800}, accept_downloads=True)
        yield context.new_page()
        context.close()
        browser.close()


def test_web_chat_question_button_and_later_messages(site, page, tmp_path: Path) -> None:
    url, cfg = site
    page.goto(url + "/")
    page.get_by_text("Xin chào").first.wait_for()
    page.fill("#text", "bep biogas nha toi lua yeu qua")
    page.click("form button")
    page.get_by_text("HẦM ÍT KHÍ, KHÔNG ĐỐT ĐƯỢC").wait_for()
    page.screenshot(path=str(tmp_path / "chat.png"))
    page.get_by_role("button", name="🙋 Hỏi cán bộ khuyến nông").last.click()
    page.get_by_text("Bác ở xã (phường) nào?").wait_for()
    page.fill("#text", "huu lung")
    page.click("form button")
    page.get_by_text("Xã của bác chưa có cán bộ khuyến nông đăng ký với hệ thống").wait_for()  # the province has it
    # who this browser is: a secret the server set, HttpOnly (no script reads it), no id in the page
    secret = next(c for c in page.context.cookies() if c["name"] == web_identity.COOKIE)
    assert secret["httpOnly"] and page.evaluate("document.cookie").find(web_identity.COOKIE) == -1
    assert page.evaluate("localStorage.getItem('agribot.user')") is None
    user = web_identity.user_id(secret["value"])
    # a message sent to this user later (a hand-over reply) shows up on the page
    rt = create_runtime(cfg)
    try:
        from bot.sending import web_outbox

        with unit_of_work(rt.sessions) as session:
            web_outbox.push(session, user_id=user, replies=[Reply("Cán bộ xã trả lời: kiểm tra van khí nhé.")], now=NOW)
    finally:
        rt.close()
    page.reload()  # the page polls on load and every 10 s
    page.get_by_text("Cán bộ xã trả lời: kiểm tra van khí nhé.").wait_for()


def test_dashboard_login_indicators_match_api_and_workbook(site, page, tmp_path: Path) -> None:
    url, _ = site
    page.goto(url + "/admin")
    assert page.url.endswith("/admin/login")
    page.fill("input[name=password]", "wrong")
    page.click("form button")
    page.get_by_text("Sai tên đăng nhập hoặc mật khẩu.").wait_for()
    page.fill("input[name=password]", PASSWORD)
    page.click("form button")
    page.locator("table.indicators").wait_for()
    page.select_option("select[name=plan]", "ls-ktth-nn-2030")
    page.select_option("select[name=period]", "2025")
    page.click(".filters button")
    page.locator("tr[data-indicator=household_waste_treatment_pct]").wait_for()
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    shown = page.locator("tr[data-indicator=household_waste_treatment_pct] td.value").get_attribute("data-value")
    session = next(c for c in page.context.cookies() if c["name"] == "agribot_session")
    api = httpx.get(f"{url}/api/indicators", params={"plan": "ls-ktth-nn-2030", "period": "2025"},
                    cookies={"agribot_session": session["value"]}).json()
    expected = next(i["value"] for i in api["indicators"] if i["id"] == "household_waste_treatment_pct")
    assert float(shown) == pytest.approx(expected, abs=0.01)
    for row in api["indicators"]:
        cell = page.locator(f"tr[data-indicator={row['id']}] td.value").get_attribute("data-value")
        assert (cell == "" and row["value"] is None) or float(cell) == pytest.approx(row["value"], abs=0.01)
    with page.expect_download() as download:
        page.click("#download-xlsx")
    path = tmp_path / "book.xlsx"
    download.value.save_as(path)
    book = load_workbook(path)
    assert book.sheetnames[0] == "Tổng hợp" and book.sheetnames[-1] == "Chưa báo cáo"
    assert not [n for n in book.sheetnames if "_" in n or re.search(r"\d{4}[SQ]\d", n)]  # no ids
    for sheet in book.worksheets:  # the head on every sheet: agency, document, period, export date
        assert sheet["A1"].value == "Sở Nông nghiệp và Môi trường tỉnh Lạng Sơn"
        assert "Quyết định 540/QĐ-TTg" in sheet["A2"].value
        assert sheet["A3"].value == "Kỳ báo cáo: Năm 2025 (15/12/2024 – 14/12/2025)"
        assert re.fullmatch(r"Ngày xuất số liệu: \d\d/\d\d/\d{4}", sheet["A4"].value)
    with page.expect_download() as download:
        page.click("#download-docx")
    report = Document(download.value.path())
    assert "BÁO CÁO" in [p.text for p in report.paragraphs]
    page.wait_for_function("() => { const i = document.querySelector('figure img');"
                           " return i && i.complete && i.naturalWidth > 100; }")  # the chart rendered


def test_dashboard_invites_need_the_csrf_token_and_lock_out_guessers(site, page) -> None:
    url, _ = site
    page.goto(url + "/admin/login")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button")
    page.goto(url + "/admin/invites")
    page.select_option("select[name=role]", "extension_officer")
    page.fill("input[name=commune]", "6385")
    page.click("form.card button")
    code = page.locator("#new-code").inner_text()
    assert len(code) == 9 and code[4] == "-"
    page.get_by_role("button", name="Thu hồi").first.click()
    page.get_by_text("Đã thu hồi").wait_for()
    cookie = next(c for c in page.context.cookies() if c["name"] == "agribot_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    forged = httpx.post(f"{url}/admin/invites", data={"role": "admin", "province": "20", "csrf": "forged"},
                        cookies={"agribot_session": cookie["value"]})
    assert forged.status_code == 403
    with httpx.Client() as client:
        for _ in range(5):
            client.post(f"{url}/admin/login", data={"username": "admin", "password": "guess"})
        locked = client.post(f"{url}/admin/login", data={"username": "admin", "password": PASSWORD})
    assert locked.status_code == 429 and "tạm khoá" in locked.text


def test_a_new_answer_opens_at_its_start_and_the_full_card_is_one_tap_away(site, page) -> None:
    url, _ = site
    page.goto(url + "/")
    page.get_by_text("Xin chào").first.wait_for()
    page.fill("#text", "xuống hầm biogas múc bã có nguy hiểm không")
    page.click("form button")
    short = page.locator(".msg.bot", has_text="📗 KHÍ ĐỘC, XUỐNG HẦM")
    short.wait_for()
    assert "114" in short.inner_text() and len(short.inner_text()) <= 900  # the short answer, safety line included
    page.get_by_role("button", name="📖 Xem đầy đủ").last.click()
    full = page.locator(".msg.bot", has_text="— ĐẦY ĐỦ")
    full.wait_for()
    assert "Nguồn:" in full.inner_text()
    # the long answer is scrolled to its first line, not to its end
    top_gap = page.evaluate(
        """() => { const log = document.getElementById('log');
                   const msgs = [...log.querySelectorAll('.msg.bot')];
                   const last = msgs[msgs.length - 1];
                   return last.getBoundingClientRect().top - log.getBoundingClientRect().top; }""")
    assert 0 <= top_gap < 60, top_gap
    assert page.evaluate("() => { const l = document.getElementById('log'); "
                         "return l.scrollTop + l.clientHeight < l.scrollHeight - 50; }")  # its end is below


def test_an_editor_teaches_the_bot_from_the_unanswered_page(site, page) -> None:
    url, _ = site
    question = "bã mía làm đệm lót heo được không"
    httpx.post(f"{url}/api/chat", json={"text": question})  # a farmer's browser
    page.goto(url + "/admin/login")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button")
    page.goto(url + "/admin/questions")
    row = page.locator("tr", has_text=question).first
    row.locator("select[name=card]").select_option("dem-lot/nguyen-lieu-che-pham")
    row.get_by_role("button", name="Thêm làm câu hỏi mẫu").click()
    page.get_by_text("Bot dùng câu hỏi này ngay").wait_for()
    assert page.locator("tr", has_text=question).first.get_by_text("Đã là câu hỏi mẫu của thẻ").is_visible()
    reply = httpx.post(f"{url}/api/chat", json={"text": question}).json()["replies"]  # another farmer
    assert reply[0]["text"].startswith("📗 NGUYÊN LIỆU VÀ CHẾ PHẨM")
    wide = page.evaluate("""() => [...document.querySelectorAll('main *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => e.tagName + '.' + e.className)""")
    assert wide == []  # the page fits the phone
