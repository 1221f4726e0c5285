"""Keeping the phone's data (issue 5): persistent storage is asked for, the storage estimate is
shown with a warning before it runs low, and iPhone users are guided to the Home Screen.

The browser's own figures cannot be made small on purpose, so the low-space case replaces
navigator.storage.estimate() (an init script) with one that reports a nearly full phone.
"""
from __future__ import annotations

from test_field_offline import open_field

COUNT_PERSIST = """(() => {
    const storage = navigator.storage;
    const persist = storage.persist.bind(storage);
    window.persistCalls = 0;
    storage.persist = () => { window.persistCalls += 1; return persist(); };
})();"""
NEARLY_FULL = """(() => {
    navigator.storage.estimate = async () => ({ usage: 950 * 1024 * 1024, quota: 1000 * 1024 * 1024 });
})();"""
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
HOME_SCREEN = "添加到主屏幕"


def test_persistent_storage_is_asked_for_and_the_estimate_shown(phone, live_server, login):
    page, base = phone, live_server
    page.context.add_init_script(COUNT_PERSIST)
    login(page, base, "inspector1")
    open_field(page, base)
    assert page.evaluate("window.persistCalls") == 0  # not before there is something to keep
    card = page.locator("article.visit").nth(7)
    card.get_by_role("button", name="下载离线包").click()
    card.get_by_role("link", name="开始检查").wait_for()
    page.wait_for_function("() => window.persistCalls >= 1")

    page.goto(f"{base}/field/#/outbox")
    storage = page.locator("section.card", has_text="本机存储")
    storage.wait_for()
    text = storage.inner_text()
    assert "已用" in text and "可用约" in text
    assert "持久保存" in text  # granted or not, the phone says which
    assert page.locator("#storage-low").count() == 0  # a test browser has room
    assert HOME_SCREEN not in page.locator("main").inner_text()  # not an iPhone


def test_a_warning_before_storage_runs_low(phone, live_server, login):
    page, base = phone, live_server
    page.context.add_init_script(NEARLY_FULL)
    login(page, base, "inspector1")
    open_field(page, base)
    banner = page.locator("#storage-low")
    banner.wait_for()  # on every screen, not only the outbox
    assert "本机存储空间不足" in banner.inner_text() and "50.0 MB" in banner.inner_text()
    page.goto(f"{base}/field/#/outbox")
    page.locator("section.card p.notice.warn", has_text="本机存储空间不足").wait_for()
    assert banner.is_visible()


def test_iphone_users_are_guided_to_the_home_screen(browser, live_server, login, watch):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=3, user_agent=IPHONE,
                                  locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        page = context.new_page()
        watch.attach(page)
        login(page, live_server, "inspector1")
        open_field(page, live_server)
        hint = page.locator("main p.notice.warn", has_text=HOME_SCREEN)
        assert hint.count() == 1 and "7 天" in hint.inner_text()
        page.goto(f"{live_server}/field/#/outbox")
        page.locator("section.card", has_text="本机存储").get_by_text(HOME_SCREEN).wait_for()

        # Opened from the Home Screen (standalone): no more hint.
        context.add_init_script("Object.defineProperty(navigator, 'standalone', { get: () => true });")
        page.goto(f"{live_server}/field/#/visits")
        page.reload()
        page.wait_for_selector("article.visit")
        assert page.locator("main", has_text=HOME_SCREEN).count() == 0
    finally:
        context.close()
    assert not watch.unexpected(), watch.unexpected()
