"""The team draw (随机选派检查人员), substitutions (调整更换/递补) and inspectors' assignments.

One team draw per task and participating department (``Draw.kind == "team"``,
``Draw.department_id``), made with the generic two steps of :mod:`.commitments`:

* **prepare** works out, for every visit of the task that still needs members of the
  department, who is eligible and who is excluded and why (:func:`eligibility`); refuses when a
  visit has fewer eligible inspectors than required; writes the commitment, whose single pool
  (``inspectors``) is every inspector eligible for at least one visit, drawn in full (a
  permutation), and whose parameters list each visit's eligible keys, required count and
  exclusions (category only); and records every exclusion (:class:`InspectorExclusion`).
* **execute** runs the engine once, then :func:`.teams.assign` turns the permutation and the
  committed eligibility into teams and reserve orders. The published record is the generic
  record plus ``"kind": "team"`` and ``"assignment"``; the public verifier re-runs both.

Inspector keys on the record are ``INS-`` and the inspector's directory id on six digits
(``INS-000042``): stable for the life of the record (a certificate number changes on renewal)
and meaningless outside the bureau; the record's roster maps each key to the inspector's name.

Required members per visit: the lead department draws ``Task.inspectors_per_visit`` (at least 2)
and every other participating department of a joint task draws 1; the lead department's first
drawn member is the team leader (组长).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, select

from ..core import audit
from ..core.authority import Act, check_approver
from ..core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ..core.models import Department, Role, User, utcnow
from ..core.timeutil import to_local
from ..directory.inspectors import operations as inspector_ops
from ..directory.models import Employer, Inspector, InspectorPool, InspectorStatus
from ..extensions import db
from ..fieldwork.models import Visit, VisitStatus, VisitTask
from ..fieldwork.visits import checked_versions
from ..planning.models import Task, TaskStatus
from . import commitments, teams, verify
from .models import (Draw, DrawKind, DrawStatus, InspectorExclusion,
                     Substitution, TeamMember, TeamReserve)

POOL = "inspectors"
EXCLUSION_REASONS = ("conflict", "same_region", "last_inspector", "not_available",
                     "certificate_expired")
SUBSTITUTION_REASONS = ("post_change", "schedule_conflict", "health", "recusal")
MODES = ("reserve", "approver_choice")
#: Visits still open to a team draw (a merged visit may await another department's members).
OPEN_VISIT_STATES = (VisitStatus.PLANNED.value, VisitStatus.ASSIGNED.value)


def reason_labels() -> dict[str, str]:
    return {"conflict": _("Declared conflict of interest"),
            "same_region": _("Same home region as the employer"),
            "last_inspector": _("On the employer's previous visit"),
            "not_available": _("Not available"),
            "certificate_expired": _("Certificate not valid on the visit's dates")}


def substitution_reason_labels() -> dict[str, str]:
    return {"post_change": _("Post change"), "schedule_conflict": _("Schedule conflict"),
            "health": _("Health"), "recusal": _("Recusal")}


def status_labels() -> dict[str, str]:
    """Visit, draw, task and substitution states as shown on the pages."""
    return {"planned": _("Planned"), "assigned": _("Assigned"), "in_progress": _("In progress"),
            "recorded": _("Recorded"), "closed": _("Closed"), "prepared": _("Prepared"),
            "executed": _("Executed"), "cancelled": _("Cancelled"),
            "targets_drawn": _("Targets drawn"), "teams_drawn": _("Teams drawn"),
            "requested": _("Awaiting a decision"), "approved": _("Approved"),
            "rejected": _("Rejected")}


def mode_labels() -> dict[str, str]:
    return {"reserve": _("Next in reserve order"),
            "approver_choice": _("Chosen by the approver")}


# --- keys -------------------------------------------------------------------------------------

def inspector_key(inspector: Inspector | int) -> str:
    """The public key of an inspector on a draw record: ``INS-000042``."""
    ident = inspector if isinstance(inspector, int) else inspector.id
    return f"INS-{ident:06d}"


def key_id(key: str) -> int:
    return int(key.split("-", 1)[1])


# --- reading ----------------------------------------------------------------------------------

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
         TaskStatus.CLOSED.value))).order_by(Task.id.desc())).all()


def task_departments(task: Task) -> list[tuple[Department, bool]]:
    """The departments drawing members for ``task``: the lead first, then the others."""
    rows = [(d.department, d.department_id == task.lead_department_id) for d in task.departments]
    if not any(lead for _, lead in rows):
        rows.insert(0, (task.lead_department, True))
    rows.sort(key=lambda r: (not r[1], r[0].code))
    return rows


def required_for(task: Task, is_lead: bool) -> int:
    return max(task.inspectors_per_visit, 2) if is_lead else 1


def task_visits(task: Task) -> list[Visit]:
    return db.session.scalars(select(Visit).join(VisitTask, VisitTask.visit_id == Visit.id)
                              .where(VisitTask.task_id == task.id)
                              .order_by(Visit.number)).all()


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
        .order_by(Visit.number)).all()


def team_draws(task: Task) -> list[Draw]:
    return db.session.scalars(select(Draw).where(Draw.task_id == task.id,
                                                 Draw.kind == DrawKind.TEAM.value)
                              .order_by(Draw.id)).all()


def current_draw(task: Task, department_id: int) -> Draw | None:
    """The department's prepared or executed team draw for the task (cancelled ones aside)."""
    return db.session.scalar(select(Draw).where(
        Draw.task_id == task.id, Draw.kind == DrawKind.TEAM.value,
        Draw.department_id == department_id, Draw.status != DrawStatus.CANCELLED.value)
        .order_by(Draw.id.desc()).limit(1))


# --- eligibility ------------------------------------------------------------------------------

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
    previous = db.session.scalar(
        select(Visit.id).where(Visit.employer_id == visit.employer_id, Visit.id < visit.id,
                               exists().where(TeamMember.visit_id == Visit.id))
        .order_by(Visit.id.desc()).limit(1))
    if previous is None:
        return set()
    return set(db.session.scalars(select(TeamMember.inspector_id).where(
        TeamMember.visit_id == previous, TeamMember.replaced_at.is_(None))))


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
    staff = db.session.scalars(select(Inspector).where(
        Inspector.department_id == department.id, Inspector.pool == InspectorPool.STAFF.value)
        .order_by(Inspector.id)).all()
    available = [i for i in staff if i.status == InspectorStatus.AVAILABLE.value]
    result = DepartmentEligibility(department, is_lead, required_for(task, is_lead), [],
                                   [i for i in staff if i.status != InspectorStatus.AVAILABLE.value])
    for visit in visits:
        last = previous_visit_members(visit) if _settings().RECUSE_LAST_INSPECTOR else set()
        eligible, excluded = [], []
        for inspector in available:
            reasons = visit_reasons(inspector, visit, visit.employer, last)
            if reasons:
                excluded.append((inspector, reasons))
            else:
                eligible.append(inspector)
        result.visits.append(VisitEligibility(visit, result.required, eligible, excluded))
    return result


# --- prepare ----------------------------------------------------------------------------------

def _require(actor: User | None, *roles: Role) -> None:
    if actor is not None and not actor.has_role(*roles):
        raise PermissionDenied(_("Your role does not allow this."))


def _department_of(task: Task, department_id: int) -> tuple[Department, bool]:
    for dept, is_lead in task_departments(task):
        if dept.id == department_id:
            return dept, is_lead
    raise ValidationFailed(_("This department does not take part in the task."),
                           {"department_id": [_("Not a participating department.")]})


def prepare_team_draw(task: Task, department_id: int, *, mode: str,
                      declared_sources: Iterable[dict], secret_specs: Iterable[dict],
                      actor: User | None):
    """Freeze the department's eligible inspectors and commit to the team draw. Sources and
    secrets are given and checked as for the target draw (``target._clean_sources`` and
    ``target._clean_secrets``: a party may ask for a generated secret, shown once). Returns
    :class:`.target.Prepared` (the draw and the generated secrets). Commits."""
    from . import target
    from .models import EntropyMode

    _require(actor, Role.ADMIN, Role.OFFICE)
    try:
        entropy = EntropyMode(mode)
    except ValueError:
        raise ValidationFailed(_("Choose where the randomness comes from."),
                               {"mode": [_("Not a valid choice.")]}) from None
    sources = target._clean_sources(entropy, declared_sources)
    specs, generated = target._clean_secrets(secret_specs)
    if task.status != TaskStatus.TARGETS_DRAWN.value:
        raise Conflict(_("Teams are drawn once the targets of the task are drawn "
                         "(the task is %(status)s).", status=task.status))
    department, is_lead = _department_of(task, department_id)
    existing = current_draw(task, department.id)
    if existing is not None:
        raise Conflict(_("%(dept)s has a team draw for this task already (%(id)s, %(status)s).",
                         dept=department.name, id=existing.public_id, status=existing.status))
    confirmation = inspector_ops.confirmation_state()
    if confirmation.stale:
        raise Conflict(_("Confirm that the inspectors directory is current before the draw "
                         "(it changed since it was last confirmed, or never was)."))
    found = eligibility(task, department, is_lead)
    if not found.visits:
        raise ValidationFailed(_("No visit of this task needs members of %(dept)s.",
                                 dept=department.name))
    if found.shortfalls:
        lines = [_("Visit %(visit)s (%(employer)s): %(n)d eligible, %(required)d required, "
                   "%(short)d short.", visit=v.visit.number, employer=v.visit.employer.name,
                   n=len(v.eligible), required=v.required, short=v.shortfall)
                 for v in found.shortfalls]
        message = _("Not enough eligible inspectors of %(dept)s: ", dept=department.name) \
            + " ".join(lines)
        raise ValidationFailed(message, {"department_id": lines})
    pool = found.pool
    settings = _settings()
    parameters = {
        "team_algorithm": teams.ALGORITHM,
        "pool": POOL,
        "department": {"id": department.id, "code": department.code, "name": department.name},
        "lead_department": is_lead,
        "required_per_visit": found.required,
        "recusal": {"conflict": True, "same_region": settings.RECUSE_SAME_REGION,
                    "last_inspector": settings.RECUSE_LAST_INSPECTOR},
        "directory_confirmation": {
            "id": confirmation.last.id, "row_count": confirmation.last.row_count,
            "at": to_local(confirmation.last.at).isoformat(timespec="seconds")},
        "roster": {inspector_key(i): i.name for i in pool},
        "not_available": [inspector_key(i) for i in found.not_available],
        "visits": [{
            "visit": v.visit.number,
            "employer": v.visit.employer.credit_code,
            "window_end": v.visit.window_end.isoformat(),
            "required": v.required,
            "eligible": [inspector_key(i) for i in v.eligible],
            "excluded": [{"inspector": inspector_key(i), "reasons": reasons}
                         for i, reasons in v.excluded],
        } for v in found.visits],
    }
    draw = commitments.prepare(
        kind=DrawKind.TEAM.value, task_id=task.id,
        task_label={"id": task.id, "title": task.name}, department_id=department.id,
        pools=[commitments.PoolSpec(POOL, [inspector_key(i) for i in pool], len(pool))],
        entropy_mode=entropy.value, declared_sources=sources,
        secret_specs=specs, parameters=parameters, actor=actor)
    for inspector in found.not_available:
        db.session.add(InspectorExclusion(draw_id=draw.id, visit_id=None,
                                          inspector_id=inspector.id, reason="not_available"))
    counts: dict[str, int] = {}
    for v in found.visits:
        for inspector, reasons in v.excluded:
            for reason in reasons:
                counts[reason] = counts.get(reason, 0) + 1
                db.session.add(InspectorExclusion(draw_id=draw.id, visit_id=v.visit.id,
                                                  inspector_id=inspector.id, reason=reason))
    audit.record("team.prepare", "draw", draw.id,
                 {"public_id": draw.public_id, "task_id": task.id,
                  "department": department.code, "visits": len(found.visits),
                  "pool": len(pool), "exclusions": counts,
                  "not_available": len(found.not_available)}, actor=actor)
    db.session.commit()
    return target.Prepared(draw, generated)


# --- execute ----------------------------------------------------------------------------------

def _record_sha(record: dict) -> str:
    return hashlib.sha256(audit.canonical_json(record)).hexdigest()


def execute_team_draw(draw_id: int, *, source_values: Iterable[Any],
                      revealed: dict[str, str], actor: User | None) -> Draw:
    """Run the team draw once, assign the teams and reserves, and lock them. ``source_values``:
    per declared source a string (split on spaces and commas) or a list. Commits.
    A second execution is refused with :class:`Conflict`; the first result stands."""
    from . import target
    from .models import EntropyMode

    _require(actor, Role.ADMIN, Role.OFFICE)
    draw = commitments.lock(get_draw(draw_id).id)
    values = [] if draw.entropy_mode == EntropyMode.SYSTEM.value or \
        draw.status != DrawStatus.PREPARED.value else \
        target.parse_source_values(draw, source_values)
    draw = commitments.execute(draw.id, source_values=values,
                               revealed={k: str(v) for k, v in (revealed or {}).items()},
                               actor=actor)
    params = draw.commitment["parameters"]
    permutation = next(r["selected"] for r in draw.record["results"] if r["pool"] == POOL)
    assignment = teams.assign(permutation, params["visits"])
    record = dict(draw.record)
    record["kind"] = DrawKind.TEAM.value
    record["assignment"] = assignment
    texts = {p.name: commitments.pool_bytes(draw, p) for p in draw.pools}
    problems = verify.verify(record, texts)
    if problems:
        raise RuntimeError("team record fails its own verification: " + "; ".join(problems))
    draw.record = record
    draw.record_sha256 = _record_sha(record)

    for selection in commitments.selections(draw):
        selection.inspector_id = key_id(selection.candidate)
    visits = {v.number: v for v in db.session.scalars(select(Visit).where(
        Visit.number.in_([e["visit"] for e in assignment])))}
    is_lead = bool(params.get("lead_department"))
    now = utcnow()
    for entry in assignment:
        visit = visits[entry["visit"]]
        for n, key in enumerate(entry["team"]):
            db.session.add(TeamMember(visit_id=visit.id, inspector_id=key_id(key),
                                      department_id=draw.department_id,
                                      is_leader=is_lead and n == 0, draw_id=draw.id,
                                      source="drawn", joined_at=now))
        for rank, key in enumerate(entry["reserve"], 1):
            db.session.add(TeamReserve(visit_id=visit.id, department_id=draw.department_id,
                                       inspector_id=key_id(key), rank=rank, draw_id=draw.id))
    db.session.flush()
    task = db.session.get(Task, draw.task_id)
    _advance(task, list(visits.values()))
    audit.record("team.assign", "draw", draw.id,
                 {"public_id": draw.public_id, "record_sha256": draw.record_sha256,
                  "visits": len(assignment),
                  "members": sum(len(e["team"]) for e in assignment)}, actor=actor)
    db.session.commit()
    return draw


def _advance(task: Task, visits: Iterable[Visit]) -> None:
    """Visits staffed by every participating department become ``assigned``; the task moves
    to ``teams_drawn`` once every department has executed its team draw."""
    departments = [d.id for d, _ in task_departments(task)]
    for visit in visits:
        staffed = set(db.session.scalars(select(TeamMember.department_id).where(
            TeamMember.visit_id == visit.id, TeamMember.replaced_at.is_(None))))
        if visit.status == VisitStatus.PLANNED.value and set(departments) <= staffed:
            visit.status = VisitStatus.ASSIGNED.value
    executed = set(db.session.scalars(select(Draw.department_id).where(
        Draw.task_id == task.id, Draw.kind == DrawKind.TEAM.value,
        Draw.status == DrawStatus.EXECUTED.value)))
    if task.status == TaskStatus.TARGETS_DRAWN.value and set(departments) <= executed:
        task.status = TaskStatus.TEAMS_DRAWN.value


def cancel_team_draw(draw_id: int, reason: str, actor: User | None) -> Draw:
    _require(actor, Role.ADMIN, Role.OFFICE)
    get_draw(draw_id)
    draw = commitments.cancel(draw_id, reason, actor)
    db.session.commit()
    return draw


# --- results ----------------------------------------------------------------------------------

@dataclass
class VisitTeam:
    visit: Visit
    members: list[TeamMember]        # active, leader first
    former: list[TeamMember]         # replaced
    reserves: list[TeamReserve]


def members_of(visit: Visit, department_id: int | None = None,
               active: bool | None = True) -> list[TeamMember]:
    query = select(TeamMember).where(TeamMember.visit_id == visit.id)
    if department_id is not None:
        query = query.where(TeamMember.department_id == department_id)
    if active is True:
        query = query.where(TeamMember.replaced_at.is_(None))
    elif active is False:
        query = query.where(TeamMember.replaced_at.is_not(None))
    return db.session.scalars(query.order_by(TeamMember.is_leader.desc(),
                                             TeamMember.id)).all()


def draw_teams(draw: Draw) -> list[VisitTeam]:
    """The teams and reserves of an executed draw, by visit number."""
    if draw.status != DrawStatus.EXECUTED.value:
        return []
    numbers = [e["visit"] for e in (draw.record or {}).get("assignment", [])]
    visits = db.session.scalars(select(Visit).where(Visit.number.in_(numbers))
                                .order_by(Visit.number)).all()
    out = []
    for visit in visits:
        members = db.session.scalars(select(TeamMember).where(
            TeamMember.visit_id == visit.id, TeamMember.department_id == draw.department_id)
            .order_by(TeamMember.is_leader.desc(), TeamMember.id)).all()
        reserves = db.session.scalars(select(TeamReserve).where(
            TeamReserve.visit_id == visit.id, TeamReserve.draw_id == draw.id)
            .order_by(TeamReserve.rank)).all()
        out.append(VisitTeam(visit, [m for m in members if m.replaced_at is None],
                             [m for m in members if m.replaced_at is not None], reserves))
    return out


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


# --- substitution -----------------------------------------------------------------------------

def request_substitution(member: TeamMember, reason: str, note: str,
                         actor: User | None) -> Substitution:
    """The office asks to replace a drawn member, for one of the admitted reasons."""
    _require(actor, Role.ADMIN, Role.OFFICE)
    reason = (reason or "").strip()
    note = (note or "").strip()
    if reason not in SUBSTITUTION_REASONS:
        raise ValidationFailed(_("A member is replaced only for a stated reason: post change, "
                                 "schedule conflict, health or recusal."),
                               {"reason": [_("Choose the reason.")]})
    if len(note) > 2000:
        raise ValidationFailed(_("At most %(n)d characters.", n=2000), {"note": ["2000"]})
    if member.replaced_at is not None:
        raise Conflict(_("This member has been replaced already."))
    visit = db.session.get(Visit, member.visit_id)
    if visit.status not in OPEN_VISIT_STATES:
        raise Conflict(_("The visit is under way or done; its team is final."))
    pending = db.session.scalar(select(Substitution.id).where(
        Substitution.member_id == member.id, Substitution.status == "requested"))
    if pending is not None:
        raise Conflict(_("A substitution of this member is awaiting a decision already."))
    sub = Substitution(visit_id=member.visit_id, member_id=member.id, reason=reason, note=note,
                       status="requested", requested_at=utcnow(),
                       requested_by_id=actor.id if actor else None)
    db.session.add(sub)
    db.session.flush()
    audit.record("team.substitution.request", "substitution", sub.id,
                 {"visit": visit.number, "member": inspector_key(member.inspector_id),
                  "reason": reason, "note": note}, actor=actor)
    db.session.commit()
    return sub


def next_reserve(member: TeamMember) -> TeamReserve | None:
    """The next unused reserve of the member's visit and department who may still go: on the
    reserve list, not on the team, and eligible today as at the draw."""
    visit = db.session.get(Visit, member.visit_id)
    team = {m.inspector_id for m in members_of(visit)}
    reserves = db.session.scalars(select(TeamReserve).where(
        TeamReserve.visit_id == member.visit_id, TeamReserve.department_id == member.department_id,
        TeamReserve.used_at.is_(None)).order_by(TeamReserve.draw_id, TeamReserve.rank)).all()
    people = inspectors_by_id(r.inspector_id for r in reserves)
    for reserve in reserves:
        inspector = people[reserve.inspector_id]
        if reserve.inspector_id in team:
            continue
        if inspector.pool != InspectorPool.STAFF.value or visit_reasons(inspector, visit,
                                                                       visit.employer):
            continue
        return reserve
    return None


def qualified_replacements(member: TeamMember) -> list[Inspector]:
    """Whom the approver may choose: staff of the member's department, eligible for the visit
    (available, certified, not recused), not on the team."""
    visit = db.session.get(Visit, member.visit_id)
    team = {m.inspector_id for m in members_of(visit)}
    candidates = db.session.scalars(select(Inspector).where(
        Inspector.department_id == member.department_id,
        Inspector.pool == InspectorPool.STAFF.value,
        Inspector.status == InspectorStatus.AVAILABLE.value).order_by(Inspector.name,
                                                                      Inspector.id)).all()
    return [i for i in candidates
            if i.id not in team and not visit_reasons(i, visit, visit.employer)]


def decide_substitution(sub: Substitution, *, approve: bool, mode: str | None = None,
                        replacement_id: int | None = None, note: str = "",
                        actor: User | None) -> Substitution:
    """An approver approves (with the replacement: next reserve, or their choice among the
    qualified inspectors, without a new draw) or rejects a requested substitution."""
    member = get_member(sub.member_id)
    # Authority per act and department (DOMAIN.md "Approvers differ by act"): the position
    # the bureau's APPROVE_SUBSTITUTION names, in the member's department; four eyes.
    check_approver(actor, Act.SUBSTITUTION, department_id=member.department_id,
                   proposer_id=sub.requested_by_id)
    if sub.status != "requested":
        raise Conflict(_("This substitution was decided already (%(status)s).",
                         status=sub.status))
    visit = db.session.get(Visit, member.visit_id)
    note = (note or "").strip()
    now = utcnow()
    if not approve:
        sub.status = "rejected"
        sub.decided_at, sub.decided_by_id = now, actor.id
        if note:
            sub.note = (sub.note + "\n" if sub.note else "") + note
        audit.record("team.substitution.reject", "substitution", sub.id,
                     {"visit": visit.number, "member": inspector_key(member.inspector_id),
                      "note": note}, actor=actor)
        db.session.commit()
        return sub
    if member.replaced_at is not None:
        raise Conflict(_("This member has been replaced already."))
    if mode not in MODES:
        raise ValidationFailed(_("Choose how the replacement is found."),
                               {"mode": [_("Choose how the replacement is found.")]})
    reserve = None
    if mode == "reserve":
        reserve = next_reserve(member)
        if reserve is None:
            raise Conflict(_("No one is left in the reserve order who may go; choose a "
                             "qualified inspector instead."), {"mode": [_("Reserve exhausted.")]})
        replacement_id = reserve.inspector_id
    else:
        allowed = {i.id for i in qualified_replacements(member)}
        if replacement_id not in allowed:
            raise ValidationFailed(_("Choose a qualified inspector of the department who is not "
                                     "on the team and not recused."),
                                   {"replacement_id": [_("Not a qualified inspector.")]})
        reserve = db.session.scalar(select(TeamReserve).where(
            TeamReserve.visit_id == member.visit_id, TeamReserve.inspector_id == replacement_id,
            TeamReserve.used_at.is_(None)))
    member.replaced_at = now
    db.session.add(TeamMember(visit_id=member.visit_id, inspector_id=replacement_id,
                              department_id=member.department_id, is_leader=member.is_leader,
                              draw_id=member.draw_id, source=mode, joined_at=now))
    if reserve is not None:
        reserve.used_at = now
    sub.status = "approved"
    sub.mode = mode
    sub.replacement_id = replacement_id
    sub.decided_at, sub.decided_by_id = now, actor.id
    if note:
        sub.note = (sub.note + "\n" if sub.note else "") + note
    audit.record("team.substitution.approve", "substitution", sub.id,
                 {"visit": visit.number, "member": inspector_key(member.inspector_id),
                  "replacement": inspector_key(replacement_id), "mode": mode,
                  "reason": sub.reason, "leader": member.is_leader,
                  "reserve_rank": reserve.rank if reserve is not None else None}, actor=actor)
    db.session.commit()
    return sub


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


def my_visits(user: User) -> list[Assignment]:
    """The visits the user's inspector is an active team member of; nobody else's."""
    me = inspector_of(user)
    if me is None:
        return []
    mine = db.session.scalars(select(TeamMember).where(
        TeamMember.inspector_id == me.id, TeamMember.replaced_at.is_(None))).all()
    by_visit = {m.visit_id: m for m in mine}
    if not by_visit:
        return []
    visits = db.session.scalars(select(Visit).where(Visit.id.in_(by_visit))
                                .order_by(Visit.window_start, Visit.number)).all()
    out = []
    for visit in visits:
        team = members_of(visit)
        people = inspectors_by_id(m.inspector_id for m in team)
        items = [version.name for version, _code in checked_versions(visit.id)]
        tasks = db.session.scalars(select(Task).join(VisitTask, VisitTask.task_id == Task.id)
                                   .where(VisitTask.visit_id == visit.id)
                                   .order_by(Task.id)).all()
        out.append(Assignment(visit, by_visit[visit.id].is_leader,
                              [(m, people[m.inspector_id]) for m in team], list(items), tasks))
    return out


def today() -> date:
    return inspector_ops.today()
