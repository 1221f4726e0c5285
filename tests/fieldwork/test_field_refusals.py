"""Refusals and absences (issue 6): the rules tying the reason to the result category, the
table the client mirrors from docs/field-sync.md, and refusal records over HTTP."""
import json
import re

from inspection.fieldwork.refusals import (NEED_REFUSAL, REFUSAL_RULES, check_refusal,
                                           check_signers)
from inspection.fieldwork.results import CATEGORY_RULES

from field_support import jpeg, new_key, photo_ref, put_photo, record, setup
from seal_support import inspector, put_record, representative, sign, team_users, witness

PHOTO = "0b8e6d3c-1f2a-4e5b-8c9d-7a6b5c4d3e2f"


def _body(reason, category=None, **refusal):
    section = {"reason": reason, "explanation": "门店关闭，现场无人。", "witnesses": [],
               "photos": [PHOTO]}
    section.update(refusal)
    return {"result_category": category, "refusal": section, "photos": [{"uuid": PHOTO}],
            "answers": []}


def test_the_documented_client_constants_match_the_server(project_root):
    text = (project_root / "docs" / "field-sync.md").read_text(encoding="utf-8")
    block = text[text.index("export const REFUSAL_RULES"):]
    block = block[:block.index("};")]
    documented = {}
    for reason, body in re.findall(r"^\s+(\w+):\s+(\{.*\}),\s*$", block, re.M):
        documented[reason] = json.loads(re.sub(r"(\w+):", r'"\1":', body, count=1))
    assert documented == REFUSAL_RULES
    need = re.search(r"export const NEED_REFUSAL = (\[.*\]);", text).group(1)
    assert json.loads(need) == NEED_REFUSAL
    for rule in REFUSAL_RULES.values():
        assert set(rule["categories"]) <= set(CATEGORY_RULES)


def test_reason_and_category(ctx):
    assert check_refusal(_body("premises_unreachable", "unreachable"), True) == {}
    assert "result_category" in check_refusal(_body("premises_unreachable", "no_activity"),
                                              False)
    assert check_refusal(_body("nobody_present", "unreachable"), True) == {}
    assert check_refusal(_body("nobody_present", "no_activity"), True) == {}
    assert check_refusal(_body("refused_inspection", "refused_seriously"), True) == {}
    assert "result_category" in check_refusal(_body("refused_inspection", "no_problem"), True)
    assert check_refusal(_body("refused_to_sign", "no_problem"), True) == {}
    assert check_refusal(_body("refused_to_sign", "refused_seriously"), True) == {}
    assert "result_category" in check_refusal(_body("refused_to_sign", "unreachable"), True)
    # no category yet: fine while the record is being made
    assert check_refusal(_body("premises_unreachable"), False) == {}


def test_a_sealed_unreachable_or_refused_result_needs_the_refusal(ctx):
    for category in NEED_REFUSAL:
        body = {"result_category": category, "refusal": None, "photos": [], "answers": []}
        assert "result_category" in check_refusal(body, True)
        assert check_refusal(body, False) == {}


def test_explanation_and_scene_photos(ctx):
    errors = check_refusal(_body("nobody_present", explanation="  ", photos=[]), False)
    assert {"refusal.explanation", "refusal.photos"} <= set(errors)
    errors = check_refusal(_body("nobody_present", photos=[PHOTO, new_key()]), False)
    assert "refusal.photos.1" in errors
    errors = check_refusal(_body("nobody_present", witnesses=[{"name": "李四"},
                                                              {"name": "李四"}]), False)
    assert "refusal.witnesses.1.name" in errors


def test_signers_of_a_refusal(ctx):
    body = _body("nobody_present", "unreachable", witnesses=[{"name": "李四"}])
    team = {1, 2}
    ok = [{"uuid": "a", "signer": inspector(1)}, {"uuid": "b", "signer": inspector(2)},
          {"uuid": "c", "signer": witness("李四")}]
    assert check_signers(dict(body, signatures=ok), team) == {}
    errors = check_signers(dict(body, signatures=ok + [
        {"uuid": "d", "signer": representative()}]), team)
    assert "signatures.3.signer" in errors
    errors = check_signers(dict(body, signatures=ok[:2] + [
        {"uuid": "c", "signer": witness("王五")}]), team)
    assert "signatures.2.signer.name" in errors
    errors = check_signers(dict(body, signatures=ok[:1]), team)
    assert "signatures" in errors


def _scene(client, field, seed=5):
    data, key = jpeg(seed=seed), new_key()
    assert put_photo(client, key, data, field.mine).status_code == 201
    return photo_ref(key, data)


def test_a_refusal_record_over_http(app, department, login_as):
    client, field = setup(app, department, login_as)
    team = team_users(app, field, login_as)
    photo = _scene(client, field)
    refusal = {"reason": "premises_unreachable",
               "explanation": "登记住所为空置商铺，电话无人接听，已拍照固定现场。",
               "witnesses": [{"name": "物业管理员李四"}], "photos": [photo["uuid"]]}
    body = record(field, category="unreachable", photos=[photo], refusal=refusal,
                  answers=[{"item": field.item, "question": field.questions[0],
                            "answer": "not_checked", "note": "", "order": None}])
    # the category must go with the reason
    wrong = dict(body, result_category="no_problem")
    error = put_record(client, wrong).get_json()["error"]
    assert "result_category" in error["fields"]
    # the inspectors and the witness sign the explanation; nobody signs for the employer
    with_rep = sign(client, body, [inspector(team[0]), inspector(team[1]), representative()])
    assert "signatures.2.signer" in put_record(client, with_rep).get_json()["error"]["fields"]
    signed = sign(client, body, [inspector(team[0]), inspector(team[1]),
                                 witness("物业管理员李四")])
    response = put_record(client, signed)
    assert response.status_code == 201, response.get_json()
    state = client.get(f"/api/v1/field/visits/{field.mine}/record").get_json()
    assert state["body"]["refusal"]["reason"] == "premises_unreachable"
    assert state["complete"] is True


def test_a_refusal_needs_its_explanation_and_photos_over_http(app, department, login_as):
    client, field = setup(app, department, login_as)
    refusal = {"reason": "refused_inspection", "explanation": "", "photos": [new_key()]}
    response = put_record(client, record(field, category="refused_seriously", refusal=refusal,
                                         photos=[]))
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert {"refusal.explanation", "refusal.photos.0", "result_category"} <= set(fields)
    bad = record(field, refusal={"reason": "went_home", "explanation": "x"})
    assert "refusal.reason" in put_record(client, bad).get_json()["error"]["fields"]


def test_the_pack_carries_the_rules_and_the_team_accounts(app, department, login_as):
    client, field = setup(app, department, login_as)
    team = team_users(app, field, login_as)
    pack = client.get(f"/api/v1/field/visits/{field.mine}/pack").get_json()
    assert pack["refusal_rules"]["reasons"] == REFUSAL_RULES
    assert pack["refusal_rules"]["need_refusal"] == NEED_REFUSAL
    assert pack["refusal_rules"]["representative_roles"]["delegate"] == "受委托人"
    assert sorted(m["user_id"] for m in pack["visit"]["team"]) == sorted(team)
    listed = client.get("/api/v1/field/visits").get_json()
    mine = next(v for v in listed if v["number"] == field.mine)
    assert sorted(m["user_id"] for m in mine["team"]) == sorted(team)
