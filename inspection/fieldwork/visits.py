"""Visits from a target draw: one employer, one trip ("进一次门、查多项事").

:func:`place` runs inside the target draw's transaction (after the draw, before the commit).
For each drawn employer, in selection order:

* if the employer already has an **open** visit (planned or assigned) of the same year, made
  for another **open** task (targets or teams drawn), whose date window overlaps this task's
  window, the visit is **merged**: it now serves this task too (a :class:`VisitTask`), and so
  checks this task's items too, and its window shrinks to the intersection of the two;
* otherwise a new visit is created with the next public number of the year
  (``2026-000123``) and the task's window.

A visit checks the item versions its tasks pinned (:func:`item_versions`): derived from its
:class:`VisitTask` links, never copied per visit (the tasks' items are fixed once a task is
approved). When two tasks pin the same version, it is checked once. The caller serialises
target draws of a year (``target._lock_year``), so numbering and merging see each other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import bindparam, case, exists, func, select, update
from sqlalchemy.orm import aliased, selectinload

from ..core.bulk import bulk_insert
from ..core.models import utcnow
from ..extensions import db
from .models import Visit, VisitStatus, VisitTask

OPEN_VISIT = (VisitStatus.PLANNED.value, VisitStatus.ASSIGNED.value)
CHUNK = 500
#: Above this many employers, the joinable visits of the year are read in one pass.
SCAN_ABOVE = 4 * CHUNK


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


def _open_visit_ids(employer_ids: list[int], year: int, start, end,
                    exclude_task_id: int) -> dict[int, int]:
    """Employer id -> the lowest id of its open visit (planned or assigned, of the year, of
    another open task) that a task with window ``start``-``end`` may join."""
    from ..planning.models import Task

    found: dict[int, int] = {}
    if not employer_ids:
        return found
    other_open_task = exists().where(
        VisitTask.visit_id == Visit.id, VisitTask.task_id == Task.id,
        VisitTask.task_id != exclude_task_id, Task.status.in_(_open_task_statuses()))
    query = select(Visit.employer_id, Visit.id).where(
        Visit.year == year, Visit.status.in_(OPEN_VISIT), Visit.window_start <= end,
        Visit.window_end >= start, other_open_task).order_by(Visit.id)
    conn = db.session.connection()
    if len(employer_ids) > SCAN_ABOVE:
        # Many employers (a large draw): one pass over the year's joinable visits is cheaper
        # than hundreds of IN lists.
        wanted = set(employer_ids)
        for employer_id, visit_id in conn.execute(query).all():     # (fetchall: one call)
            if employer_id in wanted:
                found.setdefault(employer_id, visit_id)
        return found
    for i in range(0, len(employer_ids), CHUNK):
        for employer_id, visit_id in conn.execute(
                query.where(Visit.employer_id.in_(employer_ids[i:i + CHUNK]))):
            found.setdefault(employer_id, visit_id)
    return found


def _narrow_windows(visit_ids: list[int], start, end) -> None:
    """Narrow the windows of the visits ``visit_ids`` to their overlap with ``start``-``end``:
    a few set-wise UPDATEs (one per :data:`CHUNK` visits), not one per visit. Copies of
    those visits already in the session are expired, so that they read the new windows."""
    narrowed = {
        "window_start": case((Visit.window_start < start, start), else_=Visit.window_start),
        "window_end": case((Visit.window_end > end, end), else_=Visit.window_end)}
    for i in range(0, len(visit_ids), CHUNK):
        db.session.execute(update(Visit).where(Visit.id.in_(visit_ids[i:i + CHUNK]))
                           .values(**narrowed).execution_options(synchronize_session=False))
    wanted = set(visit_ids)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Visit) and obj.id in wanted:
            db.session.expire(obj)


def _insert_visits(employer_ids: list[int], year: int, start, end) -> list[int]:
    """Insert one new planned visit per employer, numbered in one block after the year's
    last number, and return their ids in the same order. The ids are read back by number
    (unique): in one range query when the numbers all have one length (text order is then
    number order), else by lists of numbers."""
    if not employer_ids:
        return []
    serial = _last_serial(year)
    numbers = [visit_number(year, serial + n) for n in range(1, len(employer_ids) + 1)]
    bulk_insert(Visit.__table__, ("number", "employer_id"), zip(numbers, employer_ids),
                {"year": year, "status": VisitStatus.PLANNED.value, "window_start": start,
                 "window_end": end, "created_at": utcnow()})
    conn = db.session.connection()
    ids: dict[str, int] = {}
    if len({len(n) for n in numbers}) == 1:
        ids.update(conn.execute(select(Visit.number, Visit.id).where(
            Visit.number >= numbers[0], Visit.number <= numbers[-1],
            func.length(Visit.number) == len(numbers[0]))).tuples().all())
    missing = [n for n in numbers if n not in ids]
    for i in range(0, len(missing), CHUNK):
        ids.update(conn.execute(select(Visit.number, Visit.id).where(
            Visit.number.in_(missing[i:i + CHUNK]))).tuples().all())
    return [ids[n] for n in numbers]


def place(task, draw, picks: list[tuple[str, int, int | None]]) -> Placement:
    """Create or merge the visits of a just-executed target draw. ``picks`` are
    ``(pool, rank, employer_id)`` in visit order. Does not commit.

    Built for tens of thousands of picks: the joinable visits are found in one pass; the new
    visits (numbered as one block) and their task links are each one bulk insert. The visits'
    items follow from the links (:func:`item_versions`)."""
    year = task.plan.year
    picks = [p for p in picks if p[2] is not None]
    result = Placement()
    if not picks:
        return result
    existing = _open_visit_ids([emp for _p, _r, emp in picks], year, task.window_start,
                               task.window_end, task.id)
    new_employers = [emp for _p, _r, emp in picks if emp not in existing]
    new_ids = _insert_visits(new_employers, year, task.window_start, task.window_end)
    _narrow_windows(sorted(set(existing.values())), task.window_start, task.window_end)
    visit_of = dict(zip(new_employers, new_ids))
    visit_of.update(existing)
    links = [(visit_of[emp], pool, rank) for pool, rank, emp in picks]
    bulk_insert(VisitTask.__table__, ("visit_id", "pool_name", "rank"), links,
                {"task_id": task.id, "draw_id": draw.id})
    db.session.flush()
    result.created, result.merged = len(new_ids), len(existing)
    result.visits = visit_of
    return result


def _chain_links(wanted):
    """The statement of :func:`task_links` for the visits ``wanted`` (a condition on
    ``Visit.id``)."""
    up = aliased(Visit)
    chain = select(Visit.id.label("visit_id"), Visit.id.label("link_id"),
                   Visit.follows_id.label("up")).where(wanted) \
        .cte("visit_chain", recursive=True)
    chain = chain.union_all(select(chain.c.visit_id, up.id, up.follows_id)
                            .join(up, up.id == chain.c.up))
    return select(chain.c.visit_id, chain.c.link_id).where(chain.c.up.is_(None)).subquery()


def task_links(ids: list[int]):
    """(visit_id, link_id) for each visit of ``ids``: the visit whose :class:`VisitTask`
    links it serves, itself for a drawn visit, the first visit of its chain for a
    rectification follow-up (``follows_id``, which has no links of its own: it was not drawn,
    docs/followup.md). A recursive query, so one statement whatever the chain's length."""
    return _chain_links(Visit.id.in_(ids))


#: :func:`task_links` for the visit ids bound as ``visit_ids`` (a list), built once: the
#: statements below are built once too, and only their parameters change per request.
_LINKS = _chain_links(Visit.id.in_(bindparam("visit_ids", expanding=True)))


@cache
def _versions_statement():
    """(visit id, item version id) in :func:`item_versions`'s order, for ``visit_ids``."""
    from ..planning.models import TaskItem

    task_item, visit_task = TaskItem.__table__, VisitTask.__table__
    return (select(_LINKS.c.visit_id, task_item.c.item_version_id)
            .join(visit_task, visit_task.c.task_id == task_item.c.task_id)
            .join(_LINKS, _LINKS.c.link_id == visit_task.c.visit_id)
            .order_by(visit_task.c.id, task_item.c.id))


@cache
def _checked_statement(questions: bool):
    """(visit id, item version, item code) in :func:`item_versions`'s order (a version
    again for each task that pinned it), for the visits bound as ``visit_ids``."""
    from ..catalogue.models import CheckItem, CheckItemVersion
    from ..planning.models import TaskItem

    task_item, visit_task = TaskItem.__table__, VisitTask.__table__
    query = (select(_LINKS.c.visit_id, CheckItemVersion, CheckItem.code)
             .select_from(task_item)
             .join(CheckItemVersion, CheckItemVersion.id == task_item.c.item_version_id)
             .join(CheckItem, CheckItem.id == CheckItemVersion.item_id)
             .join(visit_task, visit_task.c.task_id == task_item.c.task_id)
             .join(_LINKS, _LINKS.c.link_id == visit_task.c.visit_id)
             .order_by(visit_task.c.id, task_item.c.id))
    if questions:
        query = query.options(selectinload(CheckItemVersion.questions))
    return query


@cache
def _tasks_statement():
    """(visit id, task) of the visits bound as ``visit_ids``, by task id."""
    from ..planning.models import Task

    return (select(_LINKS.c.visit_id, Task).join(VisitTask, VisitTask.task_id == Task.id)
            .join(_LINKS, _LINKS.c.link_id == VisitTask.visit_id)
            .order_by(Task.id))


def link_visit_id(visit: Visit) -> int:
    """The id of the visit whose task links ``visit`` serves (:func:`task_links`): no
    statement for a drawn visit."""
    if visit.follows_id is None:
        return visit.id
    return db.session.scalar(select(_LINKS.c.link_id),
                             {"visit_ids": [visit.id]}) or visit.id


def item_versions(visit_id: int) -> list[int]:
    """The item versions a visit checks, each once, in the order of its tasks (the order they
    joined the visit), then of each task's items: the versions its tasks pinned."""
    return item_versions_of([visit_id])[visit_id]


def item_versions_of(visit_ids) -> dict[int, list[int]]:
    """:func:`item_versions` of several visits: visit id -> its versions, in one query (a
    follow-up checks the versions of the visit it follows, :func:`task_links`)."""
    ids = list(dict.fromkeys(visit_ids))
    found: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for visit_id, version_id in db.session.execute(_versions_statement(),
                                                       {"visit_ids": ids}):
            found[visit_id].append(version_id)
    return {i: list(dict.fromkeys(rows)) for i, rows in found.items()}


@cache
def _names_statement():
    """(visit id, item version id, its name) in :func:`item_versions`'s order."""
    from ..catalogue.models import CheckItemVersion
    from ..planning.models import TaskItem

    task_item, visit_task = TaskItem.__table__, VisitTask.__table__
    version = CheckItemVersion.__table__
    return (select(_LINKS.c.visit_id, version.c.id, version.c.name)
            .select_from(task_item)
            .join(version, version.c.id == task_item.c.item_version_id)
            .join(visit_task, visit_task.c.task_id == task_item.c.task_id)
            .join(_LINKS, _LINKS.c.link_id == visit_task.c.visit_id)
            .order_by(visit_task.c.id, task_item.c.id))


def version_names_of(visit_ids) -> dict[int, list[str]]:
    """Visit id -> the names of the item versions it checks (:func:`item_versions`'s order,
    each version once): one statement, plain rows (the visit list shows only the names)."""
    ids = list(dict.fromkeys(visit_ids))
    found: dict[int, dict[int, str]] = {i: {} for i in ids}
    if ids:
        for visit_id, version_id, name in db.session.execute(_names_statement(),
                                                             {"visit_ids": ids}):
            found[visit_id].setdefault(version_id, name)
    return {i: list(names.values()) for i, names in found.items()}


def checked_versions(visit_id: int) -> list[tuple]:
    """(item version, item code) of each version the visit checks, in :func:`item_versions`'s
    order: one query."""
    return checked_versions_of([visit_id])[visit_id]


def checked_versions_of(visit_ids, *, questions: bool = False) -> dict[int, list[tuple]]:
    """:func:`checked_versions` of several visits (visit id -> its versions): one query
    whatever their number, two with ``questions`` (the versions' questions read along)."""
    ids = list(dict.fromkeys(visit_ids))
    found: dict[int, dict[int, tuple]] = {i: {} for i in ids}
    if ids:
        for visit_id, version, code in db.session.execute(
                _checked_statement(questions), {"visit_ids": ids}).tuples():
            found[visit_id].setdefault(version.id, (version, code))
    return {i: list(versions.values()) for i, versions in found.items()}


@dataclass(frozen=True, slots=True)
class QuestionRow:
    """A checklist question as the visit packs read it: plain values, no ORM object."""
    code: str
    text: str
    legal_basis: str
    evidence_hint: str


@dataclass(slots=True)
class VersionRow:
    """An item version as the visit packs read it (the attributes of
    :class:`~inspection.catalogue.models.CheckItemVersion` they use), with its questions in
    their order."""
    id: int
    name: str
    legal_basis: str
    content: str
    department_id: int
    questions: list[QuestionRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TaskRow:
    """A task as the visit packs read it (the attributes of
    :class:`~inspection.planning.models.Task` they use)."""
    id: int
    name: str
    announced: bool


@cache
def _rows_statements():
    """For the visits bound as ``visit_ids``: (visit id, visit-task link id, task columns,
    version columns, item code) in :func:`item_versions`'s order, a row per task without
    items too; and the questions of the versions bound as ``version_ids``, in their order."""
    from ..catalogue.models import CheckItem, CheckItemVersion, CheckQuestion
    from ..planning.models import Task, TaskItem

    task, task_item, visit_task = Task.__table__, TaskItem.__table__, VisitTask.__table__
    version, item, question = (CheckItemVersion.__table__, CheckItem.__table__,
                               CheckQuestion.__table__)
    rows = (select(_LINKS.c.visit_id, visit_task.c.id, task.c.id, task.c.name,
                   task.c.announced, version.c.id, version.c.name, version.c.legal_basis,
                   version.c.content, version.c.department_id, item.c.code)
            .select_from(_LINKS)
            .join(visit_task, visit_task.c.visit_id == _LINKS.c.link_id)
            .join(task, task.c.id == visit_task.c.task_id)
            .outerjoin(task_item, task_item.c.task_id == task.c.id)
            .outerjoin(version, version.c.id == task_item.c.item_version_id)
            .outerjoin(item, item.c.id == version.c.item_id)
            .order_by(visit_task.c.id, task_item.c.id))
    questions = (select(question.c.version_id, question.c.code, question.c.text,
                        question.c.legal_basis, question.c.evidence_hint)
                 .where(question.c.version_id.in_(bindparam("version_ids", expanding=True)))
                 .order_by(question.c.position))
    return rows, questions


def pack_rows_of(visit_ids) -> tuple[dict[int, list[tuple[VersionRow, str]]],
                                     dict[int, list[TaskRow]]]:
    """For the visit packs, as plain rows: (:func:`checked_versions_of` with ``questions``,
    :func:`tasks_of`), the versions one :class:`VersionRow` each, shared by the visits that
    check them. Two queries whatever the number of visits."""
    ids = list(dict.fromkeys(visit_ids))
    versions: dict[int, dict[int, tuple[VersionRow, str]]] = {i: {} for i in ids}
    links: dict[int, dict[int, TaskRow]] = {i: {} for i in ids}
    if not ids:
        return {}, {}
    rows_query, questions_query = _rows_statements()
    rows: dict[int, VersionRow] = {}
    for (visit_id, link_id, task_id, task_name, announced, version_id, name, legal_basis,
         content, department_id, code) in db.session.execute(rows_query, {"visit_ids": ids}):
        if link_id not in links[visit_id]:
            links[visit_id][link_id] = TaskRow(task_id, task_name, announced)
        if version_id is None:
            continue
        row = rows.get(version_id)
        if row is None:
            row = rows[version_id] = VersionRow(version_id, name, legal_basis, content,
                                                department_id)
        versions[visit_id].setdefault(version_id, (row, code))
    if rows:
        for version_id, *values in db.session.execute(questions_query,
                                                      {"version_ids": sorted(rows)}):
            rows[version_id].questions.append(QuestionRow(*values))
    # tasks_of's order: by task id.
    tasks = {i: sorted(found.values(), key=lambda t: t.id) for i, found in links.items()}
    return {i: list(found.values()) for i, found in versions.items()}, tasks


def tasks_of(visit_ids) -> dict:
    """Visit id -> the tasks it serves, by task id: one query for a list of visits (a
    follow-up serves the tasks of the visit it follows)."""
    ids = list(dict.fromkeys(visit_ids))
    found: dict[int, list] = {i: [] for i in ids}
    if ids:
        for visit_id, task in db.session.execute(_tasks_statement(),
                                                 {"visit_ids": ids}).tuples():
            found[visit_id].append(task)
    return found


def visits_of_task(task_id: int):
    """A task's visits (query, not executed), in draw order."""
    return (select(Visit, VisitTask).join(VisitTask, VisitTask.visit_id == Visit.id)
            .where(VisitTask.task_id == task_id).order_by(VisitTask.pool_name, VisitTask.rank))
