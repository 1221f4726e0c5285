"""The field app's constants come from the server, once, and its modules stay in layers.

``static/field/constants.js`` is built from the server's enums and tables
(``inspection/fieldwork/constants_js.py``): it must be current, say what the server says, be
the only place in the field app that lists those codes, and be precached with the shell. The
modules of ``static/field/`` import each other without a cycle; one module opens IndexedDB,
one hashes, and the outbox imports none of the kinds of entry it sends.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from inspection.fieldwork import constants_js, field_views, refusals, results, signing
from inspection.fieldwork.models import RESULT_LABELS, ResultCategory, VisitStatus

ROOT = Path(__file__).resolve().parents[2]
FIELD = ROOT / "static" / "field"
CONSTANTS = FIELD / "constants.js"
#: `import ... from './x.js'`, `export ... from './x.js'`, `import './x.js'` and
#: `import('./x.js')`, over several lines too.
IMPORT = re.compile(r"""(?:\bimport\s*(?:[\w*{}\s,$]+?\s*from\s*)?"""
                    r"""|\bexport\s*[\w*{}\s,$]+?\s*from\s*"""
                    r"""|\bimport\s*\(\s*)['"]\./([\w.-]+\.js)['"]""")


def _modules() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(FIELD.glob("*.js"))}


def _codes(pairs) -> list[str]:
    return [code for code, _label in pairs]


def test_the_built_module_is_current():
    assert CONSTANTS.read_text(encoding="utf-8") == constants_js.source(), \
        "static/field/constants.js is stale: run python -m inspection.fieldwork.constants_js"


def test_the_module_says_what_the_server_says():
    js = constants_js.parse(CONSTANTS.read_text(encoding="utf-8"))
    assert _codes(js["ANSWERS"]) == list(results.ANSWERS)
    assert _codes(js["ORDER_KINDS"]) == list(results.ORDER_KINDS)
    assert _codes(js["NOTICE_WAYS"]) == list(results.NOTICE_WAYS)
    assert js["RESULT_CATEGORIES"] == [[c.value, RESULT_LABELS[c.value]] for c in ResultCategory]
    assert js["NO_PROBLEM"] == ResultCategory.NO_PROBLEM.value
    assert js["CATEGORY_RULES"] == results.CATEGORY_RULES
    assert _codes(js["REFUSAL_REASONS"]) == list(refusals.REFUSAL_REASONS)
    assert js["REFUSAL_RULES"] == refusals.REFUSAL_RULES
    assert js["NEED_REFUSAL"] == list(refusals.NEED_REFUSAL)
    assert js["REPRESENTATIVE_ROLES"] == [list(p) for p in refusals.REPRESENTATIVE_ROLES.items()]
    assert js["SIGNER_KINDS"] == list(refusals.SIGNER_KINDS)
    assert js["MIN_INSPECTOR_SIGNATURES"] == refusals.MIN_INSPECTOR_SIGNATURES
    assert js["SIGNATURE_LIMITS"] == {name: getattr(signing, name) for name in (
        "MIN_POINTS", "MIN_LENGTH", "MIN_BOX_LONG", "MIN_BOX_SHORT", "MIN_INK_PIXELS")}
    assert _codes(js["VISIT_STATUSES"]) == [s.value for s in VisitStatus]
    assert js["SEALED_STATUSES"] == ["recorded", "returned", "proposed", "determined",
                                     "published", "withheld", "closed"]


def test_javascript_reads_the_module_as_python_does():
    # Node.js is on every machine the suite runs on (the record and seal tests need it too):
    # without it this fails rather than skips.
    node = shutil.which("node") or "/usr/bin/node"
    script = ("const m = await import(process.argv[1]);"
              "console.log(JSON.stringify(Object.fromEntries(Object.entries(m))));")
    out = subprocess.run([node, "--input-type=module", "-e", script, CONSTANTS.as_uri()],
                         capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(out.stdout) == constants_js.constants()


def test_a_server_code_the_phone_has_no_words_for_stops_the_build(monkeypatch):
    monkeypatch.setattr(constants_js, "NOTICE_WAYS", (*results.NOTICE_WAYS, "email"))
    with pytest.raises(ValueError, match="NOTICE_WAYS"):
        constants_js.source()


def test_every_label_the_phone_translates_has_english():
    table = (FIELD / "i18n.js").read_text(encoding="utf-8")
    english = {json.loads(k) for k in re.findall(r'^  ("(?:[^"\\]|\\.)*"): ', table, re.M)}
    built = constants_js.constants()
    missing = [(name, label) for name in constants_js.TRANSLATED for _code, label in built[name]
               if label not in english]
    assert not missing, missing


def test_no_module_copies_the_lists_by_hand():
    """The codes that only lists hold, the lists' own words and the signature limits appear in
    constants.js (and the English table) only."""
    codes = ["not_applicable", "not_checked", "refused_to_sign", "refused_inspection",
             "nobody_present", "premises_unreachable", "person_in_charge", "in_progress",
             "withheld", "not_disclosed", "false_disclosure", "no_problem",
             "pending_follow_up", "rectification_ordered", "fax", "written"]
    code = re.compile(r"""['"](?:%s)['"]|\b(?:%s)\s*:""" % ("|".join(codes), "|".join(codes)))
    words = ["不适用", "未检查", "责令限期改正", "被检查单位代表拒绝签字", "被检查单位拒绝接受检查",
             "登记的住所（经营场所）无法进入或联系", "待分组", "待批准", "不予公示"]
    word = re.compile(r"""(?<!t\()['"](?:%s)['"]""" % "|".join(map(re.escape, words)))
    limit = re.compile(r"\bMIN_\w+\s*=\s*\d")
    found = []
    for name, text in _modules().items():
        if name in ("constants.js", "i18n.js"):
            continue
        found += [(name, m.group(0)) for pattern in (code, word, limit)
                  for m in pattern.finditer(text)]
    assert not found, found


def test_the_module_is_precached_with_the_shell(client):
    assert "field/constants.js" in field_views.SHELL_STATIC
    source = client.get("/service-worker.js").get_data(as_text=True)
    assert '"/static/field/constants.js"' in source
    served = client.get("/static/field/constants.js")
    assert served.status_code == 200
    assert served.get_data() == CONSTANTS.read_bytes()


def test_every_module_of_the_field_app_is_precached():
    """A module missing from the precache would break the app offline."""
    shell = set(field_views.SHELL_STATIC)
    missing = [name for name in _modules() if f"field/{name}" not in shell]
    assert not missing, missing


def test_the_field_modules_import_each_other_without_a_cycle():
    graph = {name: sorted(set(IMPORT.findall(text))) for name, text in _modules().items()}
    for name, imports in graph.items():
        for target in imports:
            assert target in graph, f"{name} imports ./{target}, which does not exist"
    assert graph["app.js"], "the import pattern found nothing: it is broken"
    cycles = []
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in graph[node]:
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif not state.get(target):
                visit(target)
        path.pop()
        state[node] = 2

    for node in graph:
        if not state.get(node):
            visit(node)
    assert not cycles, [" -> ".join(c) for c in cycles]


def test_the_layers():
    modules = _modules()
    opens = [name for name, text in modules.items()
             if re.search(r"\bopenDB\b|\bindexedDB\b|\.transaction\(|\bdb\(\)", text)]
    assert opens == ["db.js"], "only db.js opens and walks IndexedDB"
    hashes = [name for name, text in modules.items() if "crypto.subtle" in text]
    assert hashes == ["sha256.js"], "one SHA-256 helper"
    kinds = set(IMPORT.findall(modules["outbox.js"]))
    assert not kinds & {"record.js", "photos.js", "signdata.js", "sign.js"}, \
        "the queue knows no kind of entry"
    for kind, module in (("record", "record.js"), ("photo", "photos.js"),
                         ("signature", "signdata.js")):
        assert f"registerKind('{kind}'" in modules[module]
    writers = [name for name, text in modules.items()
               if re.search(r"\.phase\s*=(?!=)", text) and name != "sync.js"]
    assert not writers, "only sync.js changes the sync state"
    workers = [name for name, text in modules.items() if "navigator.serviceWorker" in text]
    assert workers == ["swbridge.js"], "one bridge to the service worker"
    puts = [name for name, text in modules.items() if re.search(r"function putJson\b", text)]
    assert puts == ["api.js"]
