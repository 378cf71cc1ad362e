"""The on-track page in a real browser (Debian chromium, headless, a phone-sized window)."""

from __future__ import annotations

from pathlib import Path

from bot.runtime import create_runtime
from reporting.periods import parse
from reporting.plans import load_plans
from reporting.progress import track_plan
from tests.test_browser import PASSWORD, page, pytestmark, site  # noqa: F401  (fixtures, chromium check)

PLAN = "ls-ktth-nn-2030"


def test_on_track_page_in_the_browser(site, page, tmp_path: Path) -> None:  # noqa: F811
    url, cfg = site
    rt = create_runtime(cfg)
    try:
        with rt.sessions() as session:
            tracked = {t.result.id: t for t in track_plan(session, load_plans()[PLAN], parse("2025"))}
    finally:
        rt.close()
    page.goto(url + "/admin/login")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button")
    page.locator("table.indicators").wait_for()
    page.select_option("select[name=plan]", PLAN)
    page.select_option("select[name=period]", "2025")
    page.click(".filters button")
    page.click("#progress-link")
    page.locator("section.indicator").first.wait_for()
    assert "/admin/progress" in page.url
    for indicator, t in tracked.items():
        section = page.locator(f"section[data-indicator={indicator}]")
        assert section.get_attribute("data-status") == t.assessment.status
        text = section.inner_text()
        assert t.assessment.status_label in text and t.assessment.gap_text in text
    straw = page.locator("section[data-indicator=straw_reuse_pct]")
    assert "tấn rơm rạ thu gom, tái sử dụng /" in straw.locator("dd.fraction").inner_text()
    straw.locator("img").first.scroll_into_view_if_needed()
    page.wait_for_function("() => { const i = document.querySelector('section[data-indicator=straw_reuse_pct] img');"
                           " return i && i.complete && i.naturalWidth >= 600; }")  # the line chart rendered
    straw.locator("details summary").click()
    straw.locator("figure.communes img").scroll_into_view_if_needed()
    page.wait_for_function("() => { const i = document.querySelector("
                           "'section[data-indicator=straw_reuse_pct] figure.communes img');"
                           " return i && i.complete && i.naturalHeight > 900; }")  # every commune: a tall chart
    # the commune list: filter by status, as an official would
    page.select_option("#commune-filters select[name=indicator]", "straw_reuse_pct")
    page.select_option("#commune-filters select[name=status]", "no_data")
    page.click("#commune-filters button")
    page.locator("table.communes").wait_for()
    statuses = page.locator("table.communes tbody tr").evaluate_all("rows => rows.map(r => r.dataset.status)")
    assert statuses and set(statuses) == {"no_data"}
    page.screenshot(path=str(tmp_path / "progress.png"), full_page=True)
    wide = page.evaluate("""() => [...document.querySelectorAll('main *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => e.tagName + '.' + e.className)""")
    assert wide == []  # the page fits the phone
