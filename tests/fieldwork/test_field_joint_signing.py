"""A joint visit's record: each department's inspectors sign their department's part, the
representative signs the whole record once (issue 6; seed 000 三(八): in a joint check the
inspectors sign their own department's record form)."""
from __future__ import annotations

import json

from sqlalchemy import func, select, update

from inspection.catalogue.models import CheckItem, CheckItemVersion
from inspection.core import operations as core_ops
from inspection.directory.models import Inspector
from inspection.draws.models import TeamMember
from inspection.extensions import db
from inspection.fieldwork import seal, visits
from inspection.fieldwork.models import RecordRevision, Visit, VisitTask
from inspection.planning.models import TaskItem

from field_support import new_key, record, setup
from seal_support import (inspector, put_record, put_signature, ref, representative,
                          signature_body, strokes, team_users)
from field_support import pdf_text as _pdf
from seal_support import node as _node


def _joint_visit(app, department, login_as):
    """My visit made joint: the second member moves to a new department 社会保险 (SHBX), and
    the visit gets a second item that SHBX is responsible for. Returns (client, field, team
    user ids (mine first), {"lead": id, "other": id}, the second item's code, its questions)."""
    client, field = setup(app, department, login_as)
    team = team_users(app, field, login_as)
    with app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.number == field.mine))
        shbx = core_ops.create_department("社会保险联合组", "SHBXJ")
        members = db.session.scalars(select(TeamMember).where(
            TeamMember.visit_id == visit.id, TeamMember.replaced_at.is_(None))
            .order_by(TeamMember.id)).all()
        other = next(m for m in members if m.inspector_id != field.my_inspector)
        other.department_id = shbx.id
        db.session.get(Inspector, other.inspector_id).department_id = shbx.id
        lead = next(m.department_id for m in members if m.is_leader)
        have = set(visits.item_versions(visit.id))
        item = next(i for i in db.session.scalars(select(CheckItem).order_by(CheckItem.code))
                    if i.current is not None and i.current.id not in have
                    and i.current.questions)
        # (versions are immutable through the ORM; a test bureau's catalogue is made here)
        db.session.execute(update(CheckItemVersion).where(CheckItemVersion.id == item.current.id)
                           .values(department_id=shbx.id))
        task_id = db.session.scalar(select(VisitTask.task_id)
                                    .where(VisitTask.visit_id == visit.id))
        # (a task's items are fixed once approved through the operations: the test's own
        # change; every visit of the task now checks the item too)
        db.session.add(TaskItem(task_id=task_id, item_version_id=item.current.id))
        db.session.commit()
        departments = {"lead": lead, "other": shbx.id}
        code, questions = item.code, [q.code for q in item.current.questions]
        other_user = db.session.get(Inspector, other.inspector_id).user_id
    me = team[0]
    return client, field, [me, other_user], departments, code, questions


def _body(client, field, code, questions, **extra):
    pack = client.api("GET", f"/api/v1/field/visits/{field.mine}/pack").get_json()
    answers = [{"item": field.item, "question": field.questions[0], "answer": "compliant",
                "note": "", "order": None},
               {"item": code, "question": questions[0], "answer": "compliant", "note": "",
                "order": None}]
    body = record(field, answers=answers, category="no_problem",
                  departments=pack["departments"])
    body.update(extra)
    return body, pack


def _signed(client, body, signers, *, hashes=None):
    refs = []
    for n, signer in enumerate(signers):
        signs = (hashes or {}).get(n) or seal.expected_signs(body, signer)
        upload = signature_body(body["visit"], signer, signs, strokes(start=40 + n, points=30 + n))
        key = new_key()
        response = put_signature(client, key, upload)
        assert response.status_code == 201, response.get_json()
        refs.append(ref(key, upload))
    signed = dict(body, signatures=refs)
    signed["seal"] = seal.seal_of(signed)
    return signed


def _inspector(user_id, department_id):
    return dict(inspector(user_id), department_id=department_id)


def test_the_pack_lists_the_departments_and_what_each_answers_for(app, department, login_as):
    client, field, team, deps, code, questions = _joint_visit(app, department, login_as)
    pack = client.api("GET", f"/api/v1/field/visits/{field.mine}/pack").get_json()
    parts = {d["department_id"]: d for d in pack["departments"]}
    assert set(parts) == {deps["lead"], deps["other"]}
    assert parts[deps["other"]]["items"] == [code] and parts[deps["other"]]["name"] == "社会保险联合组"
    assert parts[deps["other"]]["questions"] == questions and not parts[deps["other"]]["lead"]
    assert field.item in parts[deps["lead"]]["items"] and parts[deps["lead"]]["lead"]
    assert {m["department_id"] for m in pack["team"]} == {deps["lead"], deps["other"]}


def test_each_department_signs_its_part_and_the_record_is_sealed(app, department, login_as,
                                                                 tmp_path):
    client, field, team, deps, code, questions = _joint_visit(app, department, login_as)
    body, _pack = _body(client, field, code, questions)
    signers = [_inspector(team[0], deps["lead"]), _inspector(team[1], deps["other"]),
               representative()]
    signed = _signed(client, body, signers)
    sig = {s["signer"].get("department_id"): s["signs"] for s in signed["signatures"]}
    # the two parts differ from each other and from the whole record the representative signs
    assert len({sig[deps["lead"]], sig[deps["other"]], seal.content_hash(body)}) == 3
    assert signed["signatures"][2]["signs"] == seal.content_hash(body)
    response = put_record(client, signed)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["seal"] == signed["seal"]
    # the record document says which department each inspector signed for
    _text, flat = _pdf(tmp_path, client.get(f"/visits/{field.mine}/record.pdf"), "joint.pdf")
    assert "联合检查" in flat and "社会保险联合组" in flat and "牵头部门" in flat
    assert f"社会保险联合组：{code}" in flat
    # a change in SHBX's part gives SHBX's part another hash, not the lead department's
    changed = json.loads(json.dumps(body))
    changed["answers"][1]["note"] = "补充"
    assert seal.part_hash(changed, deps["other"]) != sig[deps["other"]]
    assert seal.part_hash(changed, deps["lead"]) == sig[deps["lead"]]


def test_a_department_that_did_not_sign_its_part_is_refused(app, department, login_as):
    client, field, team, deps, code, questions = _joint_visit(app, department, login_as)
    body, _pack = _body(client, field, code, questions)
    # both inspectors sign, but the SHBX member claims the lead department's part
    signed = _signed(client, body, [_inspector(team[0], deps["lead"]),
                                    _inspector(team[1], deps["lead"]), representative()])
    response = put_record(client, signed)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert "signatures.1.signer.department_id" in fields
    assert any("社会保险联合组" in m for m in fields["signatures"])
    with app.app_context():
        assert db.session.scalar(select(func.count(RecordRevision.id))) == 0


def test_signing_the_whole_record_instead_of_the_part_is_refused(app, department, login_as):
    client, field, team, deps, code, questions = _joint_visit(app, department, login_as)
    body, _pack = _body(client, field, code, questions)
    signers = [_inspector(team[0], deps["lead"]), _inspector(team[1], deps["other"]),
               representative()]
    signed = _signed(client, body, signers, hashes={1: seal.content_hash(body)})
    response = put_record(client, signed)
    assert response.status_code == 422
    assert "signatures.1.signs" in response.get_json()["error"]["fields"]


def test_a_tampered_part_is_refused(app, department, login_as):
    client, field, team, deps, code, questions = _joint_visit(app, department, login_as)
    body, _pack = _body(client, field, code, questions)
    signed = _signed(client, body, [_inspector(team[0], deps["lead"]),
                                    _inspector(team[1], deps["other"]), representative()])
    signed["answers"][1]["answer"] = "non_compliant"
    signed["answers"][1]["note"] = "事后改动"
    signed["seal"] = seal.seal_of(signed)  # even with a seal recomputed over the change
    response = put_record(client, signed)
    assert response.status_code == 422
    assert "signatures.1.signs" in response.get_json()["error"]["fields"]


def test_the_departments_must_be_the_visits(app, department, login_as):
    client, field, team, deps, code, questions = _joint_visit(app, department, login_as)
    body, pack = _body(client, field, code, questions)
    moved = json.loads(json.dumps(pack["departments"]))
    lead = next(d for d in moved if d["lead"])
    other = next(d for d in moved if not d["lead"])
    other["items"].append(lead["items"].pop(0))  # an item moved to the other department
    body["departments"] = moved
    response = put_record(client, body)
    assert response.status_code == 422
    assert "departments" in response.get_json()["error"]["fields"]
    # a sealed joint record without its departments is refused too
    plain = dict(body)
    plain.pop("departments")
    signed = _signed(client, plain, [inspector(team[0]), inspector(team[1]), representative()])
    response = put_record(client, signed)
    assert response.status_code == 422
    assert "departments" in response.get_json()["error"]["fields"]


def test_a_one_department_record_lists_no_departments(app, department, login_as):
    client, field = setup(app, department, login_as)
    team_users(app, field, login_as)
    pack = client.api("GET", f"/api/v1/field/visits/{field.mine}/pack").get_json()
    assert pack["departments"] is None
    body = record(field, departments=[{"department_id": 1, "name": "x", "lead": True,
                                       "items": [field.item], "questions": field.questions}])
    response = put_record(client, body)
    assert response.status_code == 422
    assert "departments" in response.get_json()["error"]["fields"]


def test_the_phone_computes_the_same_part_hashes(project_root, tmp_path):
    body = {"record_id": "0b8428bb-37c7-47e6-8846-726188395962", "visit": "2026-000001",
            "revision": 3, "saved_at": "2026-04-02T10:15:03+08:00", "result_category": "no_problem",
            "answers": [{"item": "LR-02", "question": "LR-02-01", "answer": "compliant",
                         "note": "劳动合同齐全", "order": None},
                        {"item": "SI-01", "question": "SI-01-01", "answer": "non_compliant",
                         "note": "未足额缴费", "order": {"kind": "rectify", "due": "2026-05-01",
                                                      "text": "补缴"}}],
            "photos": [{"uuid": "a", "sha256": "0" * 64, "question": "SI-01-01"},
                       {"uuid": "b", "sha256": "1" * 64, "question": None}],
            "departments": [{"department_id": 1, "name": "劳动保障监察", "lead": True,
                             "items": ["LR-02"], "questions": ["LR-02-01"]},
                            {"department_id": 2, "name": "社会保险", "lead": False,
                             "items": ["SI-01"], "questions": ["SI-01-01"]}]}
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    script = """
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const seal = await import(pathToFileURL(process.argv[1]).href);
const body = JSON.parse(readFileSync(process.argv[2], "utf8"));
console.log(JSON.stringify({
  one: await seal.partHash(body, 1), two: await seal.partHash(body, 2),
  none: await seal.partHash(body, 3), whole: await seal.contentHash(body),
  rep: await seal.expectedSigns(body, { kind: "representative", name: "x" }),
  insp: await seal.expectedSigns(body, { kind: "inspector", user_id: 5, department_id: 2 }),
}));
"""
    out = json.loads(_node(project_root, script, str(project_root / "static/field/seal.js"),
                           str(path)))
    assert out["one"] == seal.part_hash(body, 1) and out["two"] == seal.part_hash(body, 2)
    assert out["none"] is None and seal.part_hash(body, 3) is None
    assert out["whole"] == out["rep"] == seal.content_hash(body)
    assert out["insp"] == out["two"] != out["one"]
    assert [a["question"] for a in seal.part_content(body, 2)["answers"]] == ["SI-01-01"]
    assert [p["uuid"] for p in seal.part_content(body, 1)["photos"]] == ["b"]
