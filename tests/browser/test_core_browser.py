"""The core pages in a real browser: sign-in and sign-out for every demo role at phone and desktop
sizes, the language switch, a refused password, visible keyboard focus, and screenshots."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from inspection.demo import USERS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SIZES = ["phone", "desktop"]
#: (username, display name) of every demo account.
DEMO_USERS = [(username, name) for username, name, _dept, _roles in USERS]
PNG = b"\x89PNG\r\n\x1a\n"


def path_of(page) -> str:
    return urlsplit(page.url).path


def html_lang(page) -> str:
    return page.evaluate("document.documentElement.lang")


def horizontal_overflow(page) -> tuple[int, int]:
    return tuple(page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"))


def press(page, size: str, locator) -> None:
    """Tap on a phone, click on a desktop."""
    if size == "phone":
        locator.tap()
    else:
        locator.click()


def switch_language(page, code: str) -> None:
    with page.expect_navigation():
        page.click(f'form.lang-switch button[name="lang"][value="{code}"]')


def zh_translation(msgid: str) -> str | None:
    """The compiled Chinese of ``msgid``, or None while there is no catalogue for it."""
    found = sorted((ROOT / "translations").glob("zh*/LC_MESSAGES/messages.mo"))
    if not found:
        return None
    mo = found[0]
    from babel.messages.mofile import read_mo

    with open(mo, "rb") as fh:
        message = read_mo(fh).get(msgid)
    return message.string if message is not None and message.string else None


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("username,display_name", DEMO_USERS, ids=[u for u, _ in DEMO_USERS])
def test_every_role_signs_in_and_out(request, live_server, login, size, username, display_name):
    page = request.getfixturevalue(size)
    login(page, live_server, username)

    assert path_of(page) == "/", f"{username} landed on {page.url}"
    expect(page.locator("main h1")).to_contain_text(display_name)
    expect(page.locator("details.user-menu > summary")).to_contain_text(display_name)
    scroll_width, inner_width = horizontal_overflow(page)
    assert scroll_width <= inner_width, \
        f"home page of {username} scrolls sideways at {size} size: {scroll_width} > {inner_width}"

    press(page, size, page.locator("details.user-menu > summary"))
    sign_out = page.locator("details.user-menu form button[type=submit]")
    expect(sign_out).to_be_visible()
    with page.expect_navigation():
        press(page, size, sign_out)

    assert path_of(page) == "/login"
    expect(page.locator('input[name="password"]')).to_be_visible()
    expect(page.locator("details.user-menu")).to_have_count(0)
    # the session is gone: the front door leads to the public portal, not to the user's home
    page.goto(live_server + "/")
    assert path_of(page) == "/public/"


def test_login_page_fits_a_phone(phone, live_server):
    phone.goto(live_server + "/login")
    scroll_width, inner_width = horizontal_overflow(phone)
    assert scroll_width <= inner_width, f"login page scrolls sideways: {scroll_width}"


def test_language_switch_is_remembered(phone, live_server):
    page = phone
    page.goto(live_server + "/login")

    switch_language(page, "en")
    assert path_of(page) == "/login"
    assert html_lang(page) == "en"
    expect(page.locator("main h1")).to_have_text("Sign in")
    expect(page.locator('button[name="lang"][value="en"]')).to_have_attribute("aria-current",
                                                                              "true")
    page.reload()
    assert html_lang(page) == "en"
    expect(page.locator("main h1")).to_have_text("Sign in")

    switch_language(page, "zh_CN")
    assert path_of(page) == "/login"
    assert html_lang(page) == "zh-CN"
    chinese = zh_translation("Sign in")
    if chinese:  # only once the zh_CN catalogue is compiled
        expect(page.locator("main h1")).to_have_text(chinese)
    page.reload()
    assert html_lang(page) == "zh-CN"
    expect(page.locator('button[name="lang"][value="zh_CN"]')).to_have_attribute(
        "aria-current", "true")


def test_language_chosen_before_sign_in_stays_with_the_account(browser, desktop, live_server,
                                                                login, watch):
    page = desktop
    page.goto(live_server + "/login")
    switch_language(page, "en")
    login(page, live_server, "supervisor")
    assert path_of(page) == "/"
    assert html_lang(page) == "en"
    expect(page.locator("main h1")).to_contain_text("Welcome")

    # Another browser, without the cookie: the account remembers English.
    other = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        other_page = other.new_page()
        watch.attach(other_page)
        login(other_page, live_server, "supervisor")
        assert path_of(other_page) == "/"
        assert html_lang(other_page) == "en"
    finally:
        other.close()

    switch_language(page, "zh_CN")  # and back, for the account too
    assert path_of(page) == "/"
    assert html_lang(page) == "zh-CN"


@pytest.mark.parametrize("size", SIZES)
def test_wrong_password_is_refused_on_the_page(request, live_server, login, watch, size):
    # The refused sign-in answers 4xx; Chromium logs that as a console error.
    watch.allow(r"status of 4\d\d .*\(http://127\.0\.0\.1:\d+/login\)$")
    page = request.getfixturevalue(size)
    login(page, live_server, "inspector2", "not-the-password-0")

    assert path_of(page) == "/login"
    error = page.locator(".flash-error")
    expect(error).to_be_visible()
    assert error.inner_text().strip()
    expect(page.locator('input[name="password"]')).to_be_visible()
    expect(page.locator("details.user-menu")).to_have_count(0)
    page.goto(live_server + "/")
    assert path_of(page) == "/public/"


FOCUS_STYLE = """() => {
  const e = document.activeElement, s = getComputedStyle(e);
  return {tag: e.tagName, name: e.getAttribute('name') || '', value: e.getAttribute('value') || '',
          outlineStyle: s.outlineStyle, outlineWidth: s.outlineWidth, boxShadow: s.boxShadow};
}"""


def visible_focus(style: dict) -> bool:
    outline = style["outlineStyle"] != "none" and style["outlineWidth"] not in ("0px", "")
    return outline or style["boxShadow"] not in ("none", "")


@pytest.mark.parametrize("size", SIZES)
def test_keyboard_focus_is_visible(request, live_server, size):
    page = request.getfixturevalue(size)
    page.goto(live_server + "/login")
    page.focus('input[name="username"]')
    # Leave the field backwards and come back with the keyboard, as a keyboard user would.
    page.keyboard.press("Shift+Tab")
    before = page.evaluate(FOCUS_STYLE)
    assert before["name"] != "username", "Shift+Tab did not leave the user name field"
    assert visible_focus(before), f"no visible focus on {before}"
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUS_STYLE)
    assert focused["name"] == "username", f"Tab went to {focused}, not the user name field"
    assert focused["outlineStyle"] != "none", f"the user name field shows no focus: {focused}"

    # Every stop of the tab order shows where the focus is: from the autofocused user name
    # field round the whole page (past the browser's own controls, seen as BODY) back to it.
    page.goto(live_server + "/login")
    stops = []
    for _ in range(25):
        page.keyboard.press("Tab")
        style = page.evaluate(FOCUS_STYLE)
        if style["name"] == "username":
            break
        if style["tag"] != "BODY":
            stops.append(style)
    else:
        pytest.fail(f"Tab never came back to the user name field: {stops}")
    assert any(s["name"] == "lang" for s in stops), f"the language buttons took no focus: {stops}"
    hidden = [s for s in stops if not visible_focus(s)]
    assert not hidden, f"focus not visible on: {hidden}"


@pytest.mark.parametrize("size", SIZES)
def test_screenshots_of_login_and_home(request, live_server, login, shots, size):
    page = request.getfixturevalue(size)
    page.goto(live_server + "/login")
    taken = [shots(page, f"{size}-login")]
    login(page, live_server, "inspector1")
    expect(page.locator("main h1")).to_be_visible()
    taken.append(shots(page, f"{size}-home"))
    for path in taken:
        data = path.read_bytes()
        assert data[:8] == PNG and len(data) > 1000, f"{path} is not a real screenshot"
        assert Path("/tmp/shots", path.name).stat().st_size == len(data)


def test_no_page_uses_inline_code(desktop, live_server, login):
    """The CSP forbids inline scripts and styles; the console watch would report a violation.
    Visit the pages an administrator has, to give it the chance."""
    page = desktop
    login(page, live_server, "admin")
    for target in ("/", "/account/password", "/admin/users", "/admin/departments", "/audit"):
        response = page.goto(live_server + target)
        assert response is not None and response.status == 200, f"{target}: {response.status}"
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", page.content()), \
            f"{target} has an inline script"
