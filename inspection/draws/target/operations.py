"""The target draw (随机抽取检查对象): which employers a task visits.

Eligible: the active employers matching the task's filters (planning's
:func:`~inspection.planning.operations.task_filters_query`, the one filter implementation),
minus those that already reached the plan's yearly cap of random checks (seed 001 第十一条),
one pool per grade A/B/C/D. Each pool is a canonical pool file (sorted credit codes); the
number drawn from a pool is ``ceil(ratio x size)``, at least one when the pool is not empty and
the ratio is above zero. A task with a key item at 100 % draws everyone: the draw then only
fixes the order of the visits.

Two steps (docs/draws.md): :func:`prepare_target_draw` freezes the pools and publishes the
commitment; :func:`execute_target_draw` takes the sources' values and the revealed secrets,
draws once, and creates (or merges) the visits in the same transaction.

The yearly cap counts the employer's :class:`~inspection.fieldwork.models.VisitTask` rows of
executed target draws of the plan's year. So that the cap can never be exceeded, a year has at
most one target draw prepared and not yet executed at a time: the next one is prepared after
it (its pools then count its result).

The pure part (:func:`draw_count`, :func:`build_pools`, :func:`parse_ratio`) takes no database
and is what the property tests exercise. The sources and secrets are checked by
:mod:`..entropy`, as for a team draw; reading a million credit codes goes through the
database's fast paths in :mod:`inspection.core.bulk`.
"""
from __future__ import annotations

import gc
import math
from bisect import bisect_left
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import islice, repeat
from operator import eq, lt
from typing import Any, Iterable, Mapping

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ...core import audit, bulk, ratios
from ...core.errors import Conflict, NotFound
from ...core.models import User
from ...core.timeutil import to_local
from ...extensions import db
from .. import commitments, entropy
from ..models import Draw, DrawKind, DrawStatus

GRADES = ("A", "B", "C", "D")
KIND = DrawKind.TARGET.value


# =========================================================================== the pure part
def parse_ratio(value: Any) -> Decimal:
    """A task's ratio ("0.03", Decimal, int) as a Decimal in [0, 1]; bad values are 0 only if
    empty, otherwise an error (the task was validated when it was approved). The parsing is
    :func:`inspection.core.ratios.parse_ratio`'s."""
    if value is None or value == "":
        return Decimal(0)
    return ratios.parse_ratio(value, low=Decimal(0), high=Decimal(1))


def draw_count(ratio: Decimal, size: int) -> int:
    """``ceil(ratio x size)``, at least one when the pool is not empty and the ratio > 0."""
    if size <= 0 or ratio <= 0:
        return 0
    return min(size, max(1, math.ceil(ratio * size)))


@dataclass
class Pool:
    grade: str
    ratio: Decimal
    ids: list[str]
    count: int
    #: ``ids`` was found strictly increasing (in order, no repeat) when the pool was made.
    increasing: bool = False

    @property
    def size(self) -> int:
        return len(self.ids)


@dataclass
class Pools:
    pools: list[Pool]
    excluded_by_cap: int = 0
    excluded_codes: list[str] = field(default_factory=list)

    def spec(self) -> list[commitments.PoolSpec]:
        return [commitments.PoolSpec(p.grade, p.ids, p.count, p.increasing)
                for p in self.pools]


def build_pools(rows: Iterable[tuple[str, str]], checks: Mapping[str, int], cap: int,
                ratios: Mapping[str, Any]) -> Pools:
    """Split ``(credit_code, grade)`` rows into one pool per grade, leaving out every employer
    whose checks this year (``checks``) already reached ``cap``. Pools are sorted by code
    (the canonical order); unknown grades are ignored."""
    ids: dict[str, list[str]] = {g: [] for g in GRADES}
    for code, grade in rows:
        if grade in ids:
            ids[grade].append(code)
    return pools_by_grade(ids, checks, cap, ratios)


def pools_by_grade(ids: Mapping[str, list[str]], checks: Mapping[str, int], cap: int,
                   ratios: Mapping[str, Any]) -> Pools:
    """:func:`build_pools` from the credit codes already split by grade (each list distinct;
    the lists are taken over and sorted in place).

    Made for a million codes: a list read in code order is found in order by one pass (and
    sorted only if it is not), the few employers at the cap are found by bisection and cut
    out with slices, so no per-code Python step is taken besides those comparisons. Each
    pool says whether its codes were found strictly increasing (no repeat either), which
    spares the pool file a second pass (:func:`commitments.pool_file`)."""
    capped = sorted(code for code, n in checks.items() if n >= cap)
    pools, excluded = [], []
    for grade in GRADES:
        members = ids.get(grade) or []
        increasing = _increasing(members)
        if not increasing:
            members.sort()
            increasing = not any(map(eq, members, islice(members, 1, None)))
        if cap <= 0:                            # no check allowed at all: nobody is eligible
            excluded.extend(members)
            members = []
        elif capped and members:
            size = len(members)
            hits = [i for i, code in zip(map(bisect_left, repeat(members), capped), capped)
                    if i < size and members[i] == code]
            if hits:
                excluded.extend(members[i] for i in hits)
                kept: list[str] = []
                for start, stop in zip([-1, *hits], [*hits, size]):
                    kept += members[start + 1:stop]
                members = kept
        ratio = parse_ratio(ratios.get(grade))
        pools.append(Pool(grade, ratio, members, draw_count(ratio, len(members)), increasing))
    return Pools(pools, len(excluded), sorted(excluded))


def _increasing(values: list) -> bool:
    """Whether ``values`` is strictly increasing (in order, no repeat)."""
    return all(map(lt, values, islice(values, 1, None)))


# =========================================================================== the database part
def _task(task_or_id):
    from ...planning import operations as planning

    if isinstance(task_or_id, int):
        return planning.get_task(task_or_id)
    return task_or_id


def employers_by_code(codes: list[str]) -> dict[str, int]:
    """Employer id by credit code, for the codes that exist: one query whatever the number of
    codes (:func:`~inspection.core.bulk.rows_where_in`), the codes sorted so that the unique
    index is walked in order."""
    from ...directory.models import Employer

    return dict(bulk.rows_where_in(Employer.credit_code, sorted(set(codes)), Employer.id))


def checks_this_year(year: int, at_least: int = 1) -> dict[str, int]:
    """Random checks per employer (credit code) in ``year``: its VisitTask rows of executed
    target draws; only the employers with ``at_least`` checks.

    Counted by employer id first, then the codes of those employers looked up by id (one
    statement, :func:`~inspection.core.bulk.rows_where_in`): joining the whole directory for
    its codes would make the database read a million rows."""
    from ...directory.models import Employer
    from ...fieldwork.models import Visit, VisitTask

    checks = func.count(VisitTask.id)
    conn = db.session.connection()
    counts = dict(conn.execute(
        select(Visit.employer_id, checks)
        .join(VisitTask, VisitTask.visit_id == Visit.id)
        .join(Draw, Draw.id == VisitTask.draw_id)
        .where(Visit.year == year, Draw.kind == KIND,
               Draw.status == DrawStatus.EXECUTED.value)
        .group_by(Visit.employer_id).having(checks >= at_least)).tuples().all())
    return {code: counts[employer_id] for employer_id, code
            in bulk.rows_where_in(Employer.id, sorted(counts), Employer.credit_code)}


@contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector for a draw's bulk work. A million rows come off
    the cursor as tuples, and tens of thousands of rows go back as dicts: each batch would set
    off collections that walk every object of the process, for nothing (these hold no
    cycles). Worth about a third of the reading time. Whoever paused it first resumes it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def eligible_pools(task) -> Pools:
    """The task's pools as they would be frozen now.

    One query per grade (the index on status, grade and credit code serves each in code
    order), its codes read as one text (:func:`~inspection.core.bulk.text_column`); the
    employers at the cap are then cut out."""
    from ...directory.models import Employer
    from ...planning.operations import task_filters_query

    query = task_filters_query(task).with_only_columns(Employer.credit_code)
    with collector_paused():
        ids = {grade: bulk.text_column(query.where(Employer.risk_grade == grade))
               for grade in GRADES}
        cap = task.plan.yearly_cap
        return pools_by_grade(ids, checks_this_year(task.plan.year, at_least=cap), cap,
                              task.grade_ratios or {})


@dataclass
class Preview:
    task: Any
    pools: Pools
    confirmation: Any
    confirmed_current: bool
    blocking: list[str]

    @property
    def total_size(self) -> int:
        return sum(p.size for p in self.pools.pools)

    @property
    def total_count(self) -> int:
        return sum(p.count for p in self.pools.pools)

    @property
    def everyone(self) -> bool:
        """Every non-empty pool is drawn in full: the draw fixes the order of visits."""
        return any(p.size for p in self.pools.pools) and all(
            p.count == p.size for p in self.pools.pools if p.size)


def target_draw_of(task_id: int) -> Draw | None:
    """The task's target draw that is not cancelled, if any."""
    return db.session.scalar(select(Draw).where(
        Draw.task_id == task_id, Draw.kind == KIND,
        Draw.status != DrawStatus.CANCELLED.value).order_by(Draw.id.desc()).limit(1))


def _pending_in_year(year: int, task_id: int) -> Draw | None:
    from ...planning.models import AnnualPlan, Task

    return db.session.scalar(
        select(Draw).join(Task, Task.id == Draw.task_id).join(AnnualPlan,
                                                              AnnualPlan.id == Task.plan_id)
        .where(Draw.kind == KIND, Draw.status == DrawStatus.PREPARED.value,
               AnnualPlan.year == year, Draw.task_id != task_id).limit(1))


def _blocking(task) -> list[str]:
    """Why a target draw cannot be prepared for ``task`` now (empty: it can)."""
    from ...directory.employers import operations as employers
    from ...planning.models import TaskStatus

    reasons = []
    if task.status != TaskStatus.APPROVED.value:
        reasons.append(_("Only an approved task can have its targets drawn (this task is "
                         "%(status)s).", status=task.status))
    existing = target_draw_of(task.id)
    if existing is not None:
        reasons.append(_("This task already has a target draw: %(id)s.", id=existing.public_id))
    pending = _pending_in_year(task.plan.year, task.id)
    if pending is not None:
        reasons.append(_("Another target draw of %(year)d (%(id)s) is prepared and not yet "
                         "executed: execute or cancel it first, so that the yearly cap counts "
                         "its result.", year=task.plan.year, id=pending.public_id))
    if not employers.is_confirmed_current():
        reasons.append(_("The employer directory must be confirmed current before a draw: "
                         "the office confirms it on the employers page first."))
    return reasons


def preview(task) -> Preview:
    """Pool sizes, counts per grade and the number left out by the cap, before preparing."""
    from ...directory.employers import operations as employers

    task = _task(task)
    return Preview(task=task, pools=eligible_pools(task),
                   confirmation=employers.latest_confirmation(),
                   confirmed_current=employers.is_confirmed_current(),
                   blocking=_blocking(task))


def _lock_year(year: int) -> None:
    """Serialise target draws of a year (prepare and execute): cap counts and visit merges
    must see each other's results. A no-op UPDATE takes the row locks (PostgreSQL) or the
    write lock (SQLite)."""
    from ...planning.models import AnnualPlan

    db.session.execute(update(AnnualPlan).where(AnnualPlan.year == year)
                       .values(year=AnnualPlan.year))


def prepare_target_draw(task, mode: str, declared_sources: Iterable[Mapping[str, Any]],
                        secret_specs: Iterable[Mapping[str, Any]],
                        actor: User | None) -> commitments.Prepared:
    """Freeze the task's pools and publish the commitment (step 1). Commits."""
    from ...directory.employers import operations as employers

    task = _task(task)
    randomness = entropy.entropy_mode(mode)
    sources = entropy.clean_sources(randomness, declared_sources)
    specs, generated = entropy.clean_secrets(secret_specs)
    entropy.check_secrecy(task, randomness, specs)
    _lock_year(task.plan.year)
    reasons = _blocking(task)
    if reasons:
        raise Conflict(reasons[0], {"task": reasons})
    conf = employers.latest_confirmation()
    # The pools hold up to a million codes: they are read, frozen and dropped with the
    # collector paused, which would otherwise walk their lists at each of its passes.
    with collector_paused():
        pools = eligible_pools(task)
        parameters = {
            "year": task.plan.year,
            "ratios": {p.grade: str(p.ratio) for p in pools.pools},
            "rule": "count = ceil(ratio x size), at least 1 when size > 0 and ratio > 0",
            "yearly_cap": task.plan.yearly_cap,
            "excluded_by_cap": pools.excluded_by_cap,
            "task_type": task.task_type,
            "filters": task.filters or {},
            "window": [task.window_start.isoformat(), task.window_end.isoformat()],
            "directory_confirmation": {"id": conf.id, "row_count": conf.row_count,
                                       "at": to_local(conf.at).isoformat(timespec="seconds")},
        }
        label = {"id": task.id, "title": task.name,
                 "lead_department": task.lead_department.name}
        draw = commitments.prepare(kind=KIND, task_id=task.id, task_label=label,
                                   pools=pools.spec(), entropy_mode=randomness.value,
                                   declared_sources=sources, secret_specs=specs,
                                   parameters=parameters, actor=actor)
        sizes = {p.grade: p.size for p in pools.pools}
        counts = {p.grade: p.count for p in pools.pools}
        del pools
    audit.record("task.target_draw_prepared", "task", task.id,
                 {"draw": draw.public_id, "sizes": sizes, "counts": counts}, actor=actor)
    db.session.commit()
    return commitments.Prepared(draw, generated)


def get_target_draw(draw_ref) -> Draw:
    """A target draw by numeric id or public id."""
    draw = commitments.get_draw(draw_ref)
    if draw.kind != KIND:
        raise NotFound(_("No such target draw."))
    return draw


def execute_target_draw(draw, source_values: Iterable[Any], revealed_secrets: Mapping[str, str],
                        actor: User | None) -> Draw:
    """Draw once (step 2) and create or merge the visits, all in one transaction. Commits.

    A second execution, even at the same moment from another worker, is refused with
    :class:`Conflict`; the first result and its visits stand."""
    from ...fieldwork import visits
    from ...planning.models import TaskStatus

    draw = get_target_draw(draw)
    task = _task(draw.task_id)
    _lock_year(task.plan.year)
    draw = commitments.lock(draw.id)
    db.session.refresh(task)
    if draw.status == DrawStatus.PREPARED.value and task.status != TaskStatus.APPROVED.value:
        raise Conflict(_("The task is %(status)s: its draw cannot be executed.",
                         status=task.status))
    values = entropy.values_to_draw(draw, source_values)
    with collector_paused():
        # The list is the record; the visit links written next carry each drawn employer's
        # pool and rank (no DrawSelection rows: they would repeat the links).
        draw = commitments.execute(
            draw.id, source_values=values, actor=actor, selection_rows=False,
            revealed={k: str(v) for k, v in (revealed_secrets or {}).items()})
        drawn = _drawn(draw)
        employer_ids = employers_by_code([code for _pool, _rank, _pos, code in drawn])
        picks = [(pool, rank, employer_ids.get(code)) for pool, rank, _pos, code in drawn]
        placed = visits.place(task, draw, picks)
    previous = task.status
    task.status = TaskStatus.TARGETS_DRAWN.value
    audit.record("task.targets_drawn", "task", task.id,
                 {"draw": draw.public_id, "status": [previous, task.status],
                  "visits_created": placed.created, "visits_merged": placed.merged},
                 actor=actor)
    db.session.commit()
    return draw


def cancel_target_draw(draw, reason: str, actor: User | None) -> Draw:
    """Abandon a prepared draw, with a reason (it stays on record). Commits."""
    draw = get_target_draw(draw)
    draw = commitments.cancel(draw.id, reason, actor)
    db.session.commit()
    return draw


def verify_target_draw(draw) -> list[str]:
    return commitments.verify_draw(commitments.get_draw(draw))


# =========================================================================== reading
def list_draws(kind: str | None = KIND, status: str | None = None, task_id: int | None = None):
    query = select(Draw).order_by(Draw.id.desc())
    if kind:
        query = query.where(Draw.kind == kind)
    if status:
        query = query.where(Draw.status == status)
    if task_id:
        query = query.where(Draw.task_id == task_id)
    return query


@dataclass
class ResultRow:
    pool: str
    rank: int
    position: int
    credit_code: str
    name: str
    employer_id: int | None
    visit: Any = None
    #: Other tasks the same visit serves (names), and whether this task joined a visit that
    #: another task's draw had created (merged into it).
    other_tasks: list = field(default_factory=list)
    joined_existing: bool = False


def _drawn(draw: Draw) -> list[tuple[str, int, int, str]]:
    """(pool, rank, position, credit code) of every drawn employer, pools in their order,
    each in selection order: the executed draw's record."""
    order = {p.name: p.ordinal for p in draw.pools}
    return [(result["pool"], rank, position, code)
            for result in sorted((draw.record or {}).get("results", []),
                                 key=lambda r: order.get(r["pool"], len(order)))
            for rank, (position, code) in enumerate(zip(result["positions"],
                                                        result["selected"]), 1)]


def employer_names(codes: list[str]) -> dict[str, tuple[int, str]]:
    """(employer id, name) by credit code, for the codes that exist: one query."""
    from ...directory.models import Employer

    return {code: (employer_id, name) for code, employer_id, name in bulk.rows_where_in(
        Employer.credit_code, sorted(set(codes)), Employer.id, Employer.name)}


def results(draw: Draw, with_visits: bool = True) -> list[ResultRow]:
    """The drawn employers per pool in selection order (from the record), with their
    visits (the links of the draw, by pool and rank)."""
    from ...fieldwork.models import Visit, VisitTask
    from ...planning.models import Task

    drawn = _drawn(draw)
    employers = employer_names([code for _pool, _rank, _pos, code in drawn])
    out = []
    for pool, rank, position, code in drawn:
        employer_id, name = employers.get(code, (None, ""))
        out.append(ResultRow(pool, rank, position, code, name, employer_id))
    if not with_visits or not out:
        return out
    links = db.session.execute(
        select(VisitTask, Visit).join(Visit, Visit.id == VisitTask.visit_id)
        .where(VisitTask.draw_id == draw.id)).all()
    by_key = {(vt.pool_name, vt.rank): visit for vt, visit in links}
    visit_ids = [v.id for v in by_key.values()]
    others: dict[int, list] = {}
    first: dict[int, int] = {}
    for chunk in _chunks(visit_ids, 500):
        for vt_visit, vt_id, task_id, name in db.session.execute(
                select(VisitTask.visit_id, VisitTask.id, Task.id, Task.name)
                .join(Task, Task.id == VisitTask.task_id)
                .where(VisitTask.visit_id.in_(chunk)).order_by(VisitTask.id)):
            first.setdefault(vt_visit, task_id)
            if task_id != draw.task_id:
                others.setdefault(vt_visit, []).append((task_id, name))
    for row in out:
        visit = by_key.get((row.pool, row.rank))
        row.visit = visit
        if visit is not None:
            row.other_tasks = others.get(visit.id, [])
            row.joined_existing = first.get(visit.id) != draw.task_id
    return out


def _chunks(values: list, size: int):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def public_record(draw: Draw) -> dict:
    """What ``record.json`` serves: the full record once executed, else the commitment."""
    if draw.record is not None:
        return draw.record
    record = {"algorithm": draw.algorithm, "draw_id": draw.public_id,
              "task": draw.commitment.get("task"), "commitment": draw.commitment,
              "status": draw.status}
    if draw.status == DrawStatus.CANCELLED.value:
        record["cancel_reason"] = draw.cancel_reason
    return record


def window_label(start: date, end: date) -> str:
    return f"{start.isoformat()} – {end.isoformat()}"
