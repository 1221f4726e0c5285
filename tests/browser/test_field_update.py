"""A new version of the field app (issue 5): the phone offers "有新版本" with a button, and the new
service worker never takes over while a visit is open.

This module runs its own server so that it can restart it with another
``INSPECTION_FIELD_APP_RELEASE`` (a label mixed into the shell's version): the served worker
changes, no tracked file is touched. Same port, so the phone keeps its origin: its worker,
IndexedDB and session cookie.
"""
from __future__ import annotations

import json
import re

import pytest

from test_field_offline import OFFLINE_ERRORS, open_field
from test_field_server_killed import Server, phone_page  # noqa: F401 (a fixture)

VERSION = """() => new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(event.data);
    navigator.serviceWorker.controller.postMessage({ type: 'version' }, [channel.port2]);
})"""
SHELL_CACHES = "async () => (await caches.keys()).filter((name) => name.startsWith('field-shell-'))"


@pytest.fixture(scope="module")
def release_server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("update_server"))
    server.env["INSPECTION_FIELD_APP_RELEASE"] = "release-1"
    server.flask("init-db")
    server.flask("seed-demo")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def served_version(page, base) -> str:
    source = page.request.get(base + "/service-worker.js").text()
    return json.loads(re.search(r"^const SHELL = (\{.*?\n\});$", source, re.S | re.M)
                      .group(1))["version"]


def test_update_waits_while_a_visit_is_open(release_server, phone_page, login, watch):
    watch.allow(OFFLINE_ERRORS + r"|ERR_CONNECTION_REFUSED")  # the restart, if a fetch hits it
    page, server = phone_page, release_server
    base = server.base
    login(page, base, "inspector1")
    open_field(page, base)
    first = served_version(page, base)
    assert page.evaluate(VERSION) == first

    number = page.locator("article.visit").first.get_attribute("data-visit")
    card = page.locator(f'article.visit[data-visit="{number}"]')
    card.get_by_role("button", name="下载离线包").click()
    card.get_by_role("link", name="开始检查").click()
    page.wait_for_selector("#result")  # the visit is open

    # A new release on the server: the phone finds the new worker and installs it.
    server.stop()
    server.env["INSPECTION_FIELD_APP_RELEASE"] = "release-2"
    server.start()
    second = served_version(page, base)
    assert second != first
    page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).update()")
    banner = page.locator("#banners .banner")
    banner.filter(has_text="有新版本").wait_for()

    # While the visit is open: no button, the old worker still answers, the new one waits.
    assert "完成本次检查" in banner.inner_text()
    assert page.locator("#apply-update").count() == 0
    assert page.evaluate(VERSION) == first
    assert page.evaluate("async () => !!(await navigator.serviceWorker.getRegistration()).waiting")
    # ... also inside the checklist of one of its items, and after a save
    page.locator("a.item-link").first.click()
    question = page.locator("fieldset.question").first
    question.locator("label.choice.compliant").click()
    page.wait_for_selector("fieldset.question input[value=compliant]:checked")
    banner.filter(has_text="完成本次检查").wait_for()
    assert page.locator("#apply-update").count() == 0
    assert page.evaluate(VERSION) == first

    # Back at the visit list: the offer has its button; only the inspector's tap updates.
    page.locator("#tab-visits").click()
    page.wait_for_selector("article.visit")
    button = page.get_by_role("button", name="更新", exact=True)
    button.wait_for()
    assert "有新版本可用" in banner.inner_text()
    assert page.evaluate(VERSION) == first
    with page.expect_navigation():  # the app reloads itself once the new worker controls it
        button.click()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_selector("article.visit")
    assert page.evaluate(VERSION) == second
    assert page.evaluate(SHELL_CACHES) == [f"field-shell-{second}"]  # the old cache is gone
    assert page.locator("#apply-update").count() == 0
    # the work done before the update is still on the phone
    page.goto(f"{base}/field/#/visit/{number}")
    page.wait_for_selector("#result")
    page.locator("a.item-link").first.click()
    assert page.locator("fieldset.question").first.locator("input[value=compliant]").is_checked()
