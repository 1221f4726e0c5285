"""The team draw (随机选派检查人员) and substitutions (调整更换/递补).

One team draw per task and participating department (``Draw.kind == "team"``,
``Draw.department_id``), made with the generic two steps of :mod:`..commitments`:

* **prepare** works out, for every visit of the task that still needs members of the
  department, who is eligible and who is excluded and why (:mod:`.eligibility`); refuses when a
  visit has fewer eligible inspectors than required; writes the commitment, whose single pool
  (``inspectors``) is every inspector eligible for at least one visit, drawn in full (a
  permutation), and whose parameters list each visit's eligible keys, required count and
  exclusions (category only); and records every exclusion (:class:`InspectorExclusion`).
* **execute** runs the engine once, then :func:`..engine.teams.assign` turns the permutation
  and the committed eligibility into teams and reserve orders. The published record is the
  generic record plus ``"kind": "team"`` and ``"assignment"``; the public verifier re-runs
  both.

Inspector keys on the record: :func:`.queries.inspector_key`. Required members per visit:
:func:`.eligibility.required_for`; the lead department's first drawn member is the team
leader (组长).

A drawn member is replaced only for a stated reason, on an approver's decision: by the next
in the visit's reserve order, or by an inspector the approver picks among the qualified ones.
"""
from __future__ import annotations

import hashlib
from typing import Any, Iterable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ...core import audit
from ...core.authority import Act, check_approver
from ...core.errors import Conflict, PermissionDenied, ValidationFailed
from ...core.models import Department, Role, User, utcnow
from ...core.timeutil import to_local
from ...directory.inspectors import operations as inspector_ops
from ...directory.models import Inspector, InspectorPool, InspectorStatus
from ...extensions import db
from ...fieldwork.models import Visit, VisitStatus
from ...planning.models import Task, TaskStatus
from .. import commitments, entropy
from ..engine import teams, verify
from ..models import (Draw, DrawKind, DrawStatus, InspectorExclusion, Substitution, TeamMember,
                      TeamReserve)
from .eligibility import eligibility, visit_reasons
from .queries import (OPEN_VISIT_STATES, current_draw, get_draw, get_member, inspector_key,
                      inspectors_by_id, key_id, members_of, task_departments)

POOL = "inspectors"
SUBSTITUTION_REASONS = ("post_change", "schedule_conflict", "health", "recusal")
MODES = ("reserve", "approver_choice")


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
    secrets are given and checked as for the target draw (:mod:`..entropy`: a party may ask
    for a generated secret, shown once). Returns :class:`..commitments.Prepared` (the draw
    and the generated secrets). Commits."""
    _require(actor, Role.ADMIN, Role.OFFICE)
    randomness = entropy.entropy_mode(mode)
    sources = entropy.clean_sources(randomness, declared_sources)
    specs, generated = entropy.clean_secrets(secret_specs)
    entropy.check_secrecy(task, randomness, specs)
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
    settings = current_app.config["SETTINGS"]
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
        entropy_mode=randomness.value, declared_sources=sources,
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
    return commitments.Prepared(draw, generated)


# --- execute ----------------------------------------------------------------------------------

def _record_sha(record: dict) -> str:
    return hashlib.sha256(audit.canonical_json(record)).hexdigest()


def execute_team_draw(draw_id: int, *, source_values: Iterable[Any],
                      revealed: dict[str, str], actor: User | None) -> Draw:
    """Run the team draw once, assign the teams and reserves, and lock them. ``source_values``:
    per declared source a string (split on spaces and commas) or a list. Commits.
    A second execution is refused with :class:`Conflict`; the first result stands."""
    _require(actor, Role.ADMIN, Role.OFFICE)
    draw = commitments.lock(get_draw(draw_id).id)
    values = entropy.values_to_draw(draw, source_values)
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
