"""The field app in English: every text the app passes through t() has an English entry."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIELD = ROOT / "static" / "field"
CALL = re.compile(r"\bt\('((?:[^'\\]|\\.)*)'")
ENTRY = re.compile(r'^  ("(?:[^"\\]|\\.)*"): ("(?:[^"\\]|\\.)*"),$', re.M)
CJK = re.compile(r"[\u4e00-\u9fff]")


def english() -> dict[str, str]:
    text = (FIELD / "i18n.js").read_text(encoding="utf-8")
    return {json.loads(k): json.loads(v) for k, v in ENTRY.findall(text)}


def test_every_text_of_the_field_app_has_english():
    table = english()
    assert len(table) > 100
    used = {m for path in FIELD.glob("*.js") for m in CALL.findall(path.read_text(encoding="utf-8"))}
    shell = (ROOT / "templates" / "fieldwork" / "shell.html").read_text(encoding="utf-8")
    used |= set(re.findall(r'data-t(?:-label)?="([^"]+)"', shell))
    missing = sorted(u for u in used if CJK.search(u) and u not in table)
    assert not missing, missing
    for zh, en in table.items():  # placeholders survive, and the English is English
        assert sorted(re.findall(r"\{\d\}", zh)) == sorted(re.findall(r"\{\d\}", en)), zh
        assert not CJK.search(en), en


def test_the_shell_words_are_marked_for_translation():
    """The shell's visible Chinese words carry data-t, so an offline shell can change language."""
    shell = (ROOT / "templates" / "fieldwork" / "shell.html").read_text(encoding="utf-8")
    body = shell.split("<body>", 1)[1]
    body = re.sub(r"<noscript>.*?</noscript>", "", body, flags=re.S)  # no script to translate it
    marked = re.findall(r"<(?:h1|a|button|p)\b[^>]*>[^<]*[\u4e00-\u9fff][^<]*", body)
    assert len(marked) >= 5
    for element in marked:
        assert "data-t=" in element, element
