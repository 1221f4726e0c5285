"""The employer's credit after a result (docs/handling.md "Credit"): the office proposes a risk
grade and/or a flag after a finding, an approver accepts or rejects it with a reason (four
eyes); acceptance changes the employer through the directory's own operation (its history
keeps the reason and the proposal's number), and the next target draw uses the new grade."""
from __future__ import annotations

from sqlalchemy import select

from inspection.core.models import AuditEntry, Department, User
from inspection.directory.employers import operations as employers
from inspection.directory.models import DirectoryChange, Employer
from inspection.draws.target import operations as target
from inspection.extensions import db
from inspection.fieldwork.models import Visit, VisitTask
from inspection.planning.models import AnnualPlan

from target_support import World, execute, make_task, office as world_office, prepare
from test_review_support import bureau


def _result(app, department, login_as):
    """An approved result with a penalty: (sealed, office, approver, employer id)."""
    s, office, approver, _principal = bureau(app, department, login_as)
    base = f"/api/v1/review/visits/{s.visit}"
    det = office.api("POST", f"{base}/determinations", json={
        "result_category": "pending_follow_up", "findings": [
            {"item": s.field.item, "question": s.field.questions[0],
             "finding": "拖欠工资情节严重", "handling": "penalty"}]}).get_json()
    assert approver.api("POST", f"/api/v1/review/determinations/{det['id']}/decision",
                        json={"approve": True}).status_code == 200
    with app.app_context():
        employer_id = db.session.scalar(select(Visit.employer_id)
                                        .where(Visit.number == s.visit))
    return s, office, approver, employer_id


def _task(task_id: int):
    from inspection.planning import operations as planning

    return planning.get_task(task_id)


def _world(department: int) -> World:
    plan = db.session.scalar(select(AnnualPlan))
    office = db.session.scalar(select(User).where(User.username == "drawoffice"))
    social = db.session.scalar(select(Department).where(Department.name == "社会保险"))
    return World(plan.id, office.id, department, social.id, [])


def test_accepted_grade_is_kept_in_the_history_and_used_by_the_next_draw(app, department,
                                                                         login_as):
    s, office, approver, employer_id = _result(app, department, login_as)
    url = f"/api/v1/review/visits/{s.visit}/grade-proposals"
    # bad input: 422, nothing made
    for body in ({"risk_grade": "E", "reason": "x"}, {"reason": "x"},
                 {"risk_grade": "D", "reason": ""}, {"flags": {"flag_nonsense": True},
                                                     "reason": "x"},
                 {"risk_grade": "B", "reason": "等级不变"}):
        response = office.api("POST", url, json=body)
        assert response.status_code == 422, (body, response.get_json())
    body = {"risk_grade": "D", "flags": {"flag_serious_violation": True},
            "reason": "拖欠工资情节严重，属重大违法"}
    made = office.api("POST", url, json=body)
    assert made.status_code == 201, made.get_json()
    assert office.api("POST", url, json=body).status_code == 200          # a double submit
    assert office.api("POST", url, json=dict(body, reason="另一理由")).status_code == 409
    proposal = made.get_json()
    assert proposal["from_grade"] == "B" and proposal["status"] == "proposed"

    # a task drawing only grade D: the employer is not in its pool yet
    with app.app_context():
        world = _world(department)
        task_id = make_task(world, name="高风险专项", ratios={"A": "0", "B": "0", "C": "0",
                                                              "D": "1.00"})
        code = db.session.get(Employer, employer_id).credit_code
        pools = {p.grade: p.ids for p in target.eligible_pools(_task(task_id)).pools}
        assert code not in pools.get("D", [])

    # four eyes and roles: the office does not decide; a reason is needed
    decide = f"/api/v1/review/grade-proposals/{proposal['id']}/decision"
    assert office.api("POST", decide, json={"approve": True, "reason": "x"}).status_code == 403
    assert approver.api("POST", decide, json={"approve": True, "reason": ""}).status_code == 422
    accepted = approver.api("POST", decide, json={"approve": True, "reason": "同意调为D类"})
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["directory_change_id"]

    with app.app_context():
        employer = db.session.get(Employer, employer_id)
        assert (employer.risk_grade, employer.flag_serious_violation) == ("D", True)
        change = db.session.get(DirectoryChange, accepted.get_json()["directory_change_id"])
        assert change.subject_id == employer_id
        assert change.changes["risk_grade"] == ["B", "D"]
        assert change.changes["flag_serious_violation"] == [False, True]
        assert f"#{proposal['id']}" in change.reason and s.visit in change.reason
        assert "同意调为D类" in change.reason
        assert [h.reason for h in employers.history(employer)][0] == change.reason
        assert {"credit.propose", "credit.accept", "employer.update"} <= set(db.session.scalars(
            select(AuditEntry.action)))
        # the next draw: the directory confirmed current, the employer is drawn in grade D
        employers.confirm_current(world_office(world))
        prepared = prepare(world, task_id)
        execute(world, prepared.draw.id)
        drawn = db.session.scalars(select(Visit.employer_id).join(
            VisitTask, VisitTask.visit_id == Visit.id).where(VisitTask.task_id == task_id)).all()
        assert drawn == [employer_id]

    # the review page shows the history of proposals
    html = office.get(f"/review/visits/{s.visit}").get_data(as_text=True)
    assert "拖欠工资情节严重，属重大违法" in html and "同意调为D类" in html


def test_a_rejected_proposal_changes_nothing_and_keeps_its_reason(app, department, login_as):
    s, office, approver, employer_id = _result(app, department, login_as)
    made = office.api("POST", f"/api/v1/review/visits/{s.visit}/grade-proposals",
                      json={"risk_grade": "C", "reason": "问题较多"}).get_json()
    decide = f"/api/v1/review/grade-proposals/{made['id']}/decision"
    # a team member (an inspector) may not decide
    assert s.inspector.api("POST", decide, json={"approve": False,
                                                 "reason": "x"}).status_code == 403
    assert approver.api("POST", decide, json={"approve": False}).status_code == 422
    rejected = approver.api("POST", decide, json={"approve": False,
                                                  "reason": "已当场整改，不调整等级"})
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    # the same decision again answers the stored one; another is a conflict
    assert approver.api("POST", decide, json={"approve": False,
                                              "reason": "已当场整改，不调整等级"}).status_code == 200
    assert approver.api("POST", decide, json={"approve": True,
                                              "reason": "改为同意"}).status_code == 409
    with app.app_context():
        employer = db.session.get(Employer, employer_id)
        assert employer.risk_grade == "B"
        assert not db.session.scalars(select(DirectoryChange).where(
            DirectoryChange.subject_id == employer_id,
            DirectoryChange.action == "update")).all()
    state = office.get(f"/api/v1/review/visits/{s.visit}/handling").get_json()
    assert [(p["status"], p["decision_reason"]) for p in state["proposals"]] == [
        ("rejected", "已当场整改，不调整等级")]
    assert "propose_grade" in state["actions"]   # a new proposal may follow
