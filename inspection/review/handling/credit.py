"""The employer's credit after a result (seed 000 六, 002 四(六), 004 第二十三条): a finding may
propose a change of the employer's risk grade and/or a flag (serious violation 重大违法 ...).

The office proposes with a reason, with the determination or after it; an approver decides
(four eyes, the authority of determinations in the visit's lead department: the grade steers
every later draw, so one person never changes it alone on the strength of their own
finding). Accepting changes the employer through the directory's own operation
(:func:`inspection.directory.employers.operations.update_employer`), so the grade history
keeps the change with the reason and the proposal's number, and the next target draw reads
the new grade and flags (its pools are by grade; directed tasks filter on flags).
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from ...core import audit
from ...core.errors import Conflict, DomainError, NotFound, ValidationFailed
from ...core.models import User, utcnow
from ...directory.models import DirectoryChange, Employer
from ...extensions import db
from ...fieldwork.models import Visit
from .. import operations as review_ops
from ..models import Decision
from .models import GradeProposal
from .operations import _result, check_decider
from .schemas import FLAG_FIELDS, GRADE_CODES
from ...directory.employers import operations as employers


def get_proposal(proposal_id: int) -> GradeProposal:
    row = db.session.get(GradeProposal, proposal_id)
    if row is None:
        raise NotFound(_("No such grade proposal."))
    return row


def _changes(employer: Employer, risk_grade: str | None, flags: dict[str, bool]
             ) -> dict[str, Any]:
    """The directory values the proposal changes (empty: nothing would change)."""
    values: dict[str, Any] = {}
    if risk_grade and risk_grade != employer.risk_grade:
        values["risk_grade"] = risk_grade
    for name, value in (flags or {}).items():
        if bool(value) != bool(getattr(employer, name)):
            values[name] = bool(value)
    return values


def propose_grade(number: str, risk_grade: str | None, flags: dict[str, bool], reason: str,
                  *, actor: User) -> GradeProposal:
    """The office proposes a grade and/or flags for the employer of an approved result."""
    visit = review_ops.get_visit(number)
    det = _result(visit)
    employer = visit.employer
    reason = (reason or "").strip()
    errors = {}
    if risk_grade is not None and risk_grade not in GRADE_CODES:
        errors["risk_grade"] = [_("Choose one of the listed values.")]
    if any(name not in FLAG_FIELDS for name in flags or {}):
        errors["flags"] = [_("Choose one of the listed values.")]
    if not reason:
        errors["reason"] = [_("Required.")]
    if not errors and not _changes(employer, risk_grade, flags):
        errors["risk_grade"] = [_("The employer has this grade and these flags already.")]
    if errors:
        raise ValidationFailed(_("Some values are not valid."), fields=errors)
    flags = {name: bool(v) for name, v in (flags or {}).items()}
    pending = db.session.scalar(select(GradeProposal).where(
        GradeProposal.employer_id == employer.id,
        GradeProposal.status == Decision.PROPOSED.value).limit(1))
    if pending is not None:
        if (pending.proposed_by_id, pending.visit_id, pending.risk_grade, pending.flags,
                pending.reason) == (actor.id, visit.id, risk_grade, flags, reason):
            return pending  # a double submit
        raise Conflict(_("A grade proposal for this employer is already waiting for a "
                         "decision."))
    row = GradeProposal(employer_id=employer.id, visit_id=visit.id, determination_id=det.id,
                        from_grade=employer.risk_grade, risk_grade=risk_grade, flags=flags,
                        reason=reason, status=Decision.PROPOSED.value,
                        proposed_by_id=actor.id, proposed_at=utcnow(), decision_reason="")
    db.session.add(row)
    db.session.flush()
    audit.record("credit.propose", "grade_proposal", row.id,
                 {"visit": visit.number, "employer": employer.credit_code,
                  "from": employer.risk_grade, "to": risk_grade, "flags": flags,
                  "reason": reason}, actor=actor)
    db.session.commit()
    return row


def decide_grade(proposal_id: int, approve: bool, reason: str, *,
                 actor: User) -> GradeProposal:
    """Accept (the employer's grade and flags change through the directory, its history
    keeping the reason and the proposal's number) or reject, with a reason either way."""
    row = get_proposal(proposal_id)
    visit = db.session.get(Visit, row.visit_id)
    reason = (reason or "").strip()
    check_decider(actor, visit, row.proposed_by_id)
    if not reason:
        raise ValidationFailed(_("Give the reason of your decision."),
                               fields={"reason": [_("Required.")]})
    try:
        if row.status != Decision.PROPOSED.value or not review_ops._decide(
                GradeProposal, row, approve, reason, actor):
            return review_ops._already(row, approve, actor)
        if not approve:
            audit.record("credit.reject", "grade_proposal", row.id,
                         {"visit": visit.number, "reason": reason}, actor=actor)
            db.session.commit()
            return row

        employer = db.session.get(Employer, row.employer_id)
        values = _changes(employer, row.risk_grade, row.flags or {})
        audit.record("credit.accept", "grade_proposal", row.id,
                     {"visit": visit.number, "employer": employer.credit_code,
                      "changes": values, "reason": reason}, actor=actor)
        text = _("Grade proposal #%(id)d after the result of visit %(visit)s: %(why)s "
                 "(accepted: %(decision)s)", id=row.id, visit=visit.number, why=row.reason,
                 decision=reason)
        if values:
            # the directory's own operation: its history, its audit entry; it commits
            employers.update_employer(employer, values, version=employer.version,
                                      reason=text, actor=actor)
            row.directory_change_id = db.session.scalar(
                select(func.max(DirectoryChange.id)).where(
                    DirectoryChange.subject_type == "employer",
                    DirectoryChange.subject_id == employer.id))
        db.session.commit()
        return row
    except DomainError:
        db.session.rollback()
        raise


def proposals_of(employer_id: int) -> list[GradeProposal]:
    return db.session.scalars(select(GradeProposal).where(
        GradeProposal.employer_id == employer_id).order_by(GradeProposal.id)).all()
