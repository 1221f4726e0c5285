"""Visits from a target draw: one employer, one trip ("进一次门、查多项事").

:func:`place` runs inside the target draw's transaction (after the draw, before the commit).
For each drawn employer, in selection order:

* if the employer already has an **open** visit (planned or assigned) of the same year, made
  for another **open** task (targets or teams drawn), whose date window overlaps this task's
  window, the visit is **merged**: it now serves this task too (a :class:`VisitTask`), gets
  this task's items, and its window shrinks to the intersection of the two;
* otherwise a new visit is created with the next public number of the year
  (``2026-000123``) and the task's window.

Each visit lists every pinned item version once (:class:`VisitItem` is unique per visit and
version): when two tasks pin the same version, it is checked once. The caller serialises
target draws of a year (``target._lock_year``), so numbering and merging see each other.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import exists, func, insert, select

from ..extensions import db
from .models import Visit, VisitItem, VisitStatus, VisitTask

OPEN_VISIT = (VisitStatus.PLANNED.value, VisitStatus.ASSIGNED.value)
CHUNK = 500


def _open_task_statuses() -> tuple[str, ...]:
    from ..planning.models import TaskStatus

    return (TaskStatus.TARGETS_DRAWN.value, TaskStatus.TEAMS_DRAWN.value)


@dataclass
class Placement:
    created: int = 0
    merged: int = 0
    #: employer id -> visit id, for every employer placed.
    visits: dict[int, int] = field(default_factory=dict)


def visit_number(year: int, serial: int) -> str:
    return f"{year}-{serial:06d}"


def _last_serial(year: int) -> int:
    prefix = f"{year}-"
    last = db.session.scalar(select(func.max(Visit.number)).where(
        Visit.number.startswith(prefix), func.length(Visit.number) == len(prefix) + 6))
    return int(last[len(prefix):]) if last else 0


def open_visits_for(employer_ids: list[int], year: int, start, end,
                    exclude_task_id: int) -> dict[int, Visit]:
    """The open visit (lowest id) each employer already has that a task with window
    ``start``-``end`` may join."""
    from ..planning.models import Task

    found: dict[int, Visit] = {}
    other_open_task = exists().where(
        VisitTask.visit_id == Visit.id, VisitTask.task_id == Task.id,
        VisitTask.task_id != exclude_task_id, Task.status.in_(_open_task_statuses()))
    for i in range(0, len(employer_ids), CHUNK):
        chunk = employer_ids[i:i + CHUNK]
        for visit in db.session.scalars(
                select(Visit).where(Visit.employer_id.in_(chunk), Visit.year == year,
                                    Visit.status.in_(OPEN_VISIT), Visit.window_start <= end,
                                    Visit.window_end >= start, other_open_task)
                .order_by(Visit.id)):
            found.setdefault(visit.employer_id, visit)
    return found


def place(task, draw, picks: list[tuple[str, int, int | None]]) -> Placement:
    """Create or merge the visits of a just-executed target draw. ``picks`` are
    ``(pool, rank, employer_id)`` in visit order. Does not commit."""
    year = task.plan.year
    versions = [ti.item_version_id for ti in task.items]
    picks = [p for p in picks if p[2] is not None]
    result = Placement()
    if not picks:
        return result
    existing = open_visits_for([emp for _p, _r, emp in picks], year, task.window_start,
                               task.window_end, task.id)
    have: dict[int, set[int]] = {}
    merged_ids = [v.id for v in existing.values()]
    for i in range(0, len(merged_ids), CHUNK):
        for visit_id, version_id in db.session.execute(
                select(VisitItem.visit_id, VisitItem.item_version_id)
                .where(VisitItem.visit_id.in_(merged_ids[i:i + CHUNK]))):
            have.setdefault(visit_id, set()).add(version_id)

    new_picks = [p for p in picks if p[2] not in existing]
    serial = _last_serial(year)
    new_rows = [{"number": visit_number(year, serial + n), "year": year, "employer_id": emp,
                 "status": VisitStatus.PLANNED.value, "window_start": task.window_start,
                 "window_end": task.window_end}
                for n, (_pool, _rank, emp) in enumerate(new_picks, 1)]
    new_ids: list[int] = []
    if new_rows:
        new_ids = list(db.session.scalars(
            insert(Visit).returning(Visit.id, sort_by_parameter_order=True), new_rows))
    visit_of = {emp: vid for (_p, _r, emp), vid in zip(new_picks, new_ids)}
    for emp, visit in existing.items():
        visit.window_start = max(visit.window_start, task.window_start)
        visit.window_end = min(visit.window_end, task.window_end)
        visit_of[emp] = visit.id
    links, items = [], []
    for pool, rank, emp in picks:
        visit_id = visit_of[emp]
        links.append({"visit_id": visit_id, "task_id": task.id, "draw_id": draw.id,
                      "pool_name": pool, "rank": rank})
        seen = have.setdefault(visit_id, set())
        for version in versions:
            if version not in seen:
                seen.add(version)
                items.append({"visit_id": visit_id, "task_id": task.id,
                               "item_version_id": version})
    if links:
        db.session.execute(insert(VisitTask), links)
    if items:
        db.session.execute(insert(VisitItem), items)
    db.session.flush()
    result.created, result.merged = len(new_rows), len(existing)
    result.visits = visit_of
    return result


def visits_of_task(task_id: int):
    """A task's visits (query, not executed), in draw order."""
    return (select(Visit, VisitTask).join(VisitTask, VisitTask.visit_id == Visit.id)
            .where(VisitTask.task_id == task_id).order_by(VisitTask.pool_name, VisitTask.rank))
