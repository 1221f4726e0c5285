"""Handling what was found (docs/handling.md): a handling decision per problem of the approved
result, proposed by the office and decided by an approver (four eyes), sent within
REFERRAL_WORKDAYS working days of the result with its letter kept in the store, the outcome
recorded and published with the result (without names); the HANDLING_WORKDAYS clock; the
to-do lines. The result is approved on Friday 3 April 2026, before the Qingming holiday
(4-6 April): the referral is due 15 April (7 working days), not 14 (weekends only)."""
from __future__ import annotations

import re
import subprocess
from datetime import date, datetime

from sqlalchemy import func, select

from inspection.extensions import db
from inspection.review import todo
from inspection.review.handling.models import HandlingDecision
from inspection.review.models import Determination

from test_review_support import audit_actions, bureau

RECIPIENT = "临淄区市场监督管理局执法大队"
OUTCOME = "已立案查处，责令补签合同并罚款五千元"


def _pdf_text(tmp_path, data: bytes) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(HandlingDecision.id)))


def _run_jobs(app) -> None:
    try:
        from inspection.jobs.operations import run_pending
    except ImportError:
        return
    with app.app_context():
        run_pending()


def approved_result(app, department, login_as):
    """A visit whose result (a referral and a penalty) is approved on Friday 2026-04-03."""
    s, office, approver, principal = bureau(app, department, login_as)
    base = f"/api/v1/review/visits/{s.visit}"
    q1, q2 = s.field.questions[0], s.field.questions[1]
    proposal = {"result_category": "pending_follow_up", "findings": [
        {"item": s.field.item, "question": q1, "finding": "未签订书面劳动合同",
         "handling": "referral"},
        {"item": s.field.item, "question": q2, "finding": "拖欠工资", "handling": "penalty"}]}
    det = office.api("POST", f"{base}/determinations", json=proposal).get_json()
    done = approver.api("POST", f"/api/v1/review/determinations/{det['id']}/decision",
                        json={"approve": True, "reason": ""})
    assert done.status_code == 200, done.get_json()
    with app.app_context():
        db.session.get(Determination, det["id"]).decided_at = datetime(2026, 4, 3, 2, 0)
        db.session.commit()
    return s, office, approver, principal, det["id"]


def test_referrals_deadlines_letters_outcomes_and_publication(app, department, login_as,
                                                               tmp_path):
    s, office, approver, _principal, det_id = approved_result(app, department, login_as)
    state_url = f"/api/v1/review/visits/{s.visit}/handling"
    state = office.get(state_url).get_json()
    assert state["determination_id"] == det_id
    assert state["referral_deadline"] == "2026-04-15"      # Qingming 4-6 April is off
    assert state["clock"]["start"] == "2026-04-02" and state["clock"]["deadline"] == "2026-04-17"
    assert [(p["problem"], p["required"], p["decision"]) for p in state["problems"]] == [
        (0, True, None), (1, True, None)]

    # the to-do lines: two referrals due 15 April, the visit's handling due 17 April
    with app.test_request_context():
        items = [i for g in todo.deadlines(today=date(2026, 4, 14))["groups"]
                 for i in g["items"] if i.number == s.visit]
        lines = sorted((i.kind, i.due, i.state) for i in items
                       if i.kind in ("referral", "handling"))
        assert lines == [("handling", date(2026, 4, 17), "due_soon"),
                         ("referral", date(2026, 4, 15), "due_soon"),
                         ("referral", date(2026, 4, 15), "due_soon")]
        late = [i for g in todo.deadlines(today=date(2026, 4, 16))["groups"]
                for i in g["items"] if i.kind == "referral"]
        assert {i.state for i in late} == {"overdue"}
        assert s.visit in late[0].title and "问题 1" in late[0].title

    # bad input: 422, nothing changed
    post = f"/api/v1/review/visits/{s.visit}/handling/decisions"
    for body in ({"problem": 0, "kind": "nonsense", "recipient": RECIPIENT},
                 {"problem": 7, "kind": "referral_department", "recipient": RECIPIENT},
                 {"problem": 0, "kind": "referral_department", "recipient": ""},
                 {"kind": "referral_department", "recipient": RECIPIENT}):
        response = office.api("POST", post, json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert response.get_json()["error"]["fields"]
    assert _count(app) == 0

    # the office proposes; a double submit answers the stored row; an approver may not propose
    body = {"problem": 0, "kind": "referral_department", "recipient": RECIPIENT,
            "matter": "检查记录表复印件、现场照片"}
    assert approver.api("POST", post, json=body).status_code == 403
    first = office.api("POST", post, json=body)
    assert first.status_code == 201, first.get_json()
    assert office.api("POST", post, json=body).status_code == 200
    assert office.api("POST", post, json=dict(body, recipient="别处")).status_code == 409
    decision = first.get_json()
    assert decision["deadline"] == "2026-04-15" and decision["status"] == "proposed"

    # the office does not decide; the approver rejects without a reason: 422
    url = f"/api/v1/review/handling/{decision['id']}"
    assert office.api("POST", f"{url}/decision", json={"approve": True}).status_code == 403
    assert approver.api("POST", f"{url}/decision", json={"approve": False}).status_code == 422
    # not sent before it is approved
    assert office.api("POST", f"{url}/sending", json={"sent_on": "2026-04-10"}).status_code == 409
    ok = approver.api("POST", f"{url}/decision", json={"approve": True, "reason": ""})
    assert ok.status_code == 200 and ok.get_json()["status"] == "approved"

    # the draft letter, then sending: bad dates refused, on time on 15 April
    draft = _pdf_text(tmp_path, office.get(f"{url}/letter.pdf").data)
    assert RECIPIENT in re.sub(r"\s", "", draft) and "草稿" in draft
    for day in ("2026-04-02", "2099-01-01", "not a date"):
        assert office.api("POST", f"{url}/sending", json={"sent_on": day}).status_code == 422
    sent = office.api("POST", f"{url}/sending", json={"sent_on": "2026-04-15"})
    assert sent.status_code == 200 and sent.get_json()["on_time"] is True
    _run_jobs(app)
    with app.app_context():
        row = db.session.get(HandlingDecision, decision["id"])
        assert row.letter_sha256, "the letter as sent is kept in the store"
    letter = re.sub(r"\s", "", _pdf_text(tmp_path, office.get(f"{url}/letter.pdf").data))
    assert RECIPIENT in letter and "2026-04-15" in letter and "草稿" not in letter
    assert "检查记录表复印件" in letter

    # the penalty: sent on 16 April, one working day late
    second = office.api("POST", post, json={"problem": 1, "kind": "penalty",
                                            "recipient": "本局案件审理科"}).get_json()
    url2 = f"/api/v1/review/handling/{second['id']}"
    approver.api("POST", f"{url2}/decision", json={"approve": True})
    late = office.api("POST", f"{url2}/sending", json={"sent_on": "2026-04-16"}).get_json()
    assert late["on_time"] is False
    state = office.get(state_url).get_json()
    assert state["clock"]["complete_on"] == "2026-04-16" and state["clock"]["on_time"] is True

    # outcomes: bad input 422; recorded once
    assert office.api("POST", f"{url}/outcome", json={"outcome": "", "outcome_on": "2026-04-20"}
                      ).status_code == 422
    assert office.api("POST", f"{url}/outcome", json={"outcome": OUTCOME,
                                                      "outcome_on": "2026-04-01"}
                      ).status_code == 422
    done = office.api("POST", f"{url}/outcome", json={"outcome": OUTCOME,
                                                      "outcome_on": "2026-04-20"})
    assert done.status_code == 200 and done.get_json()["outcome"] == OUTCOME
    with app.test_request_context():
        kinds = {i.kind for g in todo.deadlines(today=date(2026, 4, 21))["groups"]
                 for i in g["items"] if i.number == s.visit}
        assert "handling_outcome" in kinds and "referral" not in kinds \
            and "handling" not in kinds

    # the review page shows the section
    html = office.get(f"/review/visits/{s.visit}").get_data(as_text=True)
    assert 'id="handling"' in html and RECIPIENT in html and OUTCOME in html

    # published with the result: the kind and the outcome, no names, no recipient
    assert office.api("POST", f"/api/v1/review/visits/{s.visit}/publish").status_code == 200
    public = app.test_client()
    found = [r for r in public.get("/public/results.json").get_json()["results"]
             if r["visit"] == s.visit][0]
    assert [(h["problem"], h["kind"], h["outcome"]) for h in found["handling"]] == [
        (1, "referral_department", OUTCOME), (2, "penalty", "")]
    page = public.get(f"/public/results/{s.visit}").get_data(as_text=True)
    assert OUTCOME in page
    for secret in (RECIPIENT, "Office1", "Approver1", "本局案件审理科"):
        assert secret not in page and secret not in str(found)
    assert {"handling.propose", "handling.approve", "handling.send",
            "handling.outcome"} <= set(_actions(app))


def _actions(app) -> list[str]:
    from inspection.core.models import AuditEntry

    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("handling.%"))))


def test_four_eyes_and_a_corrected_result(app, department, login_as):
    s, office, approver, principal, det_id = approved_result(app, department, login_as)
    both = login_as("office", "approver", username="both1")
    from review_support import set_position

    set_position(app, "both1", "head")
    post = f"/api/v1/review/visits/{s.visit}/handling/decisions"
    mine = both.api("POST", post, json={"problem": 0, "kind": "transfer_judiciary",
                                        "recipient": "区公安分局"}).get_json()
    refused = both.api("POST", f"/api/v1/review/handling/{mine['id']}/decision",
                       json={"approve": True})
    assert refused.status_code == 403, refused.get_json()
    # a team member who is an approver may not decide either
    assert s.inspector.api("POST", f"/api/v1/review/handling/{mine['id']}/decision",
                           json={"approve": True}).status_code == 403
    assert approver.api("POST", f"/api/v1/review/handling/{mine['id']}/decision",
                        json={"approve": True}).status_code == 200
    # publish, correct: the corrected result's problems get their own decisions
    office.api("POST", f"/api/v1/review/visits/{s.visit}/publish")
    correction = office.api("POST", f"/api/v1/review/visits/{s.visit}/corrections", json={
        "origin": "bureau", "reason": "处理方式有误", "result_category": "pending_follow_up",
        "findings": [{"item": s.field.item, "question": s.field.questions[0],
                      "finding": "未签订书面劳动合同", "handling": "referral"}]}).get_json()
    assert principal.api("POST", f"/api/v1/review/corrections/{correction['id']}/decision",
                         json={"approve": True}).status_code == 200
    old = f"/api/v1/review/handling/{mine['id']}/sending"
    assert office.api("POST", old, json={"sent_on": "2026-04-10"}).status_code == 409
    state = office.get(f"/api/v1/review/visits/{s.visit}/handling").get_json()
    assert state["determination_id"] != det_id
    assert [p["decision"] for p in state["problems"]] == [None]
    again = office.api("POST", post, json={"problem": 0, "kind": "referral_department",
                                           "recipient": "区市场监督管理局"})
    assert again.status_code == 201


def test_pages_act_through_forms_and_show_errors(app, department, login_as):
    s, office, approver, _principal, _det = approved_result(app, department, login_as)
    action = f"/review/handling/visits/{s.visit}/decisions"
    page = f"/review/visits/{s.visit}"
    bad = office.post_form(action, {"problem": "0", "kind": "", "recipient": ""},
                           token_from=page)
    assert bad.status_code == 422
    assert 'id="handling"' in bad.get_data(as_text=True)
    assert _count(app) == 0
    good = office.post_form(action, {"problem": "0", "kind": "referral_in_house",
                                     "recipient": "本局劳动监察执法科", "matter": "材料"},
                            token_from=page)
    assert good.status_code == 302 and good.headers["Location"].endswith("#handling")
    assert _count(app) == 1
    # the supervisor reads, does not act
    supervisor = login_as("supervisor", username="supervisor1")
    assert supervisor.get(f"/review/visits/{s.visit}").status_code == 200
    assert supervisor.post_form(action, {"problem": "1", "kind": "penalty", "recipient": "x"},
                                token_from=page).status_code == 403
