"""The office's whole path after the visit, through the JSON API and through the pages:
return → the team corrects via the field API → back in the queue → propose → reject →
propose → approve → publish → objection entered by the office → upheld → correction →
approved: the current result is the corrected one, the original kept and superseded."""
from __future__ import annotations

from sqlalchemy import func, select

from inspection.extensions import db
from inspection.review.models import Determination
from inspection.review.todo import local_today

from test_review_support import DUE, audit_actions, bureau, credit_code, team_corrects


def test_the_whole_path_through_the_api(app, department, login_as):
    s, office, approver, principal = bureau(app, department, login_as)
    base = f"/api/v1/review/visits/{s.visit}"

    queue = office.get("/api/v1/review/queue").get_json()
    assert [i["visit"] for i in queue["items"]] == [s.visit] and queue["total"] == 1
    first = queue["items"][0]
    assert first["on_site_category"] == "rectification_ordered"
    assert first["check_date"] == "2026-04-02" and first["returned_before"] == 0
    state = office.get(base).get_json()
    assert state["status"] == "recorded" and set(state["actions"]) >= {"return", "propose"}
    assert state["record"]["seal"] == s.body["seal"]

    # return to the team; a double submit answers the stored return
    comment = {"comments": "请补充现场照片和说明。",
               "item_comments": [{"item": s.field.item, "question": s.field.questions[0],
                                  "comment": "结论与照片不符"}]}
    returned = office.api("POST", f"{base}/return", json=comment)
    assert returned.status_code == 201, returned.get_json()
    again = office.api("POST", f"{base}/return", json=comment)
    assert again.status_code == 200 and again.get_json()["id"] == returned.get_json()["id"]
    assert office.get("/api/v1/review/queue").get_json()["total"] == 0
    pack = s.inspector.get(f"/api/v1/field/visits/{s.visit}/pack").get_json()
    assert pack["review"]["returns"][0]["comments"] == comment["comments"]

    # the team corrects through the field API: back in the queue
    team_corrects(s)
    queue = office.get("/api/v1/review/queue").get_json()
    assert queue["items"][0]["visit"] == s.visit and queue["items"][0]["returned_before"] == 1
    assert office.get(base).get_json()["returns"][0]["resolved_at"] is not None

    # propose; a double submit (same key) answers the stored proposal
    proposal = {"result_category": "rectification_ordered", "key": "first-proposal-1",
                "findings": [{"item": s.field.item, "question": s.field.questions[0],
                              "finding": "未签订书面劳动合同", "handling": "rectification_order",
                              "due": DUE}],
                "summary": "责令限期改正"}
    proposed = office.api("POST", f"{base}/determinations", json=proposal)
    assert proposed.status_code == 201, proposed.get_json()
    det = proposed.get_json()
    replay = office.api("POST", f"{base}/determinations", json=proposal)
    assert replay.status_code == 200 and replay.get_json()["id"] == det["id"]
    assert office.get(base).get_json()["status"] == "proposed"

    # the approver rejects with reasons: back in the queue
    approvals = approver.get("/api/v1/review/approvals").get_json()
    assert [(a["kind"], a["id"]) for a in approvals] == [("determination", det["id"])]
    rejected = approver.api("POST", f"/api/v1/review/determinations/{det['id']}/decision",
                            json={"approve": False, "reason": "整改期限过长"})
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    assert office.get(base).get_json()["status"] == "recorded"

    # propose again, approve
    second = office.api("POST", f"{base}/determinations",
                        json=dict(proposal, key="second-proposal"))
    assert second.status_code == 201
    second_id = second.get_json()["id"]
    approved = approver.api("POST", f"/api/v1/review/determinations/{second_id}/decision",
                            json={"approve": True, "reason": ""})
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    state = office.get(base).get_json()
    assert state["status"] == "determined" and state["current_determination_id"] == second_id
    assert state["publication"]["status"] == "pending"
    assert state["publication"]["deadline"] or state["publication"]["deadline_year"]
    assert {"publish", "propose_exception", "feedback", "feedback_letter"} <= set(
        state["actions"])

    # publish (twice: the second answers the stored publication)
    published = office.api("POST", f"{base}/publish")
    assert published.status_code == 200, published.get_json()
    publication = published.get_json()
    assert publication["status"] == "published" and publication["published_at"]
    assert publication["period_end"]
    assert office.api("POST", f"{base}/publish").get_json() == publication

    # feedback, JSON; a double submit answers the stored row
    feedback = {"way": "phone", "delivered_on": state["publication"]["clock_start"],
                "note": "电话告知王经理"}
    told = office.api("POST", f"{base}/feedback", json=feedback)
    assert told.status_code == 201, told.get_json()
    told_again = office.api("POST", f"{base}/feedback", json=feedback)
    assert told_again.status_code == 200 and told_again.get_json()["id"] == told.get_json()["id"]

    # an objection entered by the office, reviewed: upheld
    objection = {"visit": s.visit, "credit_code": credit_code(app, s.visit), "contact": "王经理 13800000000",
                 "text": "我单位已于检查当日补签合同。", "key": "objection-key-1"}
    entered = office.api("POST", "/api/v1/review/objections", json=objection)
    assert entered.status_code == 201, entered.get_json()
    row = entered.get_json()
    assert row["source"] == "office" and row["status"] == "open" and row["number"]
    assert office.api("POST", "/api/v1/review/objections", json=objection).get_json()["id"] \
        == row["id"]
    upheld = office.api("POST", f"/api/v1/review/objections/{row['id']}/decision",
                        json={"status": "upheld", "outcome": "经复核，原结果维持。"})
    assert upheld.status_code == 200 and upheld.get_json()["status"] == "upheld"

    # a correction found by the bureau, approved by the principal head
    correction = {"origin": "bureau", "reason": "整改期限计算有误",
                  "result_category": "pending_follow_up",
                  "findings": [{"item": s.field.item, "question": s.field.questions[0],
                                "finding": "未签订书面劳动合同", "handling": "follow_up"}]}
    corrected = office.api("POST", f"{base}/corrections", json=correction)
    assert corrected.status_code == 201, corrected.get_json()
    correction_id = corrected.get_json()["id"]
    assert [a["kind"] for a in principal.get("/api/v1/review/approvals").get_json()] == \
        ["correction"]
    assert approver.get("/api/v1/review/approvals").get_json() == []  # a head does not
    done = principal.api("POST", f"/api/v1/review/corrections/{correction_id}/decision",
                         json={"approve": True})
    assert done.status_code == 200, done.get_json()
    new_id = done.get_json()["determination_id"]

    state = office.get(base).get_json()
    assert state["status"] == "published" and state["current_determination_id"] == new_id
    dets = {d["id"]: d for d in state["determinations"]}
    assert dets[new_id]["result_category"] == "pending_follow_up"
    assert dets[new_id]["corrects_id"] == second_id
    original = dets[second_id]
    assert original["status"] == "approved" and original["superseded_at"] is not None
    assert original["result_category"] == "rectification_ordered"  # never edited
    assert dets[det["id"]]["status"] == "rejected"
    with app.app_context():
        assert db.session.scalar(select(func.count(Determination.id))) == 3

    assert audit_actions(app) == [
        "review.return", "review.determination.propose", "review.determination.reject",
        "review.determination.propose", "review.determination.approve", "review.publish",
        "review.feedback", "review.objection", "review.objection.decide",
        "review.correction.propose", "review.correction.approve"]


def _ids(app, number):
    """(visit id, determinations, objections, corrections) ids of the visit, oldest first."""
    from inspection.fieldwork.models import Visit
    from inspection.review.models import Correction, Objection

    with app.app_context():
        visit_id = db.session.scalar(select(Visit.id).where(Visit.number == number))
        ids = {}
        for name, model in (("determinations", Determination), ("objections", Objection),
                            ("corrections", Correction)):
            ids[name] = list(db.session.scalars(select(model.id).where(
                model.visit_id == visit_id).order_by(model.id)))
        return ids


def _done(response, number):
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"].startswith(f"/review/visits/{number}")


def test_the_whole_path_through_the_pages(app, department, login_as):
    import io

    from PIL import Image

    s, office, approver, principal = bureau(app, department, login_as)
    page = f"/review/visits/{s.visit}"
    item, first = s.field.item, s.field.questions[0]

    queue = office.get("/review/").get_data(as_text=True)
    assert s.visit in queue and page in queue
    html = office.get(page).get_data(as_text=True)
    assert s.body["seal"] in html  # the sealed record, with its seal
    assert 'name="findings-0-handling"' in html and 'value="rectification_order" selected' in html
    assert f'value="{DUE}"' in html  # the order's due date prefilled

    _done(office.post_form(f"{page}/return", {
        "comments": "请补充现场照片。", "item_comments-0-subject": f"{item}|{first}",
        "item_comments-0-comment": "结论与照片不符"}, token_from=page), s.visit)
    assert "请补充现场照片。" in office.get(page).get_data(as_text=True)
    team_corrects(s)
    assert s.visit in office.get("/review/").get_data(as_text=True)

    proposal = {"result_category": "rectification_ordered", "key": "page-proposal-1",
                "findings-0-subject": f"{item}|{first}", "findings-0-finding": "未签合同",
                "findings-0-handling": "rectification_order", "findings-0-due": DUE,
                "findings-1-subject": "", "summary": ""}
    _done(office.post_form(f"{page}/determinations", proposal, token_from=page), s.visit)
    det = _ids(app, s.visit)["determinations"][-1]
    assert f"determination-{det}" in approver.get("/review/approvals").get_data(as_text=True)
    _done(approver.post_form(f"/review/determinations/{det}/decision",
                             {"decision": "reject", "reason": "依据不足"}, token_from=page),
          s.visit)
    _done(office.post_form(f"{page}/determinations", dict(proposal, key="page-proposal-2"),
                           token_from=page), s.visit)
    det = _ids(app, s.visit)["determinations"][-1]
    _done(approver.post_form(f"/review/determinations/{det}/decision",
                             {"decision": "approve", "reason": ""}, token_from=page), s.visit)
    _done(office.post_form(f"{page}/publish", {}, token_from=page), s.visit)

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "PNG")
    scan = buf.getvalue()
    _done(office.post_form(f"{page}/feedback", {
        "way": "post", "delivered_on": local_today().isoformat(), "note": "挂号信",
        "proof": (io.BytesIO(scan), "回执.png", "image/png")}, token_from=page), s.visit)
    html = office.get(page).get_data(as_text=True)
    from inspection.review.models import Feedback
    with app.app_context():
        feedback_id = db.session.scalar(select(Feedback.id))
    proof = f"{page}/feedback/{feedback_id}/proof"
    assert proof in html
    got = office.get(proof)
    assert got.status_code == 200 and got.data == scan and got.mimetype == "image/png"
    assert approver.get(proof).status_code == 403  # proof is for the office's eyes

    _done(office.post_form(f"{page}/objections", {
        "credit_code": credit_code(app, s.visit), "contact": "王经理", "text": "不服",
        "key": "page-objection-1"}, token_from=page), s.visit)
    objection = _ids(app, s.visit)["objections"][-1]
    _done(office.post_form(f"/review/objections/{objection}/decision",
                           {"status": "upheld", "outcome": "维持原结果"}, token_from=page),
          s.visit)
    _done(office.post_form(f"{page}/corrections", {
        "origin": "application", "objection_id": str(objection), "reason": "当事人申请更正",
        "result_category": "pending_follow_up", "findings-0-subject": f"{item}|{first}",
        "findings-0-handling": "follow_up", "findings-0-finding": "未签合同"},
        token_from=page), s.visit)
    correction = _ids(app, s.visit)["corrections"][-1]
    assert f"correction-{correction}" in principal.get("/review/approvals").get_data(
        as_text=True)
    _done(principal.post_form(f"/review/corrections/{correction}/decision",
                              {"decision": "approve", "reason": "同意"}, token_from=page),
          s.visit)

    state = office.get(f"/api/v1/review/visits/{s.visit}").get_json()
    current = next(d for d in state["determinations"] if d["id"] == state["current_determination_id"])
    assert current["result_category"] == "pending_follow_up" and current["corrects_id"] == det
    assert next(d for d in state["determinations"] if d["id"] == det)["superseded_at"]
    pdf = office.get(f"{page}/feedback-letter.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
