"""Bad input gets a clear error in the user's language and changes nothing (422 with the
fields, the audit trail unchanged); a double submit is answered with the stored result."""
from __future__ import annotations

from sqlalchemy import func, select

from inspection.extensions import db
from inspection.review import operations as ops
from inspection.review.models import Correction, Determination, PublicationException

from test_review_support import DUE, audit_count, bureau, credit_code, user, visit_status


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)))


def _fields(response) -> dict:
    assert response.status_code == 422, (response.status_code, response.get_data(as_text=True))
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and error["message"]
    return error["fields"]


def test_bad_input_is_refused_with_fields_and_changes_nothing(app, department, login_as):
    s, office, approver, _principal = bureau(app, department, login_as)
    base = f"/api/v1/review/visits/{s.visit}"
    item, first = s.field.item, s.field.questions[0]
    before = audit_count(app)

    fields = _fields(office.api("POST", f"{base}/return", json={"comments": ""}))
    assert fields["comments"] == ["必填。"]
    fields = _fields(office.api("POST", f"{base}/return", json={
        "comments": "请补充", "item_comments": [{"item": item, "question": "NOPE-1",
                                                "comment": "?"}]}))
    assert list(fields) == ["item_comments.0.question"]
    fields = _fields(office.api("POST", f"{base}/determinations", json={
        "result_category": "bogus",
        "findings": [{"item": item, "question": first, "handling": "rectification_order"}]}))
    assert set(fields) == {"result_category", "findings.0.due"}
    assert fields["result_category"] == ["请从所列选项中选择。"]
    # consistent in shape, not with the visit: the operation names the fields
    fields = _fields(office.api("POST", f"{base}/determinations", json={
        "result_category": "no_problem",
        "findings": [{"item": item, "question": first, "handling": "follow_up"},
                     {"item": "XX-99", "finding": "?"}]}))
    assert set(fields) == {"findings", "findings.1.item"}
    fields = _fields(office.api("POST", f"{base}/determinations", json={
        "result_category": "unqualified", "findings": []}))
    assert set(fields) == {"findings"}
    # not JSON at all
    response = office.http.post(f"{base}/determinations", data="result_category=x",
                                headers={"X-CSRFToken": office.api_token(),
                                         "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 422 and response.get_json()["error"]["message"]
    # in English for a user who reads English
    office.http.set_cookie("lang", "en")
    fields = _fields(office.api("POST", f"{base}/return", json={}))
    assert fields["comments"] == ["Required."]
    office.http.delete_cookie("lang")
    assert audit_count(app) == before and visit_status(app, s.visit) == "recorded"
    assert _count(app, Determination) == 0

    # the page answers 422 with the messages at the fields and what was typed
    page = f"/review/visits/{s.visit}"
    response = office.post_form(f"{page}/determinations", {
        "result_category": "rectification_ordered", "key": "bad-page-input",
        "findings-0-subject": f"{item}|{first}", "findings-0-finding": "写下的发现",
        "findings-0-handling": "rectification_order", "findings-0-due": "",
        "findings-1-subject": "", "summary": "我的摘要"}, token_from=page)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "部分填写内容无效" in html and "写下的发现" in html and "我的摘要" in html
    assert 'class="error" role="alert"' in html
    response = office.post_form(f"{page}/return", {
        "comments": " ", "item_comments-0-subject": f"{item}|{first}",
        "item_comments-0-comment": "保留的意见"}, token_from=page)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "必填。" in html and "保留的意见" in html
    assert audit_count(app) == before

    # decisions, feedback, objections, corrections
    with app.test_request_context():
        det = ops.propose_determination(s.visit, "rectification_ordered", [
            {"item": item, "question": first, "finding": "x", "handling": "rectification_order",
             "due": DUE}], actor=user("office1"))
        det_id = det.id
    before = audit_count(app)
    path = f"/api/v1/review/determinations/{det_id}/decision"
    assert set(_fields(approver.api("POST", path, json={}))) == {"approve"}
    assert set(_fields(approver.api("POST", path, json={"approve": False}))) == {"reason"}
    assert set(_fields(approver.api("POST", path, json={"approve": "maybe"}))) == {"approve"}
    response = approver.post_form(f"/review/determinations/{det_id}/decision",
                                  {"decision": "reject", "reason": ""}, token_from=page)
    assert response.status_code == 422 and "请写明不予批准的理由" in response.get_data(as_text=True)
    assert audit_count(app) == before and visit_status(app, s.visit) == "proposed"
    assert approver.api("POST", path, json={"approve": True}).status_code == 200
    before = audit_count(app)
    fields = _fields(office.api("POST", f"{base}/feedback",
                                json={"way": "pigeon", "delivered_on": "tomorrow"}))
    assert set(fields) == {"way", "delivered_on"}
    fields = _fields(office.api("POST", f"{base}/feedback",
                                json={"way": "phone", "delivered_on": "2099-01-01"}))
    assert set(fields) == {"delivered_on"}
    assert office.api("POST", f"{base}/publish").status_code == 200
    before = audit_count(app)
    fields = _fields(office.api("POST", "/api/v1/review/objections", json={
        "visit": s.visit, "credit_code": "91370000MA0000000X", "contact": "", "text": "不服"}))
    assert set(fields) == {"contact"}
    fields = _fields(office.api("POST", "/api/v1/review/objections", json={
        "visit": s.visit, "credit_code": "91370000MA00000000", "contact": "王", "text": "不服"}))
    assert set(fields) == {"credit_code"}
    fields = _fields(office.api("POST", f"{base}/corrections", json={
        "origin": "whim", "reason": "", "result_category": "qualified"}))
    assert set(fields) == {"origin", "reason"}
    fields = _fields(office.api("POST", f"{base}/exceptions", json={"kind": "x", "reason": ""}))
    assert set(fields) == {"kind", "reason"}
    assert audit_count(app) == before


def test_double_submits_are_answered_with_the_stored_result(app, department, login_as):
    s, office, approver, principal = bureau(app, department, login_as)
    base = f"/api/v1/review/visits/{s.visit}"
    page = f"/review/visits/{s.visit}"
    item, first = s.field.item, s.field.questions[0]
    form = {"result_category": "rectification_ordered", "key": "page-double-submit",
            "findings-0-subject": f"{item}|{first}", "findings-0-handling": "rectification_order",
            "findings-0-due": DUE}
    token = office.token(page)
    for _n in range(2):  # the same form posted twice (a double click)
        response = office.post_form(f"{page}/determinations", dict(form, csrf_token=token))
        assert response.status_code == 302
    assert _count(app, Determination) == 1
    det_id = office.get(base).get_json()["determinations"][0]["id"]
    path = f"/api/v1/review/determinations/{det_id}/decision"
    first_answer = approver.api("POST", path, json={"approve": True})
    again = approver.api("POST", path, json={"approve": True})
    assert first_answer.status_code == again.status_code == 200
    assert first_answer.get_json() == again.get_json()
    # the opposite decision by the same approver is a conflict, not a change
    assert approver.api("POST", path, json={"approve": False, "reason": "改主意"}).status_code \
        == 409

    body = {"kind": "not_fit_by_law", "reason": "依法不宜公开"}
    made = office.api("POST", f"{base}/exceptions", json=body)
    replay = office.api("POST", f"{base}/exceptions", json=body)
    assert (made.status_code, replay.status_code) == (201, 200)
    assert made.get_json() == replay.get_json() and _count(app, PublicationException) == 1
    other = office.api("POST", f"{base}/exceptions", json=dict(body, reason="另一个理由"))
    assert other.status_code == 409  # another proposal while one waits
    rejected = principal.api("POST", f"/api/v1/review/exceptions/{made.get_json()['id']}"
                                     "/decision", json={"approve": False, "reason": "应当公示"})
    assert rejected.status_code == 200
    audit = audit_count(app)
    published = office.api("POST", f"{base}/publish")
    assert published.status_code == 200
    assert office.api("POST", f"{base}/publish").get_json() == published.get_json()
    assert audit_count(app) == audit + 1

    objection = {"visit": s.visit, "credit_code": credit_code(app, s.visit),
                 "contact": "王经理", "text": "不服", "key": "objection-double"}
    first_objection = office.api("POST", "/api/v1/review/objections", json=objection)
    second_objection = office.api("POST", "/api/v1/review/objections", json=objection)
    assert (first_objection.status_code, second_objection.status_code) == (201, 200)
    oid = first_objection.get_json()["id"]
    outcome = {"status": "upheld", "outcome": "维持"}
    decided = office.api("POST", f"/api/v1/review/objections/{oid}/decision", json=outcome)
    assert office.api("POST", f"/api/v1/review/objections/{oid}/decision",
                      json=outcome).get_json() == decided.get_json()

    correction = {"origin": "bureau", "reason": "期限有误", "result_category": "pending_follow_up",
                  "findings": [{"item": item, "question": first, "handling": "follow_up"}]}
    made = office.api("POST", f"{base}/corrections", json=correction)
    replay = office.api("POST", f"{base}/corrections", json=correction)
    assert (made.status_code, replay.status_code) == (201, 200)
    assert made.get_json()["id"] == replay.get_json()["id"] and _count(app, Correction) == 1
    cpath = f"/api/v1/review/corrections/{made.get_json()['id']}/decision"
    approved = principal.api("POST", cpath, json={"approve": True})
    assert principal.api("POST", cpath, json={"approve": True}).get_json() == approved.get_json()
    assert _count(app, Determination) == 2  # the original and the corrected one, once
