"""Rectification follow-up visits (复查, seed 002 五(三)): made when a result with
rectification orders is approved, given to other inspectors only with approval.

A follow-up is a :class:`Visit` whose ``follows_id`` names the visit it checks again. It is
not drawn: it has no :class:`VisitTask` links and serves the tasks of the visit it follows
(``fieldwork.visits`` resolves them), so a target draw's record, its picks and the tasks'
progress never count it. Its team is the team that found the problem (copied, leader
included); its window opens the day after the latest order's due date and ends
``FOLLOW_UP_WORKDAYS`` working days after that date. The field app's pack of a follow-up
holds only what the original's sealed record found non-compliant
(``fieldwork.common.follow_up_scope``). See docs/followup.md.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ...core import audit
from ...core.authority import Act, check_approver
from ...core.errors import Conflict, NotFound, ValidationFailed
from ...core.models import User, utcnow
from ...core.workdays import deadline_info
from ...directory.models import Inspector, InspectorStatus
from ...draws.models import TeamMember
from ...draws.team import queries as team_queries
from ...extensions import db
from ...fieldwork.models import Visit, VisitStatus
from ...fieldwork.visits import visit_number
from ...planning.models import AnnualPlan
from .. import operations as review
from ..models import Decision, Determination, Handling
from .models import FollowUpReassignment

#: How a member joined a follow-up's team (``TeamMember.source``).
SOURCE = "follow_up"
#: A follow-up that has not started may be given to other inspectors.
NOT_STARTED = (VisitStatus.PLANNED.value, VisitStatus.ASSIGNED.value)
#: At least two inspectors on site (the statutes behind the seeds, DOMAIN.md).
MIN_TEAM = 2


def _settings():
    return current_app.config["SETTINGS"]


def order_dues(det: Determination) -> list[date]:
    """The due dates of the determination's rectification orders."""
    dues = []
    for finding in det.findings or []:
        if finding.get("handling") == Handling.RECTIFICATION_ORDER.value and finding.get("due"):
            dues.append(date.fromisoformat(str(finding["due"])[:10]))
    return dues


def follow_up_of(visit: Visit) -> Visit | None:
    """The follow-up made for ``visit`` (one per visit), or None."""
    return db.session.scalar(select(Visit).where(Visit.follows_id == visit.id)
                             .order_by(Visit.id).limit(1))


def _next_number(year: int) -> str:
    """The next public number of the year, as the draws number their visits. The year's
    plan rows are locked first (the lock target draws take), so that a draw placing visits
    at the same moment cannot take the same number."""
    db.session.execute(update(AnnualPlan).where(AnnualPlan.year == year)
                       .values(year=AnnualPlan.year))
    prefix = f"{year}-"
    last = db.session.scalar(select(func.max(Visit.number)).where(
        Visit.number.startswith(prefix), func.length(Visit.number) == len(prefix) + 6))
    return visit_number(year, (int(last[len(prefix):]) if last else 0) + 1)


def schedule(visit: Visit, det: Determination, actor: User | None) -> Visit | None:
    """The hook on an approved determination (``app.extensions["determination_approved"]``,
    called inside the approval's transaction, which commits): when the result orders a
    rectification, make the follow-up visit. None when there is no order, or when the visit
    has its follow-up already."""
    dues = order_dues(det)
    if not dues:
        return None
    existing = follow_up_of(visit)
    if existing is not None:
        return None
    due = max(dues)
    workdays = _settings().FOLLOW_UP_WORKDAYS
    info = deadline_info(due, workdays)
    start = due + timedelta(days=1)
    # A window ending in a year with no calendar is never counted on weekends alone: it
    # ends where it starts until the year is entered (the audit names the missing year).
    end = info["deadline"] or start
    follow = Visit(number=_next_number(visit.year), year=visit.year,
                   employer_id=visit.employer_id, status=VisitStatus.ASSIGNED.value,
                   window_start=start, window_end=end, created_at=utcnow(),
                   follows_id=visit.id)
    db.session.add(follow)
    db.session.flush()
    team = team_queries.members_of(visit)
    now = utcnow()
    for member in team:
        db.session.add(TeamMember(visit_id=follow.id, inspector_id=member.inspector_id,
                                  department_id=member.department_id,
                                  is_leader=member.is_leader, draw_id=None, source=SOURCE,
                                  joined_at=now))
    db.session.flush()
    audit.record("followup.schedule", "visit", follow.id,
                 {"visit": follow.number, "follows": visit.number, "determination": det.id,
                  "order_due": due.isoformat(), "window": [start.isoformat(), end.isoformat()],
                  "workdays": workdays, "deadline_missing_year": info["missing_year"],
                  "team": [m.inspector_id for m in team]}, actor=actor)
    return follow


# --- giving a follow-up to other inspectors ---------------------------------------------------

def _follow_up(number: str) -> Visit:
    visit = review.get_visit(number)
    if visit.follows_id is None:
        raise NotFound(_("This visit is not a rectification follow-up."))
    return visit


def request_reassignment(number: str, inspector_ids: list[int], reason: str, *,
                         actor: User) -> FollowUpReassignment:
    """The office asks to give a follow-up that has not started to other inspectors (the
    first named leads); an approver decides (:func:`decide_reassignment`)."""
    visit = _follow_up(number)
    reason = (reason or "").strip()
    ids = list(dict.fromkeys(int(i) for i in inspector_ids or []))
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Required.")]
    if len(ids) < MIN_TEAM:
        errors["inspector_ids"] = [_("Name at least %(n)d inspectors.", n=MIN_TEAM)]
    else:
        known = set(db.session.scalars(select(Inspector.id).where(
            Inspector.id.in_(ids), Inspector.status == InspectorStatus.AVAILABLE.value)))
        if known != set(ids):
            errors["inspector_ids"] = [_("Choose active inspectors of the directory.")]
    if errors:
        raise ValidationFailed(_("Some values are not valid."), fields=errors)
    if visit.status not in NOT_STARTED:
        raise Conflict(_("This follow-up has started; its team stays."))
    pending = db.session.scalar(select(FollowUpReassignment).where(
        FollowUpReassignment.visit_id == visit.id,
        FollowUpReassignment.status == Decision.PROPOSED.value))
    if pending is not None:
        if pending.proposed_by_id == actor.id and pending.inspector_ids == ids \
                and pending.reason == reason:
            return pending  # a double submit
        raise Conflict(_("A change of this follow-up's team is already waiting for approval."))
    row = FollowUpReassignment(visit_id=visit.id, inspector_ids=ids, reason=reason,
                               status=Decision.PROPOSED.value, proposed_by_id=actor.id,
                               proposed_at=utcnow())
    db.session.add(row)
    db.session.flush()
    audit.record("followup.reassign.request", "visit", visit.id,
                 {"visit": visit.number, "request": row.id, "inspectors": ids,
                  "reason": reason}, actor=actor)
    db.session.commit()
    return row


def get_reassignment(request_id: int) -> FollowUpReassignment:
    row = db.session.get(FollowUpReassignment, request_id)
    if row is None:
        raise NotFound(_("No such request."))
    return row


def decide_reassignment(request_id: int, approve: bool, reason: str = "", *,
                        actor: User) -> FollowUpReassignment:
    """An approver of the department that owns the visit (the position the substitution
    setting names) decides; four eyes: not the requester, nobody ever on the visit's team
    nor on the team asked for. On approval the current members are replaced (kept on
    record) and the new team joins."""
    row = get_reassignment(request_id)
    visit = db.session.get(Visit, row.visit_id)
    reason = (reason or "").strip()
    newcomers = set(db.session.scalars(select(Inspector.user_id).where(
        Inspector.id.in_(row.inspector_ids), Inspector.user_id.is_not(None))))
    check_approver(actor, Act.SUBSTITUTION, department_id=review.lead_department_id(visit),
                   proposer_id=row.proposed_by_id,
                   participant_ids=review.participant_ids(visit) | newcomers)
    if not approve and not reason:
        raise ValidationFailed(_("Say why the request is rejected."),
                               fields={"reason": [_("Required.")]})
    if approve and visit.status not in NOT_STARTED:
        raise Conflict(_("This follow-up has started; its team stays."))
    values = {"status": (Decision.APPROVED if approve else Decision.REJECTED).value,
              "decided_by_id": actor.id, "decided_at": utcnow(), "decision_reason": reason}
    done = db.session.execute(update(FollowUpReassignment).where(
        FollowUpReassignment.id == row.id,
        FollowUpReassignment.status == Decision.PROPOSED.value).values(**values)).rowcount
    db.session.refresh(row)
    if not done:
        if row.decided_by_id == actor.id and row.status == values["status"]:
            return row  # a double submit
        raise Conflict(_("This was decided already; reload the page."))
    if approve:
        now = utcnow()
        people = {i.id: i for i in db.session.scalars(
            select(Inspector).where(Inspector.id.in_(row.inspector_ids)))}
        db.session.execute(update(TeamMember).where(
            TeamMember.visit_id == visit.id, TeamMember.replaced_at.is_(None))
            .values(replaced_at=now))
        for n, inspector_id in enumerate(row.inspector_ids):
            db.session.add(TeamMember(visit_id=visit.id, inspector_id=inspector_id,
                                      department_id=people[inspector_id].department_id,
                                      is_leader=n == 0, draw_id=None, source=SOURCE,
                                      joined_at=now))
    audit.record("followup.reassign." + ("approve" if approve else "reject"), "visit",
                 visit.id, {"visit": visit.number, "request": row.id,
                            "inspectors": row.inspector_ids, "reason": reason}, actor=actor)
    db.session.commit()
    return row
