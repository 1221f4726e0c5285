"""The plan and task pages: who may see and do what, the forms and their 422 answers, the
approval steps, and the audit trail shown on the page."""
import pytest
from conftest import plan_values, task_values
from sqlalchemy import select

from inspection.catalogue import operations as catalogue_ops
from inspection.core.models import AuditEntry
from inspection.extensions import db
from inspection.planning import operations as ops
from inspection.planning.models import AnnualPlan, Task


@pytest.fixture
def task_id(app, ids):
    with app.app_context():
        return ops.create_task(task_values(ids)).id


def plan_form(**over):
    data = {"year": "2027", "title": "2027年度抽查计划", "scope": "全区用人单位",
            "inspector_requirements": "持证", "schedule": "全年", "procedure": "按规定",
            "yearly_cap": "2", "change_note": "",
            "ratio_A": "1", "ratio_B": "3", "ratio_C": "10", "ratio_D": "20",
            "frequency_A": "1", "frequency_B": "1", "frequency_C": "2", "frequency_D": "3"}
    data.update(over)
    return data


def task_form(ids, **over):
    data = {"plan_id": str(ids["plan"]), "name": "网页任务", "description": "",
            "lead_department_id": str(ids["LSJC"]), "department_ids": [str(ids["LSJC"])],
            "item_ids": [str(ids["LR-02"])], "task_type": "undirected", "method": "on_site",
            "window_start": "2026-04-01", "window_end": "2026-05-31", "announced": "y",
            "inspectors_per_visit": "2", "ratio_A": "", "ratio_B": "", "ratio_C": "",
            "ratio_D": ""}
    data.update(over)
    return data


# ----------------------------------------------------------------------------- roles
def test_inspector_gets_403_on_every_page_and_api(app, ids, task_id, login_as):
    c = login_as("inspector")
    plan = ids["plan"]
    for path in ("/plans/", "/plans/new", f"/plans/{plan}", f"/plans/{plan}/edit", "/tasks/",
                 "/tasks/new", f"/tasks/{task_id}", f"/tasks/{task_id}/edit",
                 "/api/v1/plans", f"/api/v1/plans/{plan}", "/api/v1/plans/in-force/2026",
                 "/api/v1/tasks", f"/api/v1/tasks/{task_id}",
                 f"/api/v1/tasks/{task_id}/matching"):
        assert c.get(path).status_code == 403, path
    for path in (f"/plans/{plan}/submit", f"/plans/{plan}/approve", f"/plans/{plan}/reject",
                 f"/plans/{plan}/publish", f"/plans/{plan}/revise", f"/tasks/{task_id}/submit",
                 f"/tasks/{task_id}/approve", f"/tasks/{task_id}/reject",
                 f"/tasks/{task_id}/cancel"):
        assert c.post_form(path, {"note": "x", "reason": "x"}, token_from="/").status_code \
            == 403, path
    for path in ("/api/v1/plans", "/api/v1/tasks", f"/api/v1/plans/{plan}/revise",
                 f"/api/v1/tasks/{task_id}/submit", f"/api/v1/tasks/{task_id}/cancel"):
        assert c.api("POST", path, json={"reason": "x"}).status_code == 403, path


def test_supervisor_reads_but_changes_nothing(app, ids, task_id, login_as):
    c = login_as("supervisor")
    for path in ("/plans/", f"/plans/{ids['plan']}", "/tasks/", f"/tasks/{task_id}"):
        assert c.get(path).status_code == 200, path
    html = c.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert f"/tasks/{task_id}/edit" not in html and "/cancel" not in html
    assert "/plans/new" not in c.get("/plans/").get_data(as_text=True)
    assert c.get("/plans/new").status_code == 403
    assert c.get("/tasks/new").status_code == 403
    assert c.post_form(f"/tasks/{task_id}/submit", {}, token_from="/").status_code == 403
    assert c.api("GET", "/api/v1/tasks").status_code == 200
    assert c.api("POST", f"/api/v1/tasks/{task_id}/submit").status_code == 403


def test_office_cannot_approve_and_approver_can(app, ids, task_id, login_as):
    office = login_as("office")
    page = f"/tasks/{task_id}"
    assert office.post_form(f"/tasks/{task_id}/submit", {}, token_from=page).status_code == 302
    assert "/approve" not in office.get(page).get_data(as_text=True)
    assert office.post_form(f"/tasks/{task_id}/approve", {"note": ""},
                            token_from=page).status_code == 403
    assert office.api("POST", f"/api/v1/tasks/{task_id}/approve", json={}).status_code == 403
    approver = login_as("approver")
    html = approver.get(page).get_data(as_text=True)
    assert f"/tasks/{task_id}/approve" in html
    for field_id in ("approve-note", "reject-note", "cancel-reason"):   # no duplicate ids
        assert html.count(f'id="{field_id}"') == 1, field_id
    r = approver.post_form(f"/tasks/{task_id}/approve", {"note": "同意"}, token_from=page)
    assert r.status_code == 302
    with app.app_context():
        task = ops.get_task(task_id)
        assert task.status == "approved" and task.review_note == "同意"
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "task.approve")
                                   ).one()
        assert entry.actor_name == "u_approver" and entry.object_id == str(task_id)
    # The approved task is frozen: its edit page sends back, the page offers no edit.
    r = office.get(f"/tasks/{task_id}/edit")
    assert r.status_code == 302 and r.headers["Location"].endswith(page)
    html = office.get(page).get_data(as_text=True)
    assert f"/tasks/{task_id}/edit" not in html
    assert "task.approve" in html        # the history on the page


def test_pages_have_no_inline_script_or_style(app, ids, task_id, login_as):
    c = login_as("admin")
    for path in ("/plans/", "/plans/new", f"/plans/{ids['plan']}", "/tasks/", "/tasks/new",
                 f"/tasks/{task_id}", f"/tasks/{task_id}/edit"):
        r = c.get(path)
        html = r.get_data(as_text=True)
        assert r.status_code == 200, path
        assert "<script>" not in html and " style=" not in html and "<style" not in html, path


# ----------------------------------------------------------------------------- plans
def test_office_drafts_a_plan_and_a_low_ratio_is_explained(app, base, login_as):
    c = login_as("office")
    r = c.post_form("/plans/new", plan_form(ratio_C="8"))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "minimums" in html and "10%" in html
    r = c.post_form("/plans/new", plan_form(ratio_C="12.5", frequency_D="4"))
    assert r.status_code == 302
    with app.app_context():
        plan = db.session.scalars(select(AnnualPlan)).one()
        assert plan.grade_rules["C"] == {"ratio": "0.125", "frequency": 2}
        assert plan.grade_rules["D"]["frequency"] == 4
        plan_id = plan.id
    r = c.post_form(f"/plans/{plan_id}/edit", plan_form(title="改过的标题"))
    assert r.status_code == 302
    r = c.post_form(f"/plans/{plan_id}/submit", {}, token_from=f"/plans/{plan_id}")
    assert r.status_code == 302
    with app.app_context():
        plan = ops.get_plan(plan_id)
        assert (plan.title, plan.status) == ("改过的标题", "submitted")


def test_approver_rejects_with_a_note_approves_and_publishes(app, base, login_as):
    with app.app_context():
        plan = ops.create_plan(plan_values())
        ops.submit_plan(plan)
        plan_id = plan.id
    c = login_as("approver")
    page = f"/plans/{plan_id}"
    r = c.post_form(f"{page}/reject", {"note": ""}, token_from=page)
    assert r.status_code == 422 and "A note is required" in r.get_data(as_text=True)
    assert c.post_form(f"{page}/reject", {"note": "范围不清"}, token_from=page).status_code == 302
    with app.app_context():
        assert ops.get_plan(plan_id).status == "draft"
        ops.submit_plan(ops.get_plan(plan_id))
    assert c.post_form(f"{page}/approve", {"note": ""}, token_from=page).status_code == 302
    r = c.post_form(f"{page}/publish", {"published_on": ""}, token_from=page)
    assert r.status_code == 422
    r = c.post_form(f"{page}/publish", {"published_on": "2026-01-10"}, token_from=page)
    assert r.status_code == 302
    with app.app_context():
        plan = ops.get_plan(plan_id)
        assert plan.status == "published" and plan.published_on.isoformat() == "2026-01-10"
    html = c.get(page).get_data(as_text=True)
    assert "plan.reject" in html and "范围不清" in html and "plan.publish" in html


def test_revising_from_the_page(app, ids, login_as):
    c = login_as("office")
    page = f"/plans/{ids['plan']}"
    r = c.post_form(f"{page}/revise", {"change_note": "调整C级频次"}, token_from=page)
    assert r.status_code == 302
    with app.app_context():
        new = ops.open_revision(2026)
        assert new.revision == 2 and new.change_note == "调整C级频次"
        assert ops.plan_in_force(2026).id == ids["plan"]
        new_id = new.id
    assert r.headers["Location"].endswith(f"/plans/{new_id}/edit")
    html = c.get(f"/plans/{new_id}").get_data(as_text=True)
    assert "stays in force" in html
    r = c.post_form(f"{page}/revise", {"change_note": "again"}, token_from=page)
    assert r.status_code == 409


# ----------------------------------------------------------------------------- tasks
def test_office_creates_a_joint_task_from_the_form(app, ids, login_as):
    c = login_as("office")
    r = c.post_form("/tasks/new", task_form(
        ids, department_ids=[str(ids["SHBX"])], item_ids=[str(ids["LR-02"]), str(ids["LR-07"])],
        ratio_D="25", announced=""))
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        task = db.session.scalars(select(Task)).one()
        assert task.is_joint and not task.announced
        assert task.grade_ratios == {"A": "0.01", "B": "0.03", "C": "0.10", "D": "0.25"}
        lead = [td.department_id for td in task.departments if td.is_lead]
        assert lead == [ids["LSJC"]]
        task_id = task.id
    html = c.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "LR-07" in html and "社会保险" in html and "25%" in html


@pytest.mark.parametrize("over,marker", [
    ({"inspectors_per_visit": "1"}, "At least 2"),
    ({"window_end": "2027-01-10"}, "Within the plan&#39;s year 2026"),
    ({"ratio_C": "5"}, "the plan&#39;s ratio"),
    ({"ratio_D": "100"}, "key item"),
    ({"item_ids": []}, "Choose at least one check item"),
    ({"task_type": "directed"}, "needs at least one filter"),
])
def test_the_task_form_answers_422_with_the_reason(app, ids, login_as, over, marker):
    c = login_as("office")
    r = c.post_form("/tasks/new", task_form(ids, **over))
    assert r.status_code == 422
    assert marker in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Task)).all() == []


def test_a_key_item_allows_100_percent_in_the_form(app, ids, login_as):
    c = login_as("office")
    r = c.post_form("/tasks/new", task_form(ids, item_ids=[str(ids["LR-06"])], ratio_D="100"))
    assert r.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Task)).one().grade_ratios["D"] == "1.00"


def test_the_task_page_flags_a_newer_version(app, ids, task_id, login_as):
    with app.app_context():
        catalogue_ops.revise_item(catalogue_ops.get_item(ids["LR-02"]), {"frequency": 2}, "两次")
    html = login_as("office").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "v1" in html and "newer: v2" in html


def test_editing_and_cancelling_a_task(app, ids, task_id, login_as):
    c = login_as("office")
    edit = f"/tasks/{task_id}/edit"
    html = c.get(edit).get_data(as_text=True)
    assert "2026年工资支付检查" in html
    r = c.post_form(edit, task_form(ids, name="改名后的任务", inspectors_per_visit="3"))
    assert r.status_code == 302
    page = f"/tasks/{task_id}"
    r = c.post_form(f"{page}/cancel", {"reason": ""}, token_from=page)
    assert r.status_code == 422
    r = c.post_form(f"{page}/cancel", {"reason": "任务合并"}, token_from=page)
    assert r.status_code == 302
    with app.app_context():
        task = ops.get_task(task_id)
        assert (task.name, task.inspectors_per_visit, task.status, task.cancel_reason) == (
            "改名后的任务", 3, "cancelled", "任务合并")
    html = c.get(page).get_data(as_text=True)
    assert "任务合并" in html and "task.cancel" in html and "task.update" in html


def test_task_list_filters(app, ids, task_id, login_as):
    c = login_as("office")
    assert "2026年工资支付检查" in c.get("/tasks/?status=draft&year=2026").get_data(as_text=True)
    assert "2026年工资支付检查" not in c.get("/tasks/?status=approved").get_data(as_text=True)
