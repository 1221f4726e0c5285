"""Every screen of the field app at phone size (390x844, touch), photographed for people to
look at (tests/browser/conftest.py `shots`: /tmp/shots/field-screen-*.png), and checked for
what a thumb needs: every control at least 44x44 CSS px, nothing wider than the screen, the
main actions within reach at the bottom.
"""
from __future__ import annotations

from test_field_offline import file, inspector, jpeg, open_field  # noqa: F401

MIN_TAP = 44
#: Controls on screen smaller than MIN_TAP (a hidden file input is reached through its label,
#: a checkbox or radio inside a label through the label, which is what is measured).
SMALL_TARGETS = """(min) => {
    const visible = (el) => {
        const style = getComputedStyle(el);
        const r = el.getBoundingClientRect();
        return style.visibility !== 'hidden' && style.display !== 'none' && r.width > 0 && r.height > 0;
    };
    const controls = [...document.querySelectorAll('a[href], button, select, textarea, summary, label, input')]
        .filter((el) => !(el.matches('input') && (el.closest('label') || el.classList.contains('file'))))
        .filter((el) => !(el.matches('label') && el.control && !el.control.matches('input[type=checkbox], input[type=radio], input.file')))
        .filter(visible);
    return controls.map((el) => {
        const r = el.getBoundingClientRect();
        return { what: el.outerHTML.slice(0, 90), w: Math.round(r.width), h: Math.round(r.height) };
    }).filter((c) => c.w < min || c.h < min);
}"""
TOO_WIDE = """() => document.documentElement.scrollWidth > window.innerWidth"""


def check(page, shots, name):
    shots(page, f"field-screen-{name}")
    small = page.evaluate(SMALL_TARGETS, MIN_TAP)
    assert not small, f"{name}: controls smaller than {MIN_TAP} px: {small}"
    assert not page.evaluate(TOO_WIDE), f"{name}: wider than the phone's screen"
    # the tab bar (visits, uploads, sync) sits at the bottom, within the thumb's reach
    bar = page.locator("nav.tabs").bounding_box()
    assert bar["y"] + bar["height"] >= 844 - 1 and bar["height"] >= MIN_TAP


def test_every_screen_at_phone_size(inspector, live_server, shots):
    page, base = inspector, live_server
    open_field(page, base)
    card = page.locator("article.visit").nth(8)
    number = card.get_attribute("data-visit")
    check(page, shots, "1-visits")

    card.get_by_role("button", name="下载离线包").click()
    card.get_by_role("link", name="开始检查").click()
    page.wait_for_selector("#result")
    check(page, shots, "2-visit")

    page.locator("a.item-link").first.click()
    question = page.locator("fieldset.question").first
    code = question.get_attribute("data-question")
    check(page, shots, "3-checklist")

    question.locator("label.choice.non_compliant").click()
    page.fill(f"#note-{code}", "未与3名劳动者订立书面劳动合同。")
    question.locator("label.choice:has(input[value=rectify])").click()
    page.fill(f"#due-{code}", "2026-08-31")
    page.fill(f"#order-text-{code}", "限期补签书面劳动合同")
    page.set_input_files(f"#gallery-{code}", [file("a.jpg", jpeg((180, 70, 40))),
                                              file("b.jpg", jpeg((40, 90, 170)))])
    page.wait_for_function(
        "(q) => document.querySelectorAll(`fieldset[data-question='${q}'] figure.thumb`).length === 2",
        arg=code)
    question.scroll_into_view_if_needed()
    check(page, shots, "4-camera-photos")

    page.goto(f"{base}/field/#/outbox")
    page.wait_for_selector("p.summary")
    page.locator("section.card", has_text="本机存储").wait_for()
    check(page, shots, "5-outbox")
    assert page.locator("li.entry").count() >= 3

    page.goto(f"{base}/field/#/visit/{number}")
    page.wait_for_selector("#result")
    page.select_option("#result", "rectification_ordered")
    page.wait_for_selector("text=检查项目与结论一致。")
    check(page, shots, "6-visit-result")
