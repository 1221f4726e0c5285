"""Reading the team draws: tasks, draws, teams, reserves, exclusions and substitutions, the
public view of a team draw, and the inspectors' assignments, which fieldwork and review read
too (who is on a visit's team, whose visits are these).

Inspector keys on a record are ``INS-`` and the inspector's directory id on six digits
(``INS-000042``): stable for the life of the record (a certificate number changes on renewal)
and meaningless outside the bureau. The record names no inspector: it is public, and the
public pages name no person (docs/portal.md); the bureau's own pages show the names.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from ...core.bulk import LOOKUP_CHUNK, one_of
from ...core.errors import NotFound
from ...core.models import Department, User
from ...core.timeutil import to_local
from ...directory.models import Inspector
from ...extensions import db
from ...fieldwork.models import Visit, VisitStatus, VisitTask
from ...fieldwork.visits import tasks_of, version_names_of
from ...planning.models import Task, TaskStatus
from ..models import (Draw, DrawKind, DrawStatus, InspectorExclusion, Substitution, TeamMember,
                      TeamReserve)

#: Visits still open to a team draw (a merged visit may await another department's members).
OPEN_VISIT_STATES = (VisitStatus.PLANNED.value, VisitStatus.ASSIGNED.value)


# --- keys -------------------------------------------------------------------------------------

def inspector_key(inspector: Inspector | int) -> str:
    """The public key of an inspector on a draw record: ``INS-000042``."""
    ident = inspector if isinstance(inspector, int) else inspector.id
    return f"INS-{ident:06d}"


def key_id(key: str) -> int:
    return int(key.split("-", 1)[1])


# --- tasks and draws --------------------------------------------------------------------------

def get_task(task_id: int) -> Task:
    task = db.session.get(Task, task_id)
    if task is None:
        raise NotFound(_("No such task."))
    return task


def get_draw(draw_id: int) -> Draw:
    draw = db.session.get(Draw, draw_id)
    if draw is None or draw.kind != DrawKind.TEAM.value:
        raise NotFound(_("No such team draw."))
    return draw


def get_member(member_id: int) -> TeamMember:
    member = db.session.get(TeamMember, member_id)
    if member is None:
        raise NotFound(_("No such team member."))
    return member


def get_substitution(substitution_id: int) -> Substitution:
    sub = db.session.get(Substitution, substitution_id)
    if sub is None:
        raise NotFound(_("No such substitution."))
    return sub


def tasks_with_targets():
    """Tasks whose targets are drawn (teams pending or drawn), newest first."""
    return db.session.scalars(select(Task).where(Task.status.in_(
        (TaskStatus.TARGETS_DRAWN.value, TaskStatus.TEAMS_DRAWN.value,
         TaskStatus.CLOSED.value))).options(selectinload(Task.lead_department))
        .order_by(Task.id.desc())).all()


def task_departments(task: Task) -> list[tuple[Department, bool]]:
    """The departments drawing members for ``task``: the lead first, then the others."""
    rows = [(d.department, d.department_id == task.lead_department_id) for d in task.departments]
    if not any(lead for _, lead in rows):
        rows.insert(0, (task.lead_department, True))
    rows.sort(key=lambda r: (not r[1], r[0].code))
    return rows


def task_visits(task: Task) -> list[Visit]:
    return db.session.scalars(select(Visit).join(VisitTask, VisitTask.visit_id == Visit.id)
                              .where(VisitTask.task_id == task.id)
                              .order_by(Visit.number)).all()


def team_draws(task: Task) -> list[Draw]:
    return team_draws_of([task.id])[task.id]


def team_draws_of(task_ids: Iterable[int]) -> dict[int, list[Draw]]:
    """Task id -> its team draws (with their departments), for a list of tasks at once."""
    ids = list(dict.fromkeys(task_ids))
    found: dict[int, list[Draw]] = {i: [] for i in ids}
    if ids:
        for draw in db.session.scalars(select(Draw).where(
                Draw.task_id.in_(ids), Draw.kind == DrawKind.TEAM.value)
                .options(selectinload(Draw.department)).order_by(Draw.id)):
            found[draw.task_id].append(draw)
    return found


def current_draw(task: Task, department_id: int) -> Draw | None:
    """The department's prepared or executed team draw for the task (cancelled ones aside)."""
    return db.session.scalar(select(Draw).where(
        Draw.task_id == task.id, Draw.kind == DrawKind.TEAM.value,
        Draw.department_id == department_id, Draw.status != DrawStatus.CANCELLED.value)
        .order_by(Draw.id.desc()).limit(1))


# --- teams ------------------------------------------------------------------------------------

@dataclass
class VisitTeam:
    visit: Visit
    members: list[TeamMember]        # active, leader first
    former: list[TeamMember]         # replaced
    reserves: list[TeamReserve]


def members_of(visit: Visit, department_id: int | None = None,
               active: bool | None = True) -> list[TeamMember]:
    return members_by_visit([visit.id], department_id, active)[visit.id]


def members_by_visit(visit_ids: Iterable[int], department_id: int | None = None,
                     active: bool | None = True) -> dict[int, list[TeamMember]]:
    """:func:`members_of` for a list of visits (visit id -> members, leader first): one
    statement whatever their number."""
    ids = list(dict.fromkeys(visit_ids))
    found: dict[int, list[TeamMember]] = {i: [] for i in ids}
    if not ids:
        return found
    query = select(TeamMember).where(_one_of(TeamMember.visit_id, ids))
    if department_id is not None:
        query = query.where(TeamMember.department_id == department_id)
    if active is True:
        query = query.where(TeamMember.replaced_at.is_(None))
    elif active is False:
        query = query.where(TeamMember.replaced_at.is_not(None))
    for member in db.session.scalars(query.order_by(TeamMember.is_leader.desc(),
                                                    TeamMember.id)):
        found[member.visit_id].append(member)
    return found


def _one_of(column, values: list):
    """``column`` is one of ``values``: a plain ``IN`` for a page's worth, else one bound
    value however many they are (a draw's visits may be tens of thousands)."""
    if len(values) <= LOOKUP_CHUNK:
        return column.in_(values)
    return or_(*one_of(column, values))


def draw_teams(draw: Draw) -> list[VisitTeam]:
    """The teams and reserves of an executed draw, by visit number (with the visits'
    employers): a constant number of statements, whatever the number of visits."""
    if draw.status != DrawStatus.EXECUTED.value:
        return []
    numbers = [e["visit"] for e in (draw.record or {}).get("assignment", [])]
    if not numbers:
        return []
    # (Joined: one statement for a draw of any size; selectin would read 500 per statement.)
    visits = db.session.scalars(select(Visit).where(_one_of(Visit.number, numbers))
                                .options(joinedload(Visit.employer))
                                .order_by(Visit.number)).all()
    ids = [v.id for v in visits]
    members = members_by_visit(ids, draw.department_id, active=None)
    reserves: dict[int, list[TeamReserve]] = {}
    for reserve in db.session.scalars(select(TeamReserve).where(
            _one_of(TeamReserve.visit_id, ids), TeamReserve.draw_id == draw.id)
            .order_by(TeamReserve.rank, TeamReserve.id)):
        reserves.setdefault(reserve.visit_id, []).append(reserve)
    return [VisitTeam(visit, [m for m in members[visit.id] if m.replaced_at is None],
                      [m for m in members[visit.id] if m.replaced_at is not None],
                      reserves.get(visit.id, []))
            for visit in visits]


def inspectors_by_id(ids: Iterable[int]) -> dict[int, Inspector]:
    ids = set(ids)
    if not ids:
        return {}
    return {i.id: i for i in db.session.scalars(select(Inspector).where(Inspector.id.in_(ids)))}


def exclusions(draw: Draw) -> list[InspectorExclusion]:
    return db.session.scalars(select(InspectorExclusion).where(
        InspectorExclusion.draw_id == draw.id).order_by(InspectorExclusion.visit_id,
                                                        InspectorExclusion.inspector_id,
                                                        InspectorExclusion.id)).all()


def public_substitutions(draw: Draw) -> list[dict]:
    """The approved substitutions of a team draw's members, for the public record: which
    visit, who left, who stepped in, the reason category and how the replacement was chosen."""
    rows = db.session.execute(
        select(Substitution, TeamMember).join(TeamMember, TeamMember.id == Substitution.member_id)
        .where(TeamMember.draw_id == draw.id, Substitution.status == "approved")
        .order_by(Substitution.decided_at, Substitution.id)).all()
    visits = {v.id: v.number for v in db.session.scalars(select(Visit).where(
        Visit.id.in_({m.visit_id for _, m in rows})))} if rows else {}
    return [{"visit": visits[member.visit_id], "replaced": inspector_key(member.inspector_id),
             "replacement": inspector_key(sub.replacement_id), "reason": sub.reason,
             "mode": sub.mode,
             "approved_at": to_local(sub.decided_at).isoformat(timespec="seconds")}
            for sub, member in rows]


def public_team_record(draw: Draw) -> dict:
    """What the public sees of a team draw: the record (commitment with eligibility and
    exclusion categories, execution, permutation, assignment) plus the substitutions."""
    body = dict(draw.record or {"commitment": draw.commitment})
    body["substitutions"] = public_substitutions(draw)
    return body


def substitutions(status: str | None = None, visit_id: int | None = None):
    query = select(Substitution).order_by(Substitution.id.desc())
    if status:
        query = query.where(Substitution.status == status)
    if visit_id:
        query = query.where(Substitution.visit_id == visit_id)
    return db.session.scalars(query).all()


# --- assignments ------------------------------------------------------------------------------

@dataclass
class Assignment:
    visit: Visit
    leader: bool
    team: list[tuple[TeamMember, Inspector]]
    items: list[str]
    tasks: list[Task]


def inspector_of(user: User) -> Inspector | None:
    return db.session.scalar(select(Inspector).where(Inspector.user_id == user.id))


#: :func:`my_visits`'s default for ``me``: ask :func:`inspector_of`.
_ASK = object()


def my_visits(user: User, me: Inspector | None | object = _ASK) -> list[Assignment]:
    """The visits the user's inspector is an active team member of; nobody else's. Read for
    all of them at once (visits with their employers, teams with their people, item names,
    tasks): a constant number of statements, whatever the number of visits. ``me``: the
    user's inspector when the caller has it already (None: the user has none)."""
    if me is _ASK:
        me = inspector_of(user)
    if me is None:
        return []
    leads: dict[int, bool] = {}
    visits: list[Visit] = []
    for visit, is_leader in db.session.execute(
            select(Visit, TeamMember.is_leader)
            .join(TeamMember, TeamMember.visit_id == Visit.id)
            .where(TeamMember.inspector_id == me.id, TeamMember.replaced_at.is_(None))
            .options(joinedload(Visit.employer))
            .order_by(Visit.window_start, Visit.number)).tuples():
        if visit.id not in leads:
            visits.append(visit)
        leads[visit.id] = is_leader
    if not visits:
        return []
    ids = [v.id for v in visits]
    teams: dict[int, list[tuple[TeamMember, Inspector]]] = {i: [] for i in ids}
    for member, person in db.session.execute(
            select(TeamMember, Inspector).join(Inspector, Inspector.id == TeamMember.inspector_id)
            .where(_one_of(TeamMember.visit_id, ids), TeamMember.replaced_at.is_(None))
            .order_by(TeamMember.is_leader.desc(), TeamMember.id)).tuples():
        teams[member.visit_id].append((member, person))
    names = version_names_of(ids)
    tasks = tasks_of(ids)
    return [Assignment(visit, leads[visit.id], teams[visit.id], names[visit.id],
                       tasks[visit.id])
            for visit in visits]
