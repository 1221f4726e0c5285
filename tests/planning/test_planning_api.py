"""The plans and tasks JSON API: happy paths, 422 answers naming the fields, roles."""
from conftest import plan_values

from inspection.catalogue import operations as catalogue_ops
from inspection.planning import operations as ops


def task_json(ids, **over):
    data = {"plan_id": ids["plan"], "name": "API任务", "lead_department_id": ids["LSJC"],
            "department_ids": [ids["LSJC"]], "item_ids": [ids["LR-02"]],
            "task_type": "undirected", "method": "on_site", "window_start": "2026-03-01",
            "window_end": "2026-04-30", "announced": False, "inspectors_per_visit": 2}
    data.update(over)
    return data


def test_plan_lifecycle_through_the_api(app, base, login_as):
    office = login_as("office")
    approver = login_as("approver")
    r = office.api("POST", "/api/v1/plans", json={**plan_values(year=2027)})
    assert r.status_code == 201, r.get_json()
    plan = r.get_json()
    assert plan["status"] == "draft" and plan["grade_rules"]["D"] == {"ratio": "0.20",
                                                                       "frequency": 3}
    pid = plan["id"]
    r = office.api("PUT", f"/api/v1/plans/{pid}", json={"yearly_cap": 1, "schedule": "全年"})
    assert r.status_code == 200 and r.get_json()["yearly_cap"] == 1
    assert approver.api("POST", f"/api/v1/plans/{pid}/approve", json={}).status_code == 409
    assert office.api("POST", f"/api/v1/plans/{pid}/submit").status_code == 200
    assert office.api("PUT", f"/api/v1/plans/{pid}", json={"scope": "x"}).status_code == 409
    r = approver.api("POST", f"/api/v1/plans/{pid}/reject", json={})
    assert r.status_code == 422 and "note" in r.get_json()["error"]["fields"]
    assert approver.api("POST", f"/api/v1/plans/{pid}/reject",
                        json={"note": "补充"}).get_json()["status"] == "draft"
    office.api("POST", f"/api/v1/plans/{pid}/submit")
    r = approver.api("POST", f"/api/v1/plans/{pid}/approve", json={"note": "同意"})
    assert r.get_json()["status"] == "approved" and r.get_json()["in_force"] is True
    r = approver.api("POST", f"/api/v1/plans/{pid}/publish", json={"published_on": "2027-01-08"})
    assert r.get_json()["published_on"] == "2027-01-08"
    assert office.api("GET", "/api/v1/plans/in-force/2027").get_json()["id"] == pid
    assert office.api("GET", "/api/v1/plans/in-force/2031").status_code == 404
    r = office.api("POST", f"/api/v1/plans/{pid}/revise", json={"change_note": "改"})
    assert r.status_code == 201
    new = r.get_json()
    assert (new["revision"], new["previous_id"], new["status"]) == (2, pid, "draft")
    assert office.api("GET", "/api/v1/plans/in-force/2027").get_json()["id"] == pid
    listed = office.api("GET", "/api/v1/plans?year=2027").get_json()
    assert [p["revision"] for p in listed] == [2, 1]


def test_plan_api_422_names_the_fields(app, base, login_as):
    office = login_as("office")
    r = office.api("POST", "/api/v1/plans", json={"title": "x"})
    assert r.status_code == 422 and "year" in r.get_json()["error"]["fields"]
    r = office.api("POST", "/api/v1/plans", json={
        **plan_values(), "grade_rules": {"A": {"ratio": "0.001", "frequency": 1},
                                         "B": {"ratio": "0.03", "frequency": 0},
                                         "C": {"ratio": "0.10", "frequency": 2},
                                         "D": {"ratio": "0.20", "frequency": 3}}})
    assert r.status_code == 422
    fields = r.get_json()["error"]["fields"]
    assert set(fields) == {"grade_rules.A.ratio", "grade_rules.B.frequency"}
    r = office.api("POST", "/api/v1/plans", json={**plan_values(), "yearly_cap": "lots"})
    assert r.status_code == 422 and "yearly_cap" in r.get_json()["error"]["fields"]


def test_task_lifecycle_through_the_api(app, ids, login_as):
    office = login_as("office")
    approver = login_as("approver")
    r = office.api("POST", "/api/v1/tasks", json=task_json(
        ids, item_ids=[ids["LR-06"], ids["LR-02"]], grade_ratios={"D": "1.00"}))
    assert r.status_code == 201, r.get_json()
    task = r.get_json()
    tid = task["id"]
    assert task["grade_ratios"] == {"A": "0.01", "B": "0.03", "C": "0.10", "D": "1.00"}
    assert task["departments"] == [{"id": ids["LSJC"], "name": "劳动保障监察", "code": "LSJC",
                                    "is_lead": True}]
    assert [(i["code"], i["version"], i["newer_version_exists"]) for i in task["items"]] == [
        ("LR-02", 1, False), ("LR-06", 1, False)]
    assert task["announced"] is False and task["year"] == 2026
    r = office.api("PUT", f"/api/v1/tasks/{tid}", json={"department_ids": [ids["SHBX"]]})
    assert r.status_code == 200 and r.get_json()["is_joint"] is True
    assert office.api("POST", f"/api/v1/tasks/{tid}/submit").get_json()["status"] == "submitted"
    r = approver.api("POST", f"/api/v1/tasks/{tid}/reject", json={"note": "范围太宽"})
    assert r.get_json()["status"] == "draft" and r.get_json()["review_note"] == "范围太宽"
    office.api("POST", f"/api/v1/tasks/{tid}/submit")
    r = approver.api("POST", f"/api/v1/tasks/{tid}/approve", json={})
    assert r.get_json()["status"] == "approved"
    r = office.api("PUT", f"/api/v1/tasks/{tid}", json={"name": "x"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "conflict"
    with app.app_context():
        catalogue_ops.revise_item(catalogue_ops.get_item(ids["LR-02"]), {"frequency": 2}, "两次")
    items = office.api("GET", f"/api/v1/tasks/{tid}").get_json()["items"]
    assert [(i["code"], i["version"], i["current_version"], i["newer_version_exists"])
            for i in items] == [("LR-02", 1, 2, True), ("LR-06", 1, 1, False)]
    page = office.api("GET", "/api/v1/tasks?status=approved&year=2026").get_json()
    assert page["total"] == 1 and page["items"][0]["id"] == tid
    assert office.api("GET", "/api/v1/tasks?status=draft").get_json()["total"] == 0
    assert office.api("GET", f"/api/v1/tasks/{tid}/matching").get_json() == {"count": 0}
    r = office.api("POST", f"/api/v1/tasks/{tid}/cancel", json={})
    assert r.status_code == 422 and "reason" in r.get_json()["error"]["fields"]
    r = office.api("POST", f"/api/v1/tasks/{tid}/cancel", json={"reason": "合并"})
    assert r.get_json()["status"] == "cancelled" and r.get_json()["cancel_reason"] == "合并"


def test_task_api_422_names_the_fields(app, ids, login_as):
    office = login_as("office")
    r = office.api("POST", "/api/v1/tasks", json=task_json(
        ids, inspectors_per_visit=1, window_end="2027-02-01", grade_ratios={"B": "0.02"},
        task_type="directed", filters={"grades": ["Q"]}))
    assert r.status_code == 422
    body = r.get_json()["error"]
    assert body["code"] == "validation_failed"
    assert set(body["fields"]) == {"inspectors_per_visit", "window_end", "grade_ratios.B",
                                   "filters.grades"}
    r = office.api("POST", "/api/v1/tasks", json={"name": "x"})
    assert r.status_code == 422
    assert {"plan_id", "lead_department_id", "item_ids"} <= set(r.get_json()["error"]["fields"])
    r = office.api("POST", "/api/v1/tasks", json=task_json(ids, grade_ratios={"D": "1.00"}))
    assert r.status_code == 422 and "grade_ratios.D" in r.get_json()["error"]["fields"]
    assert office.api("GET", "/api/v1/tasks").get_json()["total"] == 0


def test_only_approvers_approve_or_publish_through_the_api(app, base, login_as):
    with app.app_context():
        plan = ops.create_plan(plan_values())
        ops.submit_plan(plan)
        pid = plan.id
    office = login_as("office")
    supervisor = login_as("supervisor")
    assert office.api("POST", f"/api/v1/plans/{pid}/approve", json={}).status_code == 403
    assert supervisor.api("POST", f"/api/v1/plans/{pid}/approve", json={}).status_code == 403
    assert supervisor.api("GET", f"/api/v1/plans/{pid}").status_code == 200
    admin = login_as("admin")
    assert admin.api("POST", f"/api/v1/plans/{pid}/approve", json={}).status_code == 200
    assert office.api("POST", f"/api/v1/plans/{pid}/publish", json={}).status_code == 403
    assert admin.api("POST", f"/api/v1/plans/{pid}/publish", json={}).status_code == 200
