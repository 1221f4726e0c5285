"""The look: colours of text on their backgrounds pass WCAG AA (4.5:1), read from the CSS."""
import re

import pytest


def _hex(value: str) -> tuple[float, float, float]:
    value = value.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return tuple(int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))


def _luminance(rgb) -> float:
    def channel(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(_hex(a)), _luminance(_hex(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.fixture(scope="module")
def css(project_root):
    return (project_root / "static/css/app.css").read_text()


@pytest.fixture(scope="module")
def var(css):
    values = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{3,6})", css))
    return lambda name: values[name]


def test_contrast_helper_is_right():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48


@pytest.mark.parametrize("fg, bg", [
    ("ink", "bg"), ("ink", "card"), ("muted", "bg"), ("muted", "card"),
    ("primary", "card"), ("primary", "bg"), ("primary-ink", "primary"),
    ("danger", "card"), ("ok", "card"),
])
def test_text_colours_pass_wcag_aa(var, fg, bg):
    assert contrast(var(fg), var(bg)) >= 4.5, (fg, bg)


@pytest.mark.parametrize("rule", [
    r"\.flash-error \{[^}]*background: (#[0-9a-f]+); color: (#[0-9a-f]+)",
    r"\.flash-success \{[^}]*background: (#[0-9a-f]+); color: (#[0-9a-f]+)",
    r"\.badge\.ok \{ background: (#[0-9a-f]+); color: var\(--ok\)",
])
def test_message_colours_pass_wcag_aa(css, var, rule):
    match = re.search(rule, css)
    assert match, rule
    bg = match.group(1)
    fg = match.group(2) if match.lastindex == 2 else var("ok")
    assert contrast(fg, bg) >= 4.5


def test_focus_is_visible(css):
    assert re.search(r":focus-visible \{ outline: 3px solid", css)
