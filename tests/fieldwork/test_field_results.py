"""The result categories and their rules: the server's table, and the copy the client
mirrors from docs/field-sync.md."""
import json
import re

from inspection.fieldwork.models import RESULT_LABELS, ResultCategory
from inspection.fieldwork.results import CATEGORY_RULES, check_record


def test_every_category_of_the_seed_has_a_label_and_a_rule():
    codes = [c.value for c in ResultCategory]
    # the eight of seed 004 第十九条(四) and 合格/不合格 ("等": the list is open)
    assert len(codes) == 10 and set(RESULT_LABELS) == set(codes) == set(CATEGORY_RULES)
    assert RESULT_LABELS["unreachable"] == "通过登记的住所(经营场所)无法联系"


def test_the_documented_client_constants_match_the_server(project_root):
    text = (project_root / "docs" / "field-sync.md").read_text(encoding="utf-8")
    block = text[text.index("export const CATEGORY_RULES"):]
    block = block[:block.index("};")]
    documented = {}
    for code, body in re.findall(r"^\s+(\w+):\s+(\{.*\}),\s*$", block, re.M):
        as_json = re.sub(r"(\w+):", r'"\1":', body)
        documented[code] = json.loads(as_json)
    assert documented == CATEGORY_RULES
    labels = dict(re.findall(r'\{ code: "(\w+)", label: "([^"]+)" \}', text))
    assert labels == RESULT_LABELS


def test_rules(ctx):
    bad = {"answer": "non_compliant", "note": "x", "order": None}
    ordered = dict(bad, order={"kind": "stop"})
    good = {"answer": "compliant", "note": "", "order": None}
    assert check_record([good], "no_problem", 0) == {}
    assert "result_category" in check_record([bad], "no_problem", 0)
    assert check_record([bad], "pending_follow_up", 0) == {}
    assert "result_category" in check_record([bad], "rectification_ordered", 0)
    assert check_record([ordered], "rectification_ordered", 0) == {}
    assert "result_category" in check_record([], "refused_seriously", 0)
    assert check_record([], "refused_seriously", 1) == {}
    assert "result_category" in check_record([good], "no_activity", 0)
    assert check_record([{"answer": "not_checked"}], "unreachable", 2) == {}
    assert check_record([good, bad], None, 0) == {}
