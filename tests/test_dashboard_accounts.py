"""Officials' dashboard accounts through real HTTP: an admin invites by link, the invitee sets
their own password, logs in and sees only their province or commune; links work once and
expire; a disabled account is logged out at once; the audit log says it all in Vietnamese. And in
Debian's chromium at 360 px: no page wider than the screen, a commune picked by typing its name
without diacritics."""

from __future__ import annotations

import html
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.app import create_app
from bot.runtime import create_runtime
from bot.services import dashboard_accounts, files
from bot.settings import Settings
from bot.storage.db import unit_of_work
from bot.storage.models import HandoverRequest
from reporting import areas, demo
from tests.builders import HUU_LUNG
from tests.fakes.server import serve

ADMIN_PASSWORD = "dashboard-pass-123"
GOOD_PASSWORD = "suoi-da-ngo-vang-tre-xanh-42"
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
PLAN, OTHER_PLAN = "ls-ktth-nn-2030", "ag-ktth-2030"  # Lạng Sơn (20), An Giang (91)
OTHER_COMMUNE = next(c for c in areas.communes_of(20) if c.code != HUU_LUNG)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    cfg = Settings(database_url=f"sqlite:///{tmp_path / 'web.db'}", files_dir=tmp_path / "files",
                   admin_password=ADMIN_PASSWORD)
    rt = create_runtime(cfg)
    with unit_of_work(rt.sessions) as session:
        demo.seed(session, now=NOW)
        for commune, question in ((HUU_LUNG, "Hầm biogas nhà tôi ít khí"), (OTHER_COMMUNE.code, "Rơm ủ bị mốc")):
            session.add(HandoverRequest(channel="web", user_id=f"farmer-{commune}", commune_code=commune,
                                        province_code=20, question=question, created_at=NOW))
    rt.close()
    with serve(create_app(cfg)) as url:
        yield url, cfg


def csrf(page: str) -> str:  # the form's hidden token, as a browser would send it
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(url: str, username: str, password: str) -> tuple[httpx.Client, httpx.Response]:
    client = httpx.Client(base_url=url)
    answer = client.post("/admin/login", data={"username": username, "password": password})
    return client, answer


def as_admin(url: str) -> httpx.Client:
    client, answer = login(url, "admin", ADMIN_PASSWORD)
    assert answer.status_code == 303
    return client


def invite(admin: httpx.Client, **form: str) -> httpx.Response:
    token = csrf(admin.get("/admin/accounts").text)
    return admin.post("/admin/accounts/invite", data={"csrf": token, **form})


def invite_link(admin: httpx.Client, url: str, **form: str) -> str:
    answer = invite(admin, **form)
    assert answer.status_code == 200, answer.text
    found = re.search(r'id="invite-link">([^<]+)<', answer.text)
    assert found, "no invite link on the page"
    link = html.unescape(found.group(1))
    assert link.startswith(url + "/admin/join/") and len(link.rsplit("/", 1)[1]) >= 40
    return link


def join(link: str, username: str, password: str, again: str | None = None) -> httpx.Response:
    return httpx.post(link, data={"username": username, "password": password,
                                  "password2": password if again is None else again})


def text_of(answer: httpx.Response) -> str:
    return html.unescape(answer.text)


def test_provincial_official_invited_by_link_sees_only_their_province(site) -> None:
    url, cfg = site
    admin = as_admin(url)
    link = invite_link(admin, url, full_name="Nguyễn Thị Lan", role="provincial_official", province="20")
    opened = httpx.get(link)
    assert opened.status_code == 200 and "Nguyễn Thị Lan" in text_of(opened) and "cán bộ tỉnh" in text_of(opened)

    weak = join(link, "lan", "matkhau123456")
    assert weak.status_code == 422 and "Mật khẩu quá dễ đoán" in text_of(weak)
    short = join(link, "lan", "abc123")
    assert short.status_code == 422 and "ít nhất 12 ký tự" in text_of(short)
    mismatch = join(link, "lan", GOOD_PASSWORD, again=GOOD_PASSWORD + "x")
    assert mismatch.status_code == 422 and "không giống nhau" in text_of(mismatch)
    taken = join(link, "admin", GOOD_PASSWORD)
    assert taken.status_code == 422 and "đã có người dùng" in text_of(taken)

    made = join(link, "lan", GOOD_PASSWORD)
    assert made.status_code == 303 and made.headers["location"] == "/admin/login?created=1"
    again = join(link, "lan2", GOOD_PASSWORD)
    assert again.status_code == 410 and "đã được dùng" in text_of(again)
    assert "đã được dùng" in text_of(httpx.get(link))

    lan, answer = login(url, "lan", GOOD_PASSWORD)
    assert answer.status_code == 303
    home = lan.get("/admin")
    assert home.status_code == 200 and "Nguyễn Thị Lan — Cán bộ tỉnh" in text_of(home)
    assert f'value="{PLAN}"' in home.text and f'value="{OTHER_PLAN}"' not in home.text
    own = lan.get("/api/indicators.xlsx", params={"plan": PLAN, "period": "2025"})
    assert own.status_code == 200
    other = lan.get("/api/indicators.xlsx", params={"plan": OTHER_PLAN, "period": "2025"})
    assert other.status_code == 403 and "tỉnh khác" in other.json()["detail"]
    ours, theirs, unrecorded = (files.save(cfg.files_dir, b"book", "xlsx", province_code=code)
                                for code in (20, 91, None))
    assert lan.get(ours).status_code == 200 and admin.get(theirs).status_code == 200
    assert lan.get(theirs).status_code == 403 and lan.get(unrecorded).status_code == 403
    for admin_page in ("/admin/accounts", "/admin/tokens", "/admin/baseline", "/admin/questions"):
        refused = lan.get(admin_page)
        assert refused.status_code == 403, admin_page
        assert "quản trị viên" in text_of(refused) and "Forbidden" not in refused.text
    assert "Tài khoản" not in lan.get("/admin").text.split("<main>")[0]  # no admin menu


def test_commune_officer_sees_their_commune_only(site) -> None:
    url, cfg = site
    admin = as_admin(url)
    link = invite_link(admin, url, full_name="Hoàng Văn Đức", role="extension_officer", province="20",
                       commune="huu lung")  # typed without diacritics
    assert join(link, "duc", GOOD_PASSWORD).status_code == 303
    duc, _ = login(url, "duc", GOOD_PASSWORD)

    data = duc.get("/api/indicators", params={"plan": PLAN, "period": "2025"}).json()
    assert data["commune"] == HUU_LUNG
    shown = {row["code"] for i in data["indicators"] for row in i["by_commune"]}
    assert shown == {HUU_LUNG}
    other = duc.get("/api/indicators.xlsx", params={"plan": PLAN, "period": "2025", "commune": OTHER_COMMUNE.code})
    assert other.status_code == 403 and "xã mình" in other.json()["detail"]
    page = text_of(duc.get("/admin", params={"plan": PLAN, "period": "2025", "commune": OTHER_COMMUNE.code}))
    assert "Xã Hữu Lũng" in page and f'value="{OTHER_COMMUNE.code}"' not in page
    assert "Toàn tỉnh" not in page  # no choice offered that the server would not honour
    assert "Toàn tỉnh" in text_of(admin.get("/admin", params={"plan": PLAN, "period": "2025"}))

    questions = text_of(duc.get("/admin/handovers"))
    assert "Hầm biogas nhà tôi ít khí" in questions and "Rơm ủ bị mốc" not in questions
    province_wide = text_of(admin.get("/admin/handovers"))
    assert "Hầm biogas nhà tôi ít khí" in province_wide and "Rơm ủ bị mốc" in province_wide
    filed = text_of(duc.get("/admin/reports"))
    assert "Xã Hữu Lũng" in filed and OTHER_COMMUNE.name not in filed
    assert OTHER_COMMUNE.name in text_of(admin.get("/admin/reports"))
    units = text_of(duc.get("/admin/units"))
    assert "Hữu Lũng" in units and OTHER_COMMUNE.name not in units
    for refused_page in ("/admin/broadcasts", "/admin/invites", "/admin/accounts"):
        refused = duc.get(refused_page)
        assert refused.status_code == 403 and "Không có quyền truy cập" in text_of(refused), refused_page
    assert duc.get("/api/indicators.docx", params={"plan": PLAN, "period": "2025"}).status_code == 403
    whole = {"plan": PLAN, "period": "2025", "indicator": "household_waste_treatment_pct"}
    assert duc.get("/admin/progress/communes.png", params=whole).status_code == 403
    progress = duc.get("/admin/progress", params={"plan": PLAN, "period": "2025"})
    assert progress.status_code == 200 and OTHER_COMMUNE.name not in text_of(progress)
    # the commune's value beside the province's status and path, each said to be whose
    assert "Giá trị là của Xã Hữu Lũng; tình trạng, lộ trình và biểu đồ đường là của toàn tỉnh" in text_of(progress)
    assert "Giá trị kỳ này của Xã Hữu Lũng" in text_of(progress) and "Toàn tỉnh:" in text_of(progress)
    assert OTHER_COMMUNE.name in text_of(admin.get("/admin/progress", params={"plan": PLAN, "period": "2025"}))
    workbook = files.save(cfg.files_dir, b"book", "xlsx", province_code=20)  # province-wide, as /chitieu makes
    assert duc.get(workbook).status_code == 403
    chart = duc.get("/admin/chart.png", params={"plan": PLAN, "period": "2025",
                                                 "indicator": "household_waste_treatment_pct"})
    assert chart.status_code == 403


def test_expired_and_revoked_links_are_refused(site) -> None:
    url, cfg = site
    rt = create_runtime(cfg)
    try:
        with unit_of_work(rt.sessions) as session:
            old = dashboard_accounts.create_invite(
                session, full_name="Lê Văn Cũ", role="provincial_official", province_code=20, commune_code=None,
                by="admin", now=datetime.now(UTC) - timedelta(days=dashboard_accounts.INVITE_DAYS, minutes=1))
    finally:
        rt.close()
    expired = join(url + old.path, "cu", GOOD_PASSWORD)
    assert expired.status_code == 410 and "đã hết hạn" in text_of(expired)
    assert httpx.get(url + "/admin/join/not-a-real-token").status_code == 410

    admin = as_admin(url)
    link = invite_link(admin, url, full_name="Trần Thu", role="provincial_official", province="20")
    page = admin.get("/admin/accounts").text
    revoke_to = re.search(r'action="(/admin/accounts/invites/\d+/revoke)"', page)
    assert revoke_to
    assert admin.post(revoke_to.group(1), data={"csrf": csrf(page)}).status_code == 303
    revoked = join(link, "thu", GOOD_PASSWORD)
    assert revoked.status_code == 410 and "thu hồi" in text_of(revoked)


def test_disabled_account_is_logged_out_and_refused_and_the_audit_says_so(site) -> None:
    url, _ = site
    admin = as_admin(url)
    link = invite_link(admin, url, full_name="Nguyễn Thị Lan", role="provincial_official", province="20")
    join(link, "lan", GOOD_PASSWORD)
    lan, _ = login(url, "lan", GOOD_PASSWORD)
    assert lan.get("/admin").status_code == 200
    assert login(url, "lan", "not-her-password")[1].status_code == 401

    page = admin.get("/admin/accounts").text
    assert admin.post("/admin/accounts/lan/disable", data={"csrf": csrf(page)}).status_code == 303
    after = lan.get("/admin")
    assert after.status_code == 303 and after.headers["location"] == "/admin/login"
    assert lan.get("/api/indicators.xlsx", params={"plan": PLAN, "period": "2025"}).status_code == 401
    _, refused = login(url, "lan", GOOD_PASSWORD)
    assert refused.status_code == 403 and "Tài khoản này đã bị khoá" in text_of(refused)
    self_disable = admin.post("/admin/accounts/admin/disable", data={"csrf": csrf(page)})
    assert self_disable.status_code == 422 and "không thể tự khoá" in text_of(self_disable)

    assert admin.post("/admin/accounts/lan/enable", data={"csrf": csrf(page)}).status_code == 303
    assert login(url, "lan", GOOD_PASSWORD)[1].status_code == 303

    audit = text_of(admin.get("/admin/accounts")).split('id="audit"')[1]
    for line in ("Quản trị viên (admin) tạo đường link mời Nguyễn Thị Lan làm cán bộ tỉnh (Tỉnh Lạng Sơn)",
                 "Nguyễn Thị Lan (lan) tạo tài khoản cán bộ tỉnh (Tỉnh Lạng Sơn) qua đường link mời.",
                 "Nguyễn Thị Lan (lan) đăng nhập.",
                 "Đăng nhập thất bại: Nguyễn Thị Lan (lan), sai tên đăng nhập hoặc mật khẩu.",
                 "Quản trị viên (admin) khoá tài khoản Nguyễn Thị Lan (lan)",
                 "Đăng nhập bị từ chối: tài khoản Nguyễn Thị Lan (lan) đã bị khoá.",
                 "Quản trị viên (admin) mở lại tài khoản Nguyễn Thị Lan (lan).",
                 "Quản trị viên (admin) đăng nhập."):
        assert line in audit, line
    assert "provincial_official" not in audit


def test_dashboard_errors_and_invites_are_vietnamese_with_names(site) -> None:
    url, _ = site
    admin = as_admin(url)
    missing = admin.get("/admin/no-such-page")
    assert missing.status_code == 404 and "Không tìm thấy trang" in text_of(missing)
    bad = httpx.post(url + "/admin/login", data={})
    assert bad.status_code == 422 and "Dữ liệu không hợp lệ" in text_of(bad) and "Field required" not in bad.text
    token = csrf(admin.get("/admin/invites").text)
    no_commune = admin.post("/admin/invites", data={"csrf": token, "role": "extension_officer"})
    alert = re.findall(r'role="alert">([^<]+)<', text_of(no_commune))
    assert no_commune.status_code == 422
    assert alert == ["Chưa tạo được mã: cán bộ khuyến nông xã cần chọn xã (gõ tên xã)."]
    made = admin.post("/admin/invites", data={"csrf": token, "role": "extension_officer", "commune": "huu lung"})
    table = text_of(made).split('id="invites"')[1]
    assert made.status_code == 200 and "Xã Hữu Lũng, Tỉnh Lạng Sơn" in table and str(HUU_LUNG) not in table
    no_name = invite(admin, full_name="", role="provincial_official", province="20")
    assert no_name.status_code == 422 and "Hãy ghi họ và tên" in text_of(no_name)
    elsewhere = invite(admin, full_name="Phạm Văn Bình", role="extension_officer", province="91",
                       commune="huu lung")
    assert elsewhere.status_code == 422 and "Chưa tạo được đường link mời" in text_of(elsewhere)
    found = admin.get("/admin/communes", params={"q": "huu lung"}).json()
    assert found[0]["name"] == "Xã Hữu Lũng" and found[0]["code"] == HUU_LUNG


# -- in a real browser, at a phone's width ----------------------------------------------------------
CHROMIUM = os.environ.get("AGRIBOT_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
PAGES = ("/admin", "/admin/progress", "/admin/completeness", "/admin/reports", "/admin/handovers", "/admin/units",
         "/admin/broadcasts", "/admin/invites", "/admin/questions", "/admin/feedback", "/admin/baseline",
         "/admin/tokens", "/admin/accounts")


@pytest.mark.skipif(not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()),
                    reason=f"no chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)")
def test_phone_width_pages_fit_and_a_commune_is_picked_without_diacritics(site, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, _ = site
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740})
        page = context.new_page()
        page.goto(url + "/admin/login")
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("form button")
        page.wait_for_url(url + "/admin")
        for path in PAGES:
            page.goto(url + path + ("?plan=ls-ktth-nn-2030&period=2025" if path == "/admin" else ""))
            widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            if widths[0] > widths[1]:
                page.screenshot(path=str(tmp_path / "too-wide.png"), full_page=True)
            assert widths[0] <= widths[1], f"{path} is {widths[0]} px wide on a {widths[1]} px screen"

        page.goto(url + "/admin?plan=ls-ktth-nn-2030&period=2025")  # the filter's long list of communes
        page.fill("input.commune-search", "huu lung")
        assert page.input_value("select[name=commune]") == str(HUU_LUNG)
        page.click(".filters button")
        page.wait_for_url(re.compile(f"commune={HUU_LUNG}"))
        assert page.input_value("select[name=commune]") == str(HUU_LUNG)

        page.goto(url + "/admin/accounts")
        page.fill("input[name=full_name]", "Hoàng Văn Đức")
        page.select_option("select[name=role]", "extension_officer")
        page.select_option("select[name=province]", "20")
        page.locator("input[name=commune]").press_sequentially("huu lung", delay=30)
        page.get_by_role("button", name="Xã Hữu Lũng — Tỉnh Lạng Sơn").click()
        assert page.input_value("input[name=commune]") == "Xã Hữu Lũng"
        assert page.input_value("input[name=commune_code]") == str(HUU_LUNG)
        page.click("#invite-form button[type=submit]")
        page.locator("#invite-link").wait_for()
        row = page.locator("#account-invites tbody tr").first.inner_text()
        assert "Hoàng Văn Đức" in row and "Xã Hữu Lũng, Tỉnh Lạng Sơn" in row
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        context.close()
        browser.close()
