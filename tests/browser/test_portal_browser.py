"""The public portal in a real browser, without an account: the front door leads there, every
page fits a phone without sideways scrolling, works without JavaScript, is reached by the
keyboard from the skip link, and the language switch changes it; screenshots at both sizes."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PAGES = ["/public/", "/public/catalogue", "/public/catalogue/LR-06", "/public/plans",
         "/public/tasks", "/public/draws", "/public/results"]


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_portal_fits_and_reads_without_an_account(request, size, live_server, shots):
    page = request.getfixturevalue(size)
    page.goto(live_server + "/")
    assert urlsplit(page.url).path == "/public/"
    # the plan and the first task, reached by their links
    page.locator("main a[href^='/public/plans/']").first.click()
    assert urlsplit(page.url).path.startswith("/public/plans/")
    plan = urlsplit(page.url).path
    page.locator("main a[href^='/public/tasks/']").first.click()
    task = urlsplit(page.url).path
    assert task.startswith("/public/tasks/")
    for path in [*PAGES, plan, task]:
        page.goto(live_server + path)
        expect(page.locator("h1")).to_have_count(1)
        width, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert width <= inner, f"{path} scrolls sideways at {size}: {width} > {inner}"
        name = path.strip("/").replace("/", "-") or "root"
        shots(page, f"portal-{size}-{name}")


def test_the_portal_works_without_javascript_and_by_keyboard(browser, live_server, watch):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390,
                                                                      "height": 844},
                                  locale="zh-CN")
    page = context.new_page()
    watch.attach(page)
    try:
        page.goto(live_server + "/public/")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
        # the search box searches the published results, a plain GET form
        page.fill("#home-q", "淄博")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert urlsplit(page.url).path == "/public/results"
        # the language switch is a plain form too: English, then back
        with page.expect_navigation():
            page.click('form.lang-switch button[value="en"]')
        assert page.evaluate("document.documentElement.lang") == "en"
        assert urlsplit(page.url).path == "/public/results"
        page.goto(live_server + "/public/draws")
        expect(page.locator("h1")).to_have_text("Draws by lot")
        with page.expect_navigation():
            page.click('form.lang-switch button[value="zh_CN"]')
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
    finally:
        context.close()
