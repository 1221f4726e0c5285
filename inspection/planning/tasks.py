"""Tasks (抽查任务): the changes. Each change loads its input through
:func:`.schemas.load_task`, changes, writes the audit trail and commits, all or nothing; a
refused change raises :class:`ValidationFailed` naming every bad field.

States: ``draft`` → ``submitted`` → ``approved`` (approval freezes the task: nothing is edited
afterwards) → ``targets_drawn`` → ``teams_drawn`` → ``closed`` (the draw moves it on);
``cancelled`` with a reason, from any state before the target draw. A rejection sends a
submitted task back to ``draft`` with a note. Only drafts are edited.

Rules checked on every save, again on submission and again on approval (by
:class:`~.schemas.TaskSchema`):

* the plan is the one **in force** for its year (a draft of a superseded revision moves to the
  revision in force); the date window lies inside the plan's year, start ≤ end;
* the lead department always takes part: when it is missing from the participating
  departments it is **added** (one department: a departmental task; more: a joint task);
  every item's responsible department takes part too;
* check items are active; each is **pinned** to its current version when it is added
  (:class:`~.models.TaskItem`), and stays pinned whatever later edits of the catalogue do;
* at least :data:`~.rules.MIN_INSPECTORS_PER_VISIT` (2) inspectors per visit (行政处罚法
  art. 42; 劳动保障监察条例 art. 16);
* **ratios per grade**: the floor is the plan's ratio for the grade (a task checks at least
  as much as the plan requires). The ceiling is 1.00 (100 %) when the task includes a **key**
  item (seed 003: the draw then only fixes the order of visits), otherwise
  :data:`~.rules.GENERAL_TASK_RATIO_CEILING` (0.50), so that a task of general items stays a
  sample;
* directed tasks need at least one filter; undirected ones have none (stored empty).
"""
from __future__ import annotations

from typing import Any, Mapping

from flask_babel import gettext as _

from ..core import audit
from ..core.errors import Conflict
from ..core.models import User, utcnow
from ..extensions import db
from .models import Task, TaskDepartment, TaskItem, TaskStatus
from .queries import task_values
from .rules import CANCELLABLE, TASK_FIELDS, actor_id, audit_value, changes_between, check_note
from .schemas import load_task


def _snapshot(task: Task) -> dict[str, Any]:
    """What the audit trail compares: codes and version numbers rather than ids."""
    values = task_values(task)
    values["departments"] = sorted(td.department.code for td in task.departments)
    values["items"] = sorted(f"{ti.item_version.item.code} v{ti.item_version.number}"
                             for ti in task.items)
    for key in ("department_ids", "item_ids"):
        values.pop(key)
    return values


def _apply(task: Task, clean: dict[str, Any]) -> None:
    task.plan = clean["plan"]
    for key in ("name", "description", "task_type", "filters", "method", "window_start",
                "window_end", "announced", "inspectors_per_visit", "grade_ratios"):
        setattr(task, key, clean[key])
    task.lead_department = clean["lead"]
    wanted = {d.id: d for d in clean["departments"]}
    task.departments = [td for td in task.departments if td.department_id in wanted] + [
        TaskDepartment(department_id=d.id, department=d) for d in clean["departments"]
        if d.id not in {td.department_id for td in task.departments}]
    for td in task.departments:
        td.is_lead = td.department_id == clean["lead"].id
    version_ids = {v.id for v in clean["versions"]}
    have = {ti.item_version_id for ti in task.items}
    task.items = [ti for ti in task.items if ti.item_version_id in version_ids] + [
        TaskItem(item_version_id=v.id, item_version=v) for v in clean["versions"]
        if v.id not in have]


# =========================================================================== tasks: changes
def create_task(values: Mapping[str, Any], actor: User | None = None) -> Task:
    """A new draft task. ``grade_ratios`` default to the plan's; items are pinned to their
    current versions."""
    clean = load_task(values, None)
    task = Task(status=TaskStatus.DRAFT.value, created_at=utcnow(),
                created_by_id=actor_id(actor))
    db.session.add(task)
    _apply(task, clean)
    db.session.flush()
    audit.record("task.create", "task", task.id, {
        k: audit_value(v) for k, v in _snapshot(task).items()}, actor=actor)
    db.session.commit()
    return task


def update_task(task: Task, values: Mapping[str, Any], actor: User | None = None) -> Task:
    """Change a draft task (keys left out keep their value). Items kept stay pinned to their
    version; items added are pinned to the current one."""
    if task.status != TaskStatus.DRAFT.value:
        raise Conflict(_("Only a draft task can be edited; an approved task is frozen."))
    before = _snapshot(task)
    merged = {**task_values(task), **{k: v for k, v in values.items() if k in TASK_FIELDS
                                      or k == "plan_id"}}
    clean = load_task(merged, task)
    _apply(task, clean)
    db.session.flush()
    changes = changes_between(before, _snapshot(task))
    if changes:
        audit.record("task.update", "task", task.id, {"changes": changes}, actor=actor)
    db.session.commit()
    return task


def _recheck(task: Task) -> None:
    """Check a task in full again (the plan may have been revised, items retired ...)."""
    clean = load_task(task_values(task), task)
    if clean["plan"].id != task.plan_id:
        before = task.plan_id
        task.plan = clean["plan"]
        audit.record("task.replan", "task", task.id,
                     {"plan_id": [before, clean["plan"].id]})


def submit_task(task: Task, actor: User | None = None) -> Task:
    """Send a draft for approval (checked again in full)."""
    if task.status != TaskStatus.DRAFT.value:
        raise Conflict(_("Only a draft task can be submitted."))
    _recheck(task)
    task.status = TaskStatus.SUBMITTED.value
    task.submitted_at = utcnow()
    audit.record("task.submit", "task", task.id, {"name": task.name}, actor=actor)
    db.session.commit()
    return task


def approve_task(task: Task, actor: User | None = None, note: str = "") -> Task:
    """Approve a submitted task: from now on it is frozen (only cancelled, with a reason)."""
    if task.status == TaskStatus.DRAFT.value:
        raise Conflict(_("A draft task must be submitted before it is approved."))
    if task.status != TaskStatus.SUBMITTED.value:
        raise Conflict(_("Only a submitted task can be approved."))
    note = check_note(note, required=False)
    _recheck(task)
    task.status = TaskStatus.APPROVED.value
    task.approved_at = utcnow()
    task.approved_by_id = actor_id(actor)
    task.review_note = note
    audit.record("task.approve", "task", task.id, {"name": task.name, "note": note,
                                                   "plan_id": task.plan_id}, actor=actor)
    db.session.commit()
    return task


def reject_task(task: Task, note: str, actor: User | None = None) -> Task:
    """Send a submitted task back to draft, saying why."""
    if task.status != TaskStatus.SUBMITTED.value:
        raise Conflict(_("Only a submitted task can be rejected."))
    note = check_note(note, required=True)
    task.status = TaskStatus.DRAFT.value
    task.review_note = note
    audit.record("task.reject", "task", task.id, {"name": task.name, "note": note}, actor=actor)
    db.session.commit()
    return task


def cancel_task(task: Task, reason: str, actor: User | None = None) -> Task:
    """Cancel a task before its target draw, with a reason (kept on record)."""
    if task.status not in CANCELLABLE:
        if task.status == TaskStatus.CANCELLED.value:
            raise Conflict(_("The task is cancelled already."))
        raise Conflict(_("The targets of this task have been drawn: it can no longer be "
                         "cancelled."))
    reason = check_note(reason, required=True, field="reason")
    previous = task.status
    task.status = TaskStatus.CANCELLED.value
    task.cancelled_at = utcnow()
    task.cancel_reason = reason
    audit.record("task.cancel", "task", task.id,
                 {"name": task.name, "reason": reason, "status": [previous, task.status]},
                 actor=actor)
    db.session.commit()
    return task
