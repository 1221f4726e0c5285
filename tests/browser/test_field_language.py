"""The field app in English, by choice (issue 5): Chinese stays the default; the shell is served
in the language in force, and since the service worker keeps one copy of it, the app follows
the account's language from /api/v1/me, remembered for offline use.

The account is `leader`: signing in with the `lang` cookie makes it the account's language, and
no other test on this server signs in as leader (the others expect inspector1 in Chinese).
"""
from __future__ import annotations

from test_field_offline import OFFLINE_ERRORS, open_field

LANG = "() => document.documentElement.lang"
CACHED_SHELL = """async () => {
    const name = (await caches.keys()).find((n) => n.startsWith('field-shell-'));
    return (await (await caches.open(name)).match('/field/')).text();
}"""


def test_the_field_app_in_english_and_back_offline(phone, live_server, login, watch):
    watch.allow(OFFLINE_ERRORS)
    page, base, context = phone, live_server, phone.context
    context.add_cookies([{"name": "lang", "value": "en", "url": base}])
    login(page, base, "leader")
    open_field(page, base)
    assert page.evaluate(LANG) == "en"
    assert page.locator("#tab-visits").inner_text() == "My visits"
    assert page.locator("#sync-now").inner_text() == "Sync"
    assert page.locator("#net").inner_text() == "Online"
    assert page.title() == "Field inspection"
    assert page.locator("h2.page-title").inner_text() == "My visits"
    card = page.locator("article.visit").first
    number = card.get_attribute("data-visit")
    card.get_by_role("button", name="Download for offline").click()
    card.get_by_role("link", name="Open inspection").click()
    page.wait_for_selector("text=Employer")
    assert page.get_by_role("button", name="Record arrival time and place").is_visible()
    page.locator("a.item-link").first.click()
    question = page.locator("fieldset.question").first
    assert question.locator("label.choice.compliant").inner_text() == "Compliant"
    question.locator("label.choice.non_compliant").click()
    page.get_by_text("Problem found (required)").wait_for()
    assert page.get_by_text("Take photo").first.is_visible()
    assert '<html lang="en">' in page.evaluate(CACHED_SHELL)  # the worker's copy is English

    # Back to Chinese with the app's own switch (the account's language, PATCH /api/v1/me).
    page.goto(f"{base}/field/#/outbox")
    page.locator("button[data-lang=zh_CN]").click()
    page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
    page.locator("h2.page-title", has_text="上传记录").wait_for()
    assert page.locator("button[data-lang=zh_CN]").get_attribute("aria-pressed") == "true"
    assert page.request.get(base + "/api/v1/me").json()["language"] == "zh_CN"

    # A new start from the English shell in the cache: the app speaks Chinese ...
    page.goto(f"{base}/field/#/visits")
    page.reload()
    page.wait_for_selector("article.visit")
    assert page.evaluate(LANG) == "zh-CN"
    assert page.locator("#tab-visits").inner_text() == "我的检查"
    # ... and stays Chinese offline, when /api/v1/me cannot answer
    context.set_offline(True)
    page.reload()
    page.wait_for_selector(f'article.visit[data-visit="{number}"]')
    assert page.locator("#net").inner_text() == "离线"
    assert page.evaluate(LANG) == "zh-CN"
    assert page.title() == "现场检查"
    assert page.locator("#tab-outbox").inner_text().startswith("上传")
    page.goto(f"{base}/field/#/visit/{number}")
    page.wait_for_selector("text=被检查单位")
    # the switch needs the network: offline it says so and changes nothing
    page.goto(f"{base}/field/#/outbox")
    page.locator("button[data-lang=en]").click()
    page.get_by_text("切换语言需要联网。").wait_for()
    assert page.evaluate(LANG) == "zh-CN"

    # Online, English again from the field app: the office pages follow the account.
    context.set_offline(False)
    page.locator("button[data-lang=en]").click()
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    page.locator("h2.page-title", has_text="Uploads").wait_for()
    page.goto(base + "/")
    assert page.evaluate(LANG) == "en"
    page.goto(f"{base}/field/#/outbox")
    page.locator("button[data-lang=zh_CN]").click()  # leave the account as it was
    page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
    assert page.request.get(base + "/api/v1/me").json()["language"] == "zh_CN"
