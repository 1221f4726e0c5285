"""Four eyes and authority per act: nobody approves their own proposal or a visit they were
on; the position the bureau names for the act, in the department that owns the visit.
Refusals answer 403 with the reason and change nothing; the approvals page lists only what
the user may approve; two approvers deciding at once: one wins, the other gets 409."""
from __future__ import annotations

import pytest

from inspection.core import operations as core_ops
from inspection.core.errors import Conflict
from inspection.core.models import User, UserRole
from inspection.extensions import db
from inspection.review import operations as ops
from inspection.review.models import Determination

from helpers import Client
from review_support import set_position
from test_review_support import (audit_count, bureau, credit_code, sealed_problem, user,
                                 visit_status)


def _proposal(s, key="four-eyes-key"):
    return {"result_category": "rectification_ordered", "key": key,
            "findings": [{"item": s.field.item, "question": s.field.questions[0],
                          "finding": "未签合同", "handling": "rectification_order",
                          "due": "2026-12-30"}]}


def _client(app, username):
    c = Client(app)
    assert c.login(username).status_code == 302
    return c


def test_refusals_of_four_eyes_position_and_department(app, department, login_as, make_user):
    s, office, approver, principal = bureau(app, department, login_as)
    # someone who holds both roles proposes
    both = login_as("office", "approver", username="both")
    set_position(app, "both", "head")
    # a member of the visit's team who is also an approver (head)
    with app.app_context():
        member = db.session.get(User, s.team[1])
        db.session.add(UserRole(user_id=member.id, role="approver"))
        member.position = "head"
        db.session.commit()
        member_name = member.username
    on_team = _client(app, member_name)
    no_position = login_as("approver", username="staff_approver")   # no position
    with app.app_context():
        other = core_ops.create_department("工伤保险科", "GSBX").id
    make_user("other_head", "approver", department_id=other)
    set_position(app, "other_head", "head")
    other_head = _client(app, "other_head")

    proposed = both.api("POST", f"/api/v1/review/visits/{s.visit}/determinations",
                        json=_proposal(s))
    assert proposed.status_code == 201, proposed.get_json()
    det = proposed.get_json()["id"]
    path = f"/api/v1/review/determinations/{det}/decision"
    before = audit_count(app)
    expected = {
        "both": (both, "自己的提议"),                  # own proposal
        member_name: (on_team, "自己参加检查"),            # on the visit's team
        "staff_approver": (no_position, "您的职务"),    # wrong position
        "other_head": (other_head, "不属于您的部门"),   # another department
    }
    for name, (client, words) in expected.items():
        response = client.api("POST", path, json={"approve": True, "reason": ""})
        assert response.status_code == 403, (name, response.get_json())
        error = response.get_json()["error"]
        assert error["code"] == "forbidden" and words in error["message"], (name, error)
        # the approvals list never offers what the user may not approve
        assert client.get("/api/v1/review/approvals").get_json() == [], name
        # the page shows why, without the form
        html = client.get(f"/review/visits/{s.visit}").get_data(as_text=True)
        assert f"/review/determinations/{det}/decision" not in html, name
    # the office cannot decide at all (its role)
    assert office.api("POST", path, json={"approve": True}).status_code == 403
    assert audit_count(app) == before and visit_status(app, s.visit) == "proposed"

    # the head of the lead department may
    assert [a["id"] for a in approver.get("/api/v1/review/approvals").get_json()] == [det]
    html = approver.get(f"/review/visits/{s.visit}").get_data(as_text=True)
    assert f"/review/determinations/{det}/decision" in html
    done = approver.api("POST", path, json={"approve": True})
    assert done.status_code == 200 and done.get_json()["status"] == "approved"

    # an exception: a deputy head is not among APPROVE_PUBLICATION_EXCEPTION (head, principal)
    exception = office.api("POST", f"/api/v1/review/visits/{s.visit}/exceptions",
                           json={"kind": "state_secret", "reason": "涉及国家秘密"})
    assert exception.status_code == 201
    set_position(app, "approver1", "deputy_head")
    refused = approver.api("POST", f"/api/v1/review/exceptions/{exception.get_json()['id']}"
                                   "/decision", json={"approve": True})
    assert refused.status_code == 403 and "职务" in refused.get_json()["error"]["message"]
    approved = principal.api("POST", f"/api/v1/review/exceptions/{exception.get_json()['id']}"
                                     "/decision", json={"approve": True})
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    assert visit_status(app, s.visit) == "withheld"  # counted as handled
    state = office.get(f"/api/v1/review/visits/{s.visit}").get_json()
    assert state["publication"]["status"] == "withheld"
    assert "publish" not in state["actions"]
    # a withheld result is corrected, never published
    assert office.api("POST", f"/api/v1/review/visits/{s.visit}/publish").status_code == 409

    # a correction: only the principal head (APPROVE_CORRECTION), the head is refused
    set_position(app, "approver1", "head")
    correction = office.api("POST", f"/api/v1/review/visits/{s.visit}/corrections",
                            json={"origin": "bureau", "reason": "类别有误",
                                  "result_category": "unqualified",
                                  "findings": _proposal(s)["findings"]})
    assert correction.status_code == 201, correction.get_json()
    cid = correction.get_json()["id"]
    assert approver.api("POST", f"/api/v1/review/corrections/{cid}/decision",
                        json={"approve": True}).status_code == 403
    assert principal.api("POST", f"/api/v1/review/corrections/{cid}/decision",
                         json={"approve": False, "reason": "证据不足"}).status_code == 200


def test_two_approvers_at_once_one_wins_the_other_gets_409(app, department, login_as):
    s = sealed_problem(app, department, login_as)
    login_as("office", username="office1")
    second = login_as("approver", username="approver2")
    login_as("approver", username="approver1")
    set_position(app, "approver1", "head")
    set_position(app, "approver2", "deputy_head")
    with app.test_request_context():
        det = ops.propose_determination(s.visit, "rectification_ordered",
                                        _proposal(s)["findings"], actor=user("office1"))
        det_id = det.id
        # both read the proposal as "proposed", then decide: the first wins
        first, other = user("approver1"), user("approver2")
        assert db.session.get(Determination, det_id).status == "proposed"
        ops.decide_determination(det_id, True, actor=first)
        with pytest.raises(Conflict):
            ops.decide_determination(det_id, False, "不同意", actor=other)
        db.session.rollback()
        with pytest.raises(Conflict):  # the same decision by another approver: still 409
            ops.decide_determination(det_id, True, actor=other)
        db.session.rollback()
        # the winner's double submit is answered with the stored result
        assert ops.decide_determination(det_id, True, actor=first).status == "approved"
        row = db.session.get(Determination, det_id)
        assert row.status == "approved" and row.decided_by_id == first.id
    response = second.api("POST", f"/api/v1/review/determinations/{det_id}/decision",
                          json={"approve": False, "reason": "晚了一步"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert response.get_json()["error"]["message"]

    # the same for an objection's review (office and approvers may take it)
    with app.test_request_context():
        office = user("office1")
        ops.publish(s.visit, actor=office)
        objection = ops.submit_objection(s.visit, credit_code(app, s.visit), "王经理", "不服",
                                         source="office", actor=office)
        ops.decide_objection(objection.id, "upheld", "维持", actor=user("approver1"))
        with pytest.raises(Conflict):
            ops.decide_objection(objection.id, "corrected", "更正", actor=user("approver2"))
