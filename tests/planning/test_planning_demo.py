"""The demo seed: this year's plan (published on 10 January, or before the first task when
that starts sooner) and its three tasks, whose windows include today."""

from sqlalchemy import func, select

from inspection.catalogue.demo import seed_catalogue
from inspection.core import operations as core_ops
from inspection.core.models import AuditEntry
from inspection.extensions import db
from inspection.planning import operations as ops
from inspection.planning.demo import demo_today, plan_published_on, seed_planning
from inspection.planning.models import Task


def test_seed_planning(app, make_user):
    make_user("office", "office")        # the demo's user names (劳动保障监察)
    make_user("approver", "approver")
    with app.app_context():
        core_ops.create_department("社会保险", "SHBX")
        seed_catalogue()
        today = demo_today()
        year = today.year
        wages, joint, directed = seed_planning()
        plan = ops.plan_in_force(year)
        assert (plan.status, plan.published_on) == ("published", plan_published_on(today))
        assert all(t.window_start <= today <= t.window_end for t in (wages, joint, directed))
        assert plan.approved_by_id == core_ops.find_user("approver").id
        assert plan.created_by_id == core_ops.find_user("office").id

        assert wages.name == f"{year}年工资支付专项随机抽查" and wages.status == "approved"
        assert sorted(ti.item_version.item.code for ti in wages.items) == ["LR-02", "LR-06"]
        assert ops.has_key_item(wages) and not wages.is_joint
        assert wages.lead_department.name == "劳动保障监察"

        assert joint.status == "approved" and joint.is_joint
        assert {td.department.name: td.is_lead for td in joint.departments} == {
            "劳动保障监察": True, "社会保险": False}
        assert sorted(ti.item_version.item.code for ti in joint.items) == ["LR-02", "LR-07"]

        assert directed.status == "draft" and directed.task_type == "directed"
        assert directed.filters["grades"] == ["C", "D"] and len(directed.filters["regions"]) == 1

        approvals = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(["plan.approve", "task.approve"]))).all()
        assert {e.actor_name for e in approvals} == {"approver"} and len(approvals) == 3

        # Running it again changes nothing.
        seed_planning()
        assert db.session.scalar(select(func.count(Task.id))) == 3


def test_cli_seed_plans_and_tasks(app, make_user):
    make_user("office", "office")
    make_user("approver", "approver")
    with app.app_context():
        core_ops.create_department("社会保险", "SHBX")
        seed_catalogue()
    runner = app.test_cli_runner()
    r = runner.invoke(args=["planning", "seed"])
    assert r.exit_code == 0, r.output
    assert r.output.count("\tapproved\t") == 2 and "\tdraft\t" in r.output
    year = demo_today().year
    r = runner.invoke(args=["planning", "plans"])
    assert r.exit_code == 0 and f"\t{year}\tr1\tpublished\tin force\t" in r.output
    r = runner.invoke(args=["planning", "tasks", "--status", "approved"])
    assert r.exit_code == 0 and len(r.output.strip().splitlines()) == 2
    assert f"{year}年工资支付专项随机抽查" in r.output
