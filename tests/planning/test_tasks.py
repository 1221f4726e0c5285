"""Tasks through the operations: every rule of the task, the state machine, pinned item
versions, and the employers a task's filters match."""
from datetime import date

import pytest
from conftest import task_values
from sqlalchemy import select

from inspection.catalogue import operations as catalogue_ops
from inspection.core import operations as core_ops
from inspection.core.errors import Conflict, ValidationFailed
from inspection.core.models import AuditEntry
from inspection.directory.models import Employer, Region
from inspection.extensions import db
from inspection.planning import operations as ops
from inspection.planning.models import Task, TaskStatus


def refused(values, field):
    before = len(db.session.scalars(select(Task)).all())
    with pytest.raises(ValidationFailed) as info:
        ops.create_task(values)
    assert field in info.value.fields, info.value.fields
    db.session.rollback()
    assert len(db.session.scalars(select(Task)).all()) == before  # nothing saved
    return info.value.fields[field]


# ----------------------------------------------------------------------------- validation
def test_a_valid_task_takes_the_plans_ratios(app, ids, ctx):
    task = ops.create_task(task_values(ids))
    assert task.status == "draft"
    assert task.grade_ratios == {"A": "0.01", "B": "0.03", "C": "0.10", "D": "0.20"}
    assert [(td.department_id, td.is_lead) for td in task.departments] == [(ids["LSJC"], True)]
    assert not task.is_joint


def test_fewer_than_two_inspectors_per_visit_is_refused(app, ids, ctx):
    messages = refused(task_values(ids, inspectors_per_visit=1), "inspectors_per_visit")
    assert "At least 2" in messages[0]
    refused(task_values(ids, inspectors_per_visit=None), "inspectors_per_visit")
    assert ops.create_task(task_values(ids, inspectors_per_visit=3)).inspectors_per_visit == 3


@pytest.mark.parametrize("start,end,field", [
    (date(2025, 12, 31), date(2026, 2, 1), "window_start"),
    (date(2026, 11, 1), date(2027, 1, 5), "window_end"),
    (date(2026, 6, 1), date(2026, 5, 1), "window_end"),
    (None, date(2026, 5, 1), "window_start"),
])
def test_the_window_lies_inside_the_plans_year_start_before_end(app, ids, ctx, start, end, field):
    refused(task_values(ids, window_start=start, window_end=end), field)


def test_a_one_day_window_is_fine(app, ids, ctx):
    task = ops.create_task(task_values(ids, window_start=date(2026, 12, 30),
                                       window_end=date(2026, 12, 30)))
    assert task.window_start == task.window_end


def test_a_ratio_below_the_plans_is_refused(app, ids, ctx):
    messages = refused(task_values(ids, grade_ratios={"C": "0.05"}), "grade_ratios.C")
    assert "10%" in messages[0]


def test_a_higher_ratio_is_accepted_up_to_half_without_a_key_item(app, ids, ctx):
    task = ops.create_task(task_values(ids, grade_ratios={"D": "0.5", "C": 0.25}))
    assert task.grade_ratios["D"] == "0.50" and task.grade_ratios["C"] == "0.25"
    assert task.grade_ratios["A"] == "0.01"   # left out: the plan's


def test_a_full_ratio_needs_a_key_item(app, ids, ctx):
    messages = refused(task_values(ids, grade_ratios={"D": "1.00"}), "grade_ratios.D")
    assert "key item" in messages[0]
    refused(task_values(ids, grade_ratios={"C": "0.51"}), "grade_ratios.C")
    task = ops.create_task(task_values(ids, item_ids=[ids["LR-06"], ids["LR-02"]],
                                       grade_ratios={"D": "1.00", "C": "0.75"}))
    assert task.grade_ratios["D"] == "1.00" and ops.has_key_item(task)
    refused(task_values(ids, name="x", item_ids=[ids["LR-06"]], grade_ratios={"D": "1.2"}),
            "grade_ratios.D")


def test_the_lead_department_is_added_to_the_participants(app, ids, ctx):
    task = ops.create_task(task_values(ids, lead_department_id=ids["LSJC"],
                                       department_ids=[ids["SHBX"]],
                                       item_ids=[ids["LR-02"], ids["LR-07"]]))
    assert {(td.department_id, td.is_lead) for td in task.departments} == {
        (ids["LSJC"], True), (ids["SHBX"], False)}
    assert task.is_joint
    solo = ops.create_task(task_values(ids, name="solo", department_ids=[]))
    assert [(td.department_id, td.is_lead) for td in solo.departments] == [(ids["LSJC"], True)]


def test_each_items_department_must_take_part(app, ids, ctx):
    messages = refused(task_values(ids, item_ids=[ids["LR-07"]]), "department_ids")
    assert "社会保险" in messages[0]


@pytest.mark.parametrize("over,field", [
    ({"name": " "}, "name"),
    ({"plan_id": None}, "plan_id"),
    ({"plan_id": 99999}, "plan_id"),
    ({"lead_department_id": None}, "lead_department_id"),
    ({"lead_department_id": 99999}, "lead_department_id"),
    ({"department_ids": [99999]}, "department_ids"),
    ({"item_ids": []}, "item_ids"),
    ({"item_ids": [99999]}, "item_ids"),
    ({"method": "telepathy"}, "method"),
    ({"task_type": "sideways"}, "task_type"),
    ({"grade_ratios": {"E": "0.5"}}, "grade_ratios"),
])
def test_field_checks(app, ids, ctx, over, field):
    refused(task_values(ids, **over), field)


def test_a_retired_item_cannot_be_added(app, ids, ctx):
    catalogue_ops.retire_item(catalogue_ops.get_item(ids["LR-03"]), "合并")
    refused(task_values(ids, item_ids=[ids["LR-03"]]), "item_ids")


def test_a_task_needs_a_plan_in_force(app, base, ctx):
    plan = ops.create_plan({"year": 2027, "title": "2027", "scope": "全区"})
    values = task_values({**base, "plan": plan.id}, window_start=date(2027, 3, 1),
                         window_end=date(2027, 4, 1))
    messages = refused(values, "plan_id")
    assert "not approved" in messages[0]


def test_directed_filters(app, ids, ctx):
    db.session.add(Region(code="370305001", name="闻韶街道", county_code="370305",
                          county_name="临淄区"))
    db.session.commit()
    refused(task_values(ids, task_type="directed", filters={}), "filters")
    refused(task_values(ids, task_type="directed", filters={"regions": ["999"]}),
            "filters.regions")
    refused(task_values(ids, task_type="directed", filters={"industries": ["Z"]}),
            "filters.industries")
    refused(task_values(ids, task_type="directed", filters={"flags": ["rich"]}), "filters.flags")
    task = ops.create_task(task_values(ids, task_type="directed", filters={
        "regions": ["370305001"], "grades": ["d", "C"], "industries": ["c"]}))
    assert task.filters == {"regions": ["370305001"], "grades": ["C", "D"], "industries": ["C"]}
    undirected = ops.create_task(task_values(ids, name="u", filters={"grades": ["A"]}))
    assert undirected.filters == {}     # an undirected task keeps no filters


# ----------------------------------------------------------------------------- states
def test_the_task_state_machine(app, ids, ctx):
    office = core_ops.get_user(ids["office"])
    approver = core_ops.get_user(ids["approver"])
    task = ops.create_task(task_values(ids), actor=office)
    with pytest.raises(Conflict) as info:
        ops.approve_task(task, actor=approver)           # a draft cannot be approved
    assert "submitted" in info.value.message
    ops.update_task(task, {"name": "改名"}, actor=office)
    ops.submit_task(task, actor=office)
    with pytest.raises(Conflict):
        ops.update_task(task, {"name": "again"})
    with pytest.raises(ValidationFailed):
        ops.reject_task(task, "", actor=approver)
    ops.reject_task(task, "请补充说明", actor=approver)
    assert task.status == "draft" and task.review_note == "请补充说明"
    ops.submit_task(task, actor=office)
    ops.approve_task(task, actor=approver, note="同意")
    assert task.status == "approved" and task.approved_by_id == approver.id
    with pytest.raises(Conflict) as info:
        ops.update_task(task, {"inspectors_per_visit": 4})   # frozen
    assert "frozen" in info.value.message
    assert ops.get_task(task.id).inspectors_per_visit == 2
    with pytest.raises(ValidationFailed) as info:
        ops.cancel_task(task, " ", actor=office)
    assert "reason" in info.value.fields
    ops.cancel_task(task, "上级统一部署，改为联合抽查", actor=office)
    assert task.status == "cancelled" and task.cancel_reason.startswith("上级")
    with pytest.raises(Conflict):
        ops.cancel_task(task, "again")
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == "task", AuditEntry.object_id == str(task.id))
        .order_by(AuditEntry.seq)).all()
    assert [e.action for e in entries] == [
        "task.create", "task.update", "task.submit", "task.reject", "task.submit",
        "task.approve", "task.cancel"]
    assert entries[1].summary["changes"]["name"] == ["2026年工资支付检查", "改名"]
    assert entries[-1].actor_name == "office1"


def test_no_cancel_after_the_target_draw(app, ids, ctx):
    task = ops.create_task(task_values(ids))
    task.status = TaskStatus.TARGETS_DRAWN.value   # what the draw does
    db.session.commit()
    with pytest.raises(Conflict):
        ops.cancel_task(task, "too late")


def test_a_draft_moves_to_the_revised_plan_and_meets_its_floors(app, ids, ctx):
    task = ops.create_task(task_values(ids))
    plan = ops.get_plan(ids["plan"])
    second = ops.revise_plan(plan, "D 30%")
    rules = {g: dict(r) for g, r in plan.grade_rules.items()}
    rules["D"]["ratio"] = "0.30"
    ops.update_plan(second, {"grade_rules": rules})
    ops.submit_plan(second)
    ops.approve_plan(second)
    with pytest.raises(ValidationFailed) as info:
        ops.submit_task(task)                       # D 20% is now below the plan
    assert "grade_ratios.D" in info.value.fields
    ops.update_task(task, {"grade_ratios": {"D": "0.30"}})
    assert task.plan_id == second.id
    ops.submit_task(task)
    assert task.status == "submitted"
    # A new task cannot name the superseded revision.
    with pytest.raises(ValidationFailed) as info:
        ops.create_task(task_values(ids, name="old plan"))
    assert "plan_id" in info.value.fields


# ----------------------------------------------------------------------------- pinned items
def test_items_stay_pinned_to_their_version(app, ids, ctx):
    task = ops.create_task(task_values(ids))
    pinned = task.items[0].item_version
    assert pinned.number == 1
    item = catalogue_ops.get_item(ids["LR-02"])
    catalogue_ops.revise_item(item, {"frequency": 2}, "每年两次")
    db.session.expire_all()
    task = ops.get_task(task.id)
    assert task.items[0].item_version_id == pinned.id
    [p] = ops.pinned_items(task)
    assert (p.version.number, p.current_number, p.outdated) == (1, 2, True)
    # Editing the draft keeps the pin of an item kept, and pins a new item to its current one.
    catalogue_ops.revise_item(catalogue_ops.get_item(ids["LR-01"]), {"frequency": 3}, "三次")
    ops.update_task(task, {"item_ids": [ids["LR-02"], ids["LR-01"]], "name": "两项"})
    numbers = {p.version.item.code: (p.version.number, p.outdated)
               for p in ops.pinned_items(task)}
    assert numbers == {"LR-02": (1, True), "LR-01": (2, False)}
    # After approval, catalogue edits change nothing either.
    ops.submit_task(task)
    ops.approve_task(task)
    catalogue_ops.revise_item(catalogue_ops.get_item(ids["LR-01"]), {"frequency": 4}, "四次")
    db.session.expire_all()
    assert sorted(ti.item_version.number for ti in ops.get_task(task.id).items) == [1, 2]


# ----------------------------------------------------------------------------- filters query
def _employer(n, **kw):
    values = {"credit_code": f"91370305MA{n:08d}", "name": f"单位{n}",
              "employer_type": "enterprise", "region_code": "370305001", "industry": "C",
              "risk_grade": "B", "status": "active"}
    values.update(kw)
    employer = Employer(**values)
    db.session.add(employer)
    return employer


def test_task_filters_query(app, ids, ctx):
    for code, name in (("370305001", "闻韶街道"), ("370305002", "雪宫街道")):
        db.session.add(Region(code=code, name=name, county_code="370305", county_name="临淄区"))
    db.session.flush()
    _employer(1, risk_grade="C")
    _employer(2, risk_grade="D", region_code="370305002")
    _employer(3, risk_grade="D", industry="E", flag_complaints=True)
    _employer(4, risk_grade="A", employer_type="individual_business", flag_abnormal=True)
    _employer(5, risk_grade="D", status="deregistered")
    _employer(6, risk_grade="C", flag_serious_violation=True, region_code="370305002")
    db.session.commit()

    def names(task):
        return [e.name for e in db.session.scalars(ops.task_filters_query(task))]

    everyone = ops.create_task(task_values(ids))
    assert names(everyone) == ["单位1", "单位2", "单位3", "单位4", "单位6"]  # active only
    assert ops.count_matching(everyone) == 5

    def directed(**filters):
        return ops.create_task(task_values(ids, name=str(filters), task_type="directed",
                                           filters=filters))

    assert names(directed(regions=["370305001"], grades=["C", "D"])) == ["单位1", "单位3"]
    assert names(directed(industries=["E"])) == ["单位3"]
    assert names(directed(employer_types=["individual_business"])) == ["单位4"]
    assert names(directed(flags=["complaints", "abnormal"])) == ["单位3", "单位4"]
    assert names(directed(flags=["serious_violation"], grades=["C"])) == ["单位6"]
    assert names(directed(grades=["A"], regions=["370305002"])) == []


def test_a_fraction_is_not_a_whole_number(app, ids, ctx):
    """Whole-number fields refuse 2.5 (and "2.5", and True) instead of truncating them."""
    for bad in (2.5, "2.5", True):
        assert refused(task_values(ids, inspectors_per_visit=bad), "inspectors_per_visit")
