"""Add Chinese translations to the catalogue without rewriting it by hand.

    python tools/add_translations.py FILE.json      # {"English msgid": "中文", ...}
    python tools/add_translations.py - < FILE.json

Entries whose msgid is already in ``messages.po`` keep their translation unless it is empty;
new ones are appended. The catalogue is rewritten under an exclusive lock, so several people
(or helper sessions) adding strings at once cannot lose each other's work. Message ids are
the English strings exactly as written in ``_()`` / ``{{ _() }}`` (python-format strings keep
their ``%(name)s`` placeholders, which the translation must keep too).
"""
from __future__ import annotations

import fcntl
import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUE = Path(__file__).resolve().parent.parent / \
    "translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def add(pairs: dict[str, str]) -> int:
    lock = CATALOGUE.with_suffix(".lock")
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with CATALOGUE.open("rb") as src:
            catalog = read_po(src)
        added = 0
        for msgid, msgstr in pairs.items():
            if not msgid or not msgstr:
                continue
            existing = catalog.get(msgid)
            if existing is not None and existing.string and "fuzzy" not in existing.flags:
                continue
            if existing is not None:
                existing.string = msgstr
                existing.flags.discard("fuzzy")
            else:
                flags = ["python-format"] if "%(" in msgid or "%d" in msgid or "%s" in msgid \
                    else []
                catalog.add(msgid, msgstr, flags=flags)
            added += 1
        tmp = CATALOGUE.with_suffix(".tmp")
        with tmp.open("wb") as dst:
            write_po(dst, catalog, width=100, omit_header=False, sort_output=True)
        tmp.replace(CATALOGUE)
    return added


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    text = sys.stdin.read() if argv[1] == "-" else Path(argv[1]).read_text(encoding="utf-8")
    pairs = json.loads(text)
    print(f"{add(pairs)} translation(s) added or filled")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
