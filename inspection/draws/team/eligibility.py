"""Who may be drawn for a visit, and why not: the department's staff inspectors who are
available, whose certificate is valid on the visit's last day and who are not recused
(a declared conflict with the employer; optionally the same home region, or the team of the
employer's previous visit). Everyone else is excluded with a reason category, published
without its details.

Required members per visit: the lead department draws ``Task.inspectors_per_visit`` (at least 2)
and every other participating department of a joint task draws 1.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ...core.bulk import one_of
from ...core.models import Department
from ...directory.inspectors import operations as inspector_ops
from ...directory.models import (Employer, Inspector, InspectorConflict, InspectorPool,
                                 InspectorStatus)
from ...extensions import db
from ...fieldwork.models import Visit, VisitTask
from ...planning.models import Task
from ..models import TeamMember
from .queries import OPEN_VISIT_STATES

#: The reason categories of an exclusion, as published on the record.
EXCLUSION_REASONS = ("conflict", "same_region", "last_inspector", "not_available",
                     "certificate_expired")


def required_for(task: Task, is_lead: bool) -> int:
    return max(task.inspectors_per_visit, 2) if is_lead else 1


def _has_members(visit_id, department_id):
    return exists().where(TeamMember.visit_id == visit_id,
                          TeamMember.department_id == department_id,
                          TeamMember.replaced_at.is_(None))


def visits_to_staff(task: Task, department_id: int) -> list[Visit]:
    """The task's visits still without members of the department, by visit number. A visit
    merged with another task's and staffed by that task's draw already is left out."""
    return db.session.scalars(
        select(Visit).join(VisitTask, VisitTask.visit_id == Visit.id)
        .where(VisitTask.task_id == task.id, Visit.status.in_(OPEN_VISIT_STATES),
               ~_has_members(Visit.id, department_id))
        .options(joinedload(Visit.employer))
        .order_by(Visit.number)).all()


@dataclass
class VisitEligibility:
    visit: Visit
    required: int
    eligible: list[Inspector]
    #: (inspector, [reason category, ...]) for inspectors recused or not valid on this visit
    excluded: list[tuple[Inspector, list[str]]]

    @property
    def shortfall(self) -> int:
        return max(self.required - len(self.eligible), 0)


@dataclass
class DepartmentEligibility:
    department: Department
    is_lead: bool
    required: int
    visits: list[VisitEligibility]
    #: Staff inspectors of the department who are not available at all (on leave, ...).
    not_available: list[Inspector] = field(default_factory=list)

    @property
    def pool(self) -> list[Inspector]:
        """Everyone eligible for at least one visit, by key."""
        seen: dict[int, Inspector] = {}
        for v in self.visits:
            for inspector in v.eligible:
                seen[inspector.id] = inspector
        return [seen[k] for k in sorted(seen)]

    @property
    def shortfalls(self) -> list[VisitEligibility]:
        return [v for v in self.visits if v.shortfall]


def _settings():
    return current_app.config["SETTINGS"]


def previous_visit_members(visit: Visit) -> set[int]:
    """Inspectors (active members) of the employer's most recent earlier visit with a team."""
    return previous_members_of([visit])[visit.id]


def previous_members_of(visits: list[Visit]) -> dict[int, set[int]]:
    """:func:`previous_visit_members` of each of ``visits`` (visit id -> inspector ids): two
    statements, whatever the number of visits."""
    found: dict[int, set[int]] = {v.id: set() for v in visits}
    employers = list({v.employer_id for v in visits})
    if not employers:
        return found
    staffed: dict[int, list[int]] = {}    # employer id -> ids of its visits with a team
    for employer_id, visit_id in db.session.execute(
            select(Visit.employer_id, Visit.id).where(
                or_(*one_of(Visit.employer_id, employers)),
                exists().where(TeamMember.visit_id == Visit.id))):
        staffed.setdefault(employer_id, []).append(visit_id)
    previous = {}
    for visit in visits:
        earlier = [i for i in staffed.get(visit.employer_id, []) if i < visit.id]
        if earlier:
            previous[visit.id] = max(earlier)
    if previous:
        members: dict[int, set[int]] = {}
        for visit_id, inspector_id in db.session.execute(
                select(TeamMember.visit_id, TeamMember.inspector_id).where(
                    or_(*one_of(TeamMember.visit_id, sorted(set(previous.values())))),
                    TeamMember.replaced_at.is_(None))):
            members.setdefault(visit_id, set()).add(inspector_id)
        for visit_id, earlier_id in previous.items():
            found[visit_id] = set(members.get(earlier_id, ()))
    return found


def visit_reasons(inspector: Inspector, visit: Visit, employer: Employer,
                  last_members: set[int] | None = None) -> list[str]:
    """The reason categories that keep an available staff inspector off ``visit``."""
    settings = _settings()
    reasons = []
    for reason in inspector_ops.why_not_drawable(inspector, visit.window_end,
                                                 employer_ids=[visit.employer_id]):
        if reason.code == "certificate_expired":
            reasons.append("certificate_expired")
        elif reason.code == "conflict":
            reasons.append("conflict")
        elif reason.code.startswith("status:"):
            reasons.append("not_available")
    if settings.RECUSE_SAME_REGION and inspector.home_region_code \
            and inspector.home_region_code == employer.region_code:
        reasons.append("same_region")
    if settings.RECUSE_LAST_INSPECTOR:
        members = previous_visit_members(visit) if last_members is None else last_members
        if inspector.id in members:
            reasons.append("last_inspector")
    return list(dict.fromkeys(reasons))


def eligibility(task: Task, department: Department, is_lead: bool,
                visits: list[Visit] | None = None) -> DepartmentEligibility:
    """Who may be drawn for each visit still needing the department's members, and why not."""
    visits = visits_to_staff(task, department.id) if visits is None else visits
    # Read for all visits at once: each inspector's conflicts (with their employers) and,
    # when recused, the teams of the employers' previous visits.
    staff = db.session.scalars(select(Inspector).where(
        Inspector.department_id == department.id, Inspector.pool == InspectorPool.STAFF.value)
        .options(selectinload(Inspector.conflicts).selectinload(InspectorConflict.employer))
        .order_by(Inspector.id)).all()
    available = [i for i in staff if i.status == InspectorStatus.AVAILABLE.value]
    result = DepartmentEligibility(department, is_lead, required_for(task, is_lead), [],
                                   [i for i in staff if i.status != InspectorStatus.AVAILABLE.value])
    previous = previous_members_of(visits) if _settings().RECUSE_LAST_INSPECTOR else {}
    for visit in visits:
        last = previous.get(visit.id, set())
        eligible, excluded = [], []
        for inspector in available:
            reasons = visit_reasons(inspector, visit, visit.employer, last)
            if reasons:
                excluded.append((inspector, reasons))
            else:
                eligible.append(inspector)
        result.visits.append(VisitEligibility(visit, result.required, eligible, excluded))
    return result
