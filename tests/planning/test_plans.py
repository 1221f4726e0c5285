"""Annual plans through the operations: validation of the per-grade minimums, the state
machine, revisions and the plan in force, the audit trail."""
from datetime import date

import pytest
from conftest import plan_values
from sqlalchemy import select

from inspection.core import operations as core_ops
from inspection.core.errors import Conflict, ValidationFailed
from inspection.core.models import AuditEntry
from inspection.extensions import db
from inspection.planning import operations as ops
from inspection.planning.models import DEFAULT_GRADE_RULES, PlanStatus


def rules(**over):
    data = {g: dict(r) for g, r in DEFAULT_GRADE_RULES.items()}
    for grade, rule in over.items():
        data[grade].update(rule)
    return data


def actions(object_id):
    return [e.action for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "annual_plan",
                                 AuditEntry.object_id == str(object_id))
        .order_by(AuditEntry.seq))]


def test_a_new_plan_takes_the_seed_minimums_and_the_cap_of_two(app, base, ctx):
    plan = ops.create_plan(plan_values())
    assert plan.status == "draft" and plan.revision == 1
    assert plan.grade_rules == DEFAULT_GRADE_RULES
    assert plan.yearly_cap == 2
    assert actions(plan.id) == ["plan.create"]


def test_a_plan_may_set_higher_ratios_and_frequencies(app, base, ctx):
    plan = ops.create_plan(plan_values(grade_rules=rules(
        C={"ratio": "0.15", "frequency": 3}, D={"ratio": 0.3})))
    assert plan.grade_rules["C"] == {"ratio": "0.15", "frequency": 3}
    assert plan.grade_rules["D"] == {"ratio": "0.30", "frequency": 3}


@pytest.mark.parametrize("grade,rule,field", [
    ("A", {"ratio": "0.005"}, "grade_rules.A.ratio"),
    ("C", {"ratio": "0.09"}, "grade_rules.C.ratio"),
    ("D", {"frequency": 2}, "grade_rules.D.frequency"),
    ("B", {"ratio": "abc"}, "grade_rules.B.ratio"),
    ("D", {"ratio": "0.6"}, "grade_rules.D.ratio"),
])
def test_a_plan_may_not_go_below_the_minimums(app, base, ctx, grade, rule, field):
    with pytest.raises(ValidationFailed) as info:
        ops.create_plan(plan_values(grade_rules=rules(**{grade: rule})))
    assert field in info.value.fields
    if grade in ("A", "C") and field.endswith("ratio"):
        assert "minimums" in info.value.fields[field][0]
    assert db.session.scalars(ops.list_plans()).all() == []


def test_plan_field_checks(app, base, ctx):
    with pytest.raises(ValidationFailed) as info:
        ops.create_plan({"year": 1999, "title": "", "scope": "", "yearly_cap": 0})
    assert set(info.value.fields) >= {"year", "title", "scope", "yearly_cap"}


def test_one_plan_per_year_then_revisions(app, base, ctx):
    ops.create_plan(plan_values())
    with pytest.raises(ValidationFailed) as info:
        ops.create_plan(plan_values(title="again"))
    assert "year" in info.value.fields


def test_the_state_machine(app, base, ctx):
    office = core_ops.get_user(base["office"])
    approver = core_ops.get_user(base["approver"])
    plan = ops.create_plan(plan_values(), actor=office)
    with pytest.raises(Conflict):
        ops.approve_plan(plan, actor=approver)        # a draft cannot be approved
    with pytest.raises(Conflict):
        ops.publish_plan(plan, date(2026, 1, 10))     # nor published
    with pytest.raises(Conflict):
        ops.revise_plan(plan)                          # nor revised
    ops.update_plan(plan, {"scope": "全区"}, actor=office)
    ops.submit_plan(plan, actor=office)
    with pytest.raises(Conflict):
        ops.update_plan(plan, {"scope": "x"})          # submitted: no edits
    with pytest.raises(ValidationFailed) as info:
        ops.reject_plan(plan, " ", actor=approver)     # a rejection says why
    assert "note" in info.value.fields
    ops.reject_plan(plan, "比例说明不清", actor=approver)
    assert plan.status == "draft" and plan.review_note == "比例说明不清"
    assert ops.plan_in_force(2026) is None
    ops.submit_plan(plan, actor=office)
    ops.approve_plan(plan, actor=approver, note="同意")
    assert plan.status == "approved" and plan.approved_by_id == approver.id
    assert ops.plan_in_force(2026).id == plan.id
    with pytest.raises(Conflict):
        ops.update_plan(plan, {"scope": "x"})          # approved: never edited
    ops.publish_plan(plan, date(2026, 1, 10), actor=approver)
    assert plan.status == "published" and plan.published_on == date(2026, 1, 10)
    assert ops.plan_in_force(2026).id == plan.id
    assert actions(plan.id) == ["plan.create", "plan.update", "plan.submit", "plan.reject",
                                "plan.submit", "plan.approve", "plan.publish"]


def test_a_revision_keeps_the_approved_one_in_force_until_it_is_approved(app, base, ctx):
    office = core_ops.get_user(base["office"])
    approver = core_ops.get_user(base["approver"])
    first = ops.create_plan(plan_values(), actor=office)
    ops.submit_plan(first, actor=office)
    ops.approve_plan(first, actor=approver)
    ops.publish_plan(first, date(2026, 1, 10), actor=approver)

    second = ops.revise_plan(first, "提高D级比例", actor=office)
    assert (second.revision, second.previous_id, second.status) == (2, first.id, "draft")
    assert second.grade_rules == first.grade_rules and second.title == first.title
    with pytest.raises(Conflict):
        ops.revise_plan(first)                          # one open revision at a time
    ops.update_plan(second, {"grade_rules": rules(D={"ratio": "0.25"})}, actor=office)
    assert first.grade_rules["D"]["ratio"] == "0.20"   # the approved text is untouched
    ops.submit_plan(second, actor=office)
    assert ops.plan_in_force(2026).id == first.id       # still the published revision
    assert first.status == "published"
    ops.approve_plan(second, actor=approver)
    assert ops.plan_in_force(2026).id == second.id
    assert first.status == PlanStatus.SUPERSEDED.value
    assert "plan.supersede" in actions(first.id)
    assert actions(second.id) == ["plan.revise", "plan.update", "plan.submit", "plan.approve"]
    # Only one revision of the year is in force.
    in_force = [p for p in ops.plan_revisions(2026) if p.status in ops.IN_FORCE]
    assert [p.id for p in in_force] == [second.id]


def test_a_revision_needs_a_change_note_to_be_submitted(app, base, ctx):
    plan = ops.create_plan(plan_values())
    ops.submit_plan(plan)
    ops.approve_plan(plan)
    second = ops.revise_plan(plan)
    with pytest.raises(ValidationFailed) as info:
        ops.submit_plan(second)
    assert "change_note" in info.value.fields
    ops.update_plan(second, {"change_note": "调整日程"})
    ops.submit_plan(second)
    assert second.status == "submitted"
