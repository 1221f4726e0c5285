"""Reading plans and tasks: the queries :mod:`.schemas`, :mod:`.plans`, :mod:`.tasks`, the
pages, the API and the draw share (nothing here changes anything)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from ..catalogue.models import CheckItemVersion, ItemKind
from ..core import audit
from ..core.errors import NotFound
from ..core.models import Department
from ..directory.models import Employer, EmployerStatus
from ..extensions import db
from .models import AnnualPlan, PlanStatus, Task, TaskDepartment, TaskItem, TaskType
from .rules import FLAGS, IN_FORCE


# =========================================================================== plans
def get_plan(plan_id: int) -> AnnualPlan:
    plan = db.session.get(AnnualPlan, plan_id)
    if plan is None:
        raise NotFound(_("No such annual plan."))
    return plan


def list_plans(year: int | None = None, status: str | None = None):
    """The query behind the plans list: newest year first, newest revision first."""
    query = select(AnnualPlan).order_by(AnnualPlan.year.desc(), AnnualPlan.revision.desc())
    if year:
        query = query.where(AnnualPlan.year == year)
    if status:
        query = query.where(AnnualPlan.status == status)
    return query


def plan_in_force(year: int) -> AnnualPlan | None:
    """The approved or published revision of ``year``'s plan, or None. At most one is: approving
    a revision supersedes the one before."""
    return db.session.scalar(
        select(AnnualPlan).where(AnnualPlan.year == year, AnnualPlan.status.in_(IN_FORCE))
        .order_by(AnnualPlan.revision.desc()).limit(1))


def plans_in_force() -> list[AnnualPlan]:
    """Every year's plan in force, newest year first (for the task form)."""
    return list(db.session.scalars(select(AnnualPlan).where(AnnualPlan.status.in_(IN_FORCE))
                                   .order_by(AnnualPlan.year.desc())))


def open_revision(year: int) -> AnnualPlan | None:
    """The draft or submitted revision of ``year``'s plan, if any (at most one at a time)."""
    return db.session.scalar(select(AnnualPlan).where(
        AnnualPlan.year == year,
        AnnualPlan.status.in_((PlanStatus.DRAFT.value, PlanStatus.SUBMITTED.value))).limit(1))


def plan_revisions(year: int) -> list[AnnualPlan]:
    return list(db.session.scalars(select(AnnualPlan).where(AnnualPlan.year == year)
                                   .order_by(AnnualPlan.revision.desc())))


def history(object_type: str, object_id: int, limit: int = 100):
    """The audit entries of one plan or task, newest first."""
    return audit.search(object_type=object_type, object_id=str(object_id), limit=limit)



def plan_values(plan: AnnualPlan) -> dict[str, Any]:
    """A plan's content in the shape operations take (for forms and comparisons)."""
    return {"title": plan.title, "scope": plan.scope,
            "inspector_requirements": plan.inspector_requirements,
            "grade_rules": {g: dict(r) for g, r in (plan.grade_rules or {}).items()},
            "yearly_cap": plan.yearly_cap, "schedule": plan.schedule,
            "procedure": plan.procedure, "change_note": plan.change_note}


# =========================================================================== tasks
def get_task(task_id: int) -> Task:
    task = db.session.get(Task, task_id, options=[
        selectinload(Task.departments).selectinload(TaskDepartment.department),
        selectinload(Task.items).selectinload(TaskItem.item_version)
        .selectinload(CheckItemVersion.item)])
    if task is None:
        raise NotFound(_("No such task."))
    return task


def list_tasks(status: str | None = None, year: int | None = None,
               plan_id: int | None = None, q: str | None = None) -> Select:
    """The query behind the task list (not executed): newest first, filtered."""
    query = (select(Task).join(AnnualPlan, AnnualPlan.id == Task.plan_id)
             .options(selectinload(Task.lead_department), selectinload(Task.departments),
                      selectinload(Task.plan))
             .order_by(Task.window_start.desc(), Task.id.desc()))
    if status:
        query = query.where(Task.status == status)
    if year:
        query = query.where(AnnualPlan.year == year)
    if plan_id:
        query = query.where(Task.plan_id == plan_id)
    if q:
        query = query.where(Task.name.ilike(f"%{q.strip()}%"))
    return query


@dataclass(frozen=True)
class PinnedItem:
    """A task's item as pinned, and the catalogue's current version number of that item."""

    version: CheckItemVersion
    current_number: int

    @property
    def outdated(self) -> bool:
        return self.current_number > self.version.number


#: Where :func:`preload_pinned_items` leaves a task's pinned items on the task object (for
#: the life of the session's copy of the task, that is one request).
_PINNED = "_pinned_items"


def pinned_items(task: Task) -> list[PinnedItem]:
    """The task's items by code, each with whether a newer version exists in the catalogue
    (as :func:`preload_pinned_items` read them for a list the task is in, if it did)."""
    preloaded = task.__dict__.get(_PINNED)
    if preloaded is not None:
        return preloaded
    return _pinned({task.id: [ti.item_version for ti in task.items]})[task.id]


def preload_pinned_items(tasks: list[Task]) -> None:
    """Read the pinned items of every task of a list at once (a constant number of
    statements, whatever the number of tasks), for :func:`pinned_items` to answer without a
    query per task."""
    tasks = [t for t in tasks if _PINNED not in t.__dict__]
    if not tasks:
        return
    # Fills the items (and their versions and catalogue items) of the tasks in the session.
    db.session.scalars(select(Task).where(Task.id.in_([t.id for t in tasks])).options(
        selectinload(Task.items).selectinload(TaskItem.item_version)
        .selectinload(CheckItemVersion.item))).all()
    found = _pinned({t.id: [ti.item_version for ti in t.items] for t in tasks})
    for task in tasks:
        setattr(task, _PINNED, found[task.id])


def _pinned(versions: dict[int, list[CheckItemVersion]]) -> dict[int, list[PinnedItem]]:
    """Task id -> its pinned items by code, from the versions each task pinned: one query for
    the catalogue's current version numbers."""
    item_ids = {v.item_id for vs in versions.values() for v in vs}
    numbers = dict(db.session.execute(
        select(CheckItemVersion.item_id, func.max(CheckItemVersion.number))
        .where(CheckItemVersion.item_id.in_(item_ids))
        .group_by(CheckItemVersion.item_id)).all()) if item_ids else {}
    return {task_id: sorted((PinnedItem(v, numbers.get(v.item_id, v.number)) for v in vs),
                            key=lambda p: p.version.item.code)
            for task_id, vs in versions.items()}


def task_counts(plan_ids) -> dict[int, int]:
    """Plan id -> its number of tasks, for a list of plans: one statement."""
    ids = list(plan_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Task.plan_id, func.count(Task.id))
                                   .where(Task.plan_id.in_(ids))
                                   .group_by(Task.plan_id)).tuples().all())


def has_key_item(task: Task) -> bool:
    return any(ti.item_version.kind == ItemKind.KEY.value for ti in task.items)


def task_filters_query(task: Task) -> Select:
    """A select of the active :class:`Employer` rows the task may draw from, by credit code.

    Undirected: every active employer. Directed: within each filter any listed value matches
    (regions, industry sections, employer types, grades; for flags, any of the listed flags
    set); the filters given must all match. An empty filter does not restrict.
    """
    query = (select(Employer).where(Employer.status == EmployerStatus.ACTIVE.value)
             .order_by(Employer.credit_code))
    if task.task_type != TaskType.DIRECTED.value:
        return query
    filters = task.filters or {}
    for key, column in (("regions", Employer.region_code), ("industries", Employer.industry),
                        ("employer_types", Employer.employer_type),
                        ("grades", Employer.risk_grade)):
        wanted = filters.get(key) or []
        if wanted:
            query = query.where(column.in_(wanted))
    flags = [getattr(Employer, FLAGS[f]) for f in filters.get("flags") or [] if f in FLAGS]
    if flags:
        query = query.where(or_(*[flag.is_(True) for flag in flags]))
    return query


def count_matching(task: Task) -> int:
    """How many employers :func:`task_filters_query` finds now."""
    inner = task_filters_query(task).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(inner)) or 0



def task_values(task: Task) -> dict[str, Any]:
    """A task's content in the shape operations take (for forms and comparisons)."""
    return {"plan_id": task.plan_id, "name": task.name, "description": task.description,
            "lead_department_id": task.lead_department_id,
            "department_ids": [td.department_id for td in task.departments],
            "item_ids": [ti.item_version.item_id for ti in task.items],
            "task_type": task.task_type, "filters": dict(task.filters or {}),
            "method": task.method, "window_start": task.window_start,
            "window_end": task.window_end, "announced": task.announced,
            "inspectors_per_visit": task.inspectors_per_visit,
            "grade_ratios": dict(task.grade_ratios or {})}


def task_years() -> list[int]:
    """Years that have a plan, newest first (for filters)."""
    return list(db.session.scalars(select(AnnualPlan.year).distinct()
                                   .order_by(AnnualPlan.year.desc())))


def departments_of(task: Task) -> list[Department]:
    return [td.department for td in sorted(task.departments, key=lambda td: not td.is_lead)]

