"""What the public portal reads: the catalogue as published, the published annual plans, the
public tasks with their draws, and the index of draws. Nothing here changes anything.

What is public, and from when:

* the catalogue: exactly the item versions a :class:`CataloguePublication` listed, from its
  ``published_on`` day (a publication dated ahead is not public before that day);
* plans: revisions the approver published (``published_on`` set, on or before today), also
  once a later revision superseded them;
* tasks: approved ones (a draft or submitted task is the office's work in progress), also
  once drawn, closed, or cancelled after approval;
* draws: every draw from the moment it is prepared (its commitment is the point of the
  record), with its task.

Nothing about people: no names of inspectors, approvers or office staff, no contact data.

Each list costs a fixed number of statements whatever its length (a count, the page, then
one statement per kind of detail for all rows at once; docs/architecture.md "No query per
row"), and so does each single page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from ..catalogue.models import CataloguePublication, CheckItem, CheckItemVersion
from ..core.models import utcnow
from ..core.timeutil import to_local
from ..directory.models import Region
from ..draws.models import Draw, DrawStatus
from ..extensions import db
from ..planning.models import AnnualPlan, PlanStatus, Task, TaskDepartment, TaskItem, TaskStatus

#: Rows per page of the pages and their JSON twins (the same page number means the same rows).
PER_PAGE = 20
#: The highest page number a query may ask for (beyond: 422, like the results page).
MAX_PAGE = 100_000
#: Task states the public sees: from approval on; a cancelled task only when it had been
#: approved (one cancelled as a draft never was public).
PUBLIC_TASK_STATES = (TaskStatus.APPROVED.value, TaskStatus.TARGETS_DRAWN.value,
                      TaskStatus.TEAMS_DRAWN.value, TaskStatus.CLOSED.value)
#: Plan states that may have been published (a superseded revision keeps its publication).
PUBLIC_PLAN_STATES = (PlanStatus.PUBLISHED.value, PlanStatus.SUPERSEDED.value)


def today() -> date:
    """Today in Asia/Shanghai: publication days are local dates."""
    return to_local(utcnow()).date()


@dataclass
class Page:
    """One page of a list: ``rows``, the page number, the number of pages and of rows."""

    rows: list
    page: int
    pages: int
    total: int
    per_page: int = PER_PAGE
    extra: dict = field(default_factory=dict)


def _paged(query: Select, page: int, per_page: int = PER_PAGE) -> tuple[list, int, int]:
    """(rows of ``page``, total, pages): two statements."""
    total = db.session.scalar(select(func.count()).select_from(
        query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    rows = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return rows, total, pages


# =========================================================================== catalogue
def publications() -> list[CataloguePublication]:
    """The publications in force or past (dated today or before), newest first: one
    statement."""
    return list(db.session.scalars(
        select(CataloguePublication).where(CataloguePublication.published_on <= today())
        .order_by(CataloguePublication.published_on.desc(), CataloguePublication.id.desc())))


def _version_query(ids: Iterable[int]) -> Select:
    return (select(CheckItemVersion).join(CheckItem, CheckItem.id == CheckItemVersion.item_id)
            .where(CheckItemVersion.id.in_(list(ids)))
            .options(selectinload(CheckItemVersion.item),
                     selectinload(CheckItemVersion.department))
            .order_by(CheckItem.code))


def catalogue(page: int, publication_id: int | None = None) -> Page | None:
    """One page of the list as a publication made it public (the one in force unless
    ``publication_id`` names an earlier one), with every publication for the choice of a
    past list: ``extra = {"publication", "publications", "current"}``. None when nothing was
    published, or ``publication_id`` names no public publication."""
    found = publications()
    if not found:
        return None
    chosen = found[0] if publication_id is None else next(
        (p for p in found if p.id == publication_id), None)
    if chosen is None:
        return None
    rows, total, pages = _paged(_version_query(chosen.version_ids or []), page)
    return Page(rows, page, pages, total, extra={
        "publication": chosen, "publications": found, "current": found[0]})


def catalogue_item(key: str) -> dict[str, Any] | None:
    """An item of the catalogue by code (or id) with every version a publication made
    public, newest first, each with the days it was published and its checklist; None when
    no publication ever listed it. Four statements."""
    key = (key or "").strip()
    condition = CheckItem.code == key
    if key.isdigit() and len(key) < 10:
        condition = or_(condition, CheckItem.id == int(key))
    item = db.session.scalar(select(CheckItem).where(condition).limit(1))
    if item is None:
        return None
    found = publications()
    published_in: dict[int, list[date]] = {}
    for pub in found:
        for version_id in pub.version_ids or []:
            published_in.setdefault(version_id, []).append(pub.published_on)
    versions = list(db.session.scalars(
        select(CheckItemVersion).where(CheckItemVersion.item_id == item.id,
                                       CheckItemVersion.id.in_(list(published_in)))
        .options(selectinload(CheckItemVersion.questions),
                 selectinload(CheckItemVersion.department))
        .order_by(CheckItemVersion.number.desc())))
    if not versions:
        return None
    current_ids = set(found[0].version_ids or []) if found else set()
    return {"item": item, "code": item.code, "versions": [
        {"version": v, "published_on": sorted(published_in[v.id]),
         "current": v.id in current_ids} for v in versions],
        "on_current_list": any(v.id in current_ids for v in versions),
        "current_publication": found[0] if found else None}


# =========================================================================== plans
def _public_plans() -> Select:
    return (select(AnnualPlan)
            .where(AnnualPlan.status.in_(PUBLIC_PLAN_STATES),
                   AnnualPlan.published_on.is_not(None), AnnualPlan.published_on <= today())
            .order_by(AnnualPlan.year.desc(), AnnualPlan.revision.desc()))


def plans(page: int) -> Page:
    rows, total, pages = _paged(_public_plans(), page)
    return Page(rows, page, pages, total)


def plan(plan_id: int) -> AnnualPlan | None:
    return db.session.scalar(_public_plans().where(AnnualPlan.id == plan_id))


def plan_of_year(year: int) -> AnnualPlan | None:
    """The newest published revision of ``year``'s plan."""
    return db.session.scalar(_public_plans().where(
        AnnualPlan.year == year, AnnualPlan.status == PlanStatus.PUBLISHED.value).limit(1))


# =========================================================================== tasks
def _is_public_task():
    return or_(Task.status.in_(PUBLIC_TASK_STATES),
               and_(Task.status == TaskStatus.CANCELLED.value, Task.approved_at.is_not(None)))


def _public_tasks() -> Select:
    return (select(Task).join(AnnualPlan, AnnualPlan.id == Task.plan_id)
            .where(_is_public_task())
            .options(selectinload(Task.plan), selectinload(Task.lead_department),
                     selectinload(Task.departments).selectinload(TaskDepartment.department)))


def task_state(task: Task, on: date) -> str:
    """``open``, ``finished`` or ``cancelled``, as the public lists group tasks."""
    if task.status == TaskStatus.CANCELLED.value:
        return "cancelled"
    if task.status == TaskStatus.CLOSED.value or task.window_end < on:
        return "finished"
    return "open"


def _state_filter(query: Select, state: str | None, on: date) -> Select:
    if state == "open":
        return query.where(Task.status.not_in((TaskStatus.CLOSED.value,
                                               TaskStatus.CANCELLED.value)),
                           Task.window_end >= on)
    if state == "finished":
        return query.where(or_(Task.status == TaskStatus.CLOSED.value,
                               and_(Task.status != TaskStatus.CANCELLED.value,
                                    Task.window_end < on)))
    if state == "cancelled":
        return query.where(Task.status == TaskStatus.CANCELLED.value)
    return query


def tasks(page: int, state: str | None = None, year: int | None = None,
          per_page: int = PER_PAGE) -> Page:
    """Public tasks, the latest window first, each with its draws (``extra["draws"]``: task
    id -> draws)."""
    on = today()
    query = _state_filter(_public_tasks(), state, on)
    if year:
        query = query.where(AnnualPlan.year == year)
    query = query.order_by(Task.window_start.desc(), Task.id.desc())
    rows, total, pages = _paged(query, page, per_page)
    return Page(rows, page, pages, total, per_page,
                extra={"draws": draws_of([t.id for t in rows]),
                       "states": {t.id: task_state(t, on) for t in rows}})


def task_years() -> list[int]:
    """Years that have public tasks, newest first."""
    return list(db.session.scalars(
        select(AnnualPlan.year).join(Task, Task.plan_id == AnnualPlan.id)
        .where(_is_public_task()).distinct().order_by(AnnualPlan.year.desc())))


def task(task_id: int) -> dict[str, Any] | None:
    """A public task with its items (the versions it pinned), its departments (the lead
    first), its draws and the labels of a directed task's filters. A fixed number of
    statements."""
    found = db.session.scalar(_public_tasks().where(Task.id == task_id).options(
        selectinload(Task.items).selectinload(TaskItem.item_version)
        .selectinload(CheckItemVersion.item)))
    if found is None:
        return None
    items = sorted((ti.item_version for ti in found.items), key=lambda v: v.item.code)
    departments = [td.department for td in sorted(found.departments,
                                                  key=lambda td: (not td.is_lead, td.id))]
    return {"task": found, "items": items, "departments": departments,
            "draws": draws_of([found.id])[found.id], "state": task_state(found, today()),
            "regions": _region_names((found.filters or {}).get("regions") or [])}


def _region_names(codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(db.session.execute(select(Region.code, Region.name)
                                   .where(Region.code.in_(codes))).tuples().all())


# =========================================================================== draws
def draws_of(task_ids: list[int]) -> dict[int, list[Draw]]:
    """Task id -> its draws, oldest first: one statement (and one for the departments)."""
    found: dict[int, list[Draw]] = {i: [] for i in task_ids}
    if not task_ids:
        return found
    for draw in db.session.scalars(select(Draw).where(Draw.task_id.in_(task_ids))
                                   .options(selectinload(Draw.department))
                                   .order_by(Draw.prepared_at, Draw.id)):
        found[draw.task_id].append(draw)
    return found


def draws(page: int, kind: str | None = None, status: str | None = None,
          task_id: int | None = None, year: int | None = None,
          per_page: int = PER_PAGE) -> Page:
    """Every draw from its preparation, newest first, with its task's name
    (``extra["tasks"]``: task id -> task)."""
    query = select(Draw).options(selectinload(Draw.department))
    if kind:
        query = query.where(Draw.kind == kind)
    if status:
        query = query.where(Draw.status == status)
    if task_id:
        query = query.where(Draw.task_id == task_id)
    if year:
        query = query.where(Draw.public_id.startswith(f"DRAW-{year}-"))
    query = query.order_by(Draw.prepared_at.desc(), Draw.id.desc())
    rows, total, pages = _paged(query, page, per_page)
    ids = {d.task_id for d in rows}
    names = {t.id: t for t in db.session.scalars(
        select(Task).where(Task.id.in_(ids)))} if ids else {}
    return Page(rows, page, pages, total, per_page, extra={"tasks": names})


def draw_counts() -> dict[str, int]:
    """Draws by status: one statement."""
    counts = {s.value: 0 for s in DrawStatus}
    counts.update(dict(db.session.execute(select(Draw.status, func.count(Draw.id))
                                          .group_by(Draw.status)).tuples().all()))
    return counts

