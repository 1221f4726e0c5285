"""Handling decisions (处理决定) for the problems of an approved result, their referral letters,
deadlines and outcomes (seed 001 第十四条, 000 四, 004 第十九条(三), 002 四(七); docs/handling.md).

The path of one decision, for one problem of the bureau's current result::

    proposed (office) --approve (approver, four eyes)--> approved --send (office)--> sent
             \\--reject (with reasons)--> rejected (the office proposes again)
    sent --outcome (office)--> outcome recorded (published with the result)

Every step is one function here: it checks who may act, changes the state, writes the audit
trail in the same transaction and commits. A decision is taken by a conditional UPDATE (of two
approvers exactly one wins, the other gets 409); the same person submitting the same step
twice gets the stored row.

Clocks (working days, :mod:`inspection.core.workdays`):

* the referral: sent within ``REFERRAL_WORKDAYS`` (7) working days of the result, i.e. of the
  local day the determination was approved (seed 004 第十九条(三));
* the visit's handling: every problem that needs a decision sent within ``HANDLING_WORKDAYS``
  (10) working days of the end of the check (seed 002 四(七)).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from ...core import audit, storage
from ...core.authority import Act, check_approver
from ...core.errors import Conflict, DomainError, NotFound, PermissionDenied, \
    ValidationFailed
from ...core.models import Role, User, utcnow
from ...core.timeutil import to_local
from ...core.workdays import deadline_info
from ...extensions import db
from ...fieldwork.models import RecordRevision, Visit, VisitStatus
from .. import operations as review_ops
from ..models import Decision, Determination, Handling
from .models import GradeProposal, HandlingDecision, HandlingKind
from ..documents import _questions
from ...fieldwork.documents import render_pdf
from ...jobs.registry import JobFile
from ...jobs.operations import submit

#: The file store's area of the referral letters as sent.
AREA = "handling"
#: The determination's handlings that need a handling decision (the others are handled by
#: the order itself: rectified on site, a rectification order, a follow-up).
NEEDS_DECISION = (Handling.REFERRAL.value, Handling.PENALTY.value)
#: Visit states in which the result is approved (handling may start).
RESULT_STATES = (VisitStatus.DETERMINED.value, VisitStatus.PUBLISHED.value,
                 VisitStatus.WITHHELD.value)
OPEN = (Decision.PROPOSED.value, Decision.APPROVED.value)


def _settings():
    return current_app.config["SETTINGS"]


def kind_labels() -> dict[str, str]:
    return {HandlingKind.PENALTY.value: _("Administrative penalty"),
            HandlingKind.TRANSFER_AGENCY.value: _("Transfer to another administrative agency"),
            HandlingKind.TRANSFER_JUDICIARY.value: _("Transfer to the judiciary"),
            HandlingKind.REFERRAL_IN_HOUSE.value: _("Referral within the bureau"),
            HandlingKind.REFERRAL_DEPARTMENT.value: _("Referral to the competent department")}


# --- reading ----------------------------------------------------------------------------------

def problems_of(det: Determination | None) -> list[tuple[int, dict]]:
    """``(index, finding)`` of the determination's problems (findings with a handling)."""
    if det is None:
        return []
    return [(n, f) for n, f in enumerate(det.findings or []) if f.get("handling")]


def needs_decision(finding: dict) -> bool:
    return (finding.get("handling") or "") in NEEDS_DECISION


def result_day(det: Determination) -> date:
    """The local day of the result (the determination's approval)."""
    return to_local(det.decided_at).date()


def referral_due(det: Determination) -> dict[str, Any]:
    """``{"deadline", "missing_year"}``: REFERRAL_WORKDAYS working days after the result."""
    return deadline_info(result_day(det), _settings().REFERRAL_WORKDAYS)


def check_day_of(det: Determination) -> date | None:
    """The day of the check of the record the determination is based on."""
    row = db.session.execute(select(RecordRevision.body, RecordRevision.received_at)
                             .where(RecordRevision.id == det.revision_id)).first()
    return review_ops.check_day(row.body, row.received_at) if row else None


def clock(start: date | None, problems: list[tuple[int, dict]],
          decisions: dict[int, HandlingDecision]) -> dict[str, Any] | None:
    """The visit's handling clock: HANDLING_WORKDAYS after the check, complete when every
    problem that needs a decision has one sent (None: no such problem)."""
    required = [n for n, f in problems if needs_decision(f)]
    if not required or start is None:
        return None
    workdays = _settings().HANDLING_WORKDAYS
    info = deadline_info(start, workdays)
    sent = [decisions[n].sent_on for n in required
            if n in decisions and decisions[n].sent_on is not None]
    complete_on = max(sent) if len(sent) == len(required) else None
    on_time = None
    if complete_on is not None and info["deadline"] is not None:
        on_time = complete_on <= info["deadline"]
    return {"start": start, "workdays": workdays, "deadline": info["deadline"],
            "missing_year": info["missing_year"], "complete_on": complete_on,
            "on_time": on_time}


def get_decision(decision_id: int) -> HandlingDecision:
    row = db.session.get(HandlingDecision, decision_id)
    if row is None:
        raise NotFound(_("No such handling decision."))
    return row


def _result(visit: Visit) -> Determination:
    det = review_ops.current_determination(visit)
    if det is None or visit.status not in RESULT_STATES:
        raise Conflict(_("Handling is decided once the result is approved."))
    return det


def _current_of(row: HandlingDecision) -> tuple[Visit, Determination]:
    """The decision's visit and determination; refused when a correction replaced it."""
    visit = db.session.get(Visit, row.visit_id)
    det = db.session.get(Determination, row.determination_id)
    if det.superseded_at is not None:
        raise Conflict(_("The result was corrected: the corrected result's problems get "
                         "their own handling decisions."))
    return visit, det


def _today() -> date:
    return review_ops.today()


# --- proposing and deciding -------------------------------------------------------------------

def propose(number: str, problem: int, kind: str, recipient: str, matter: str = "", *,
            actor: User) -> HandlingDecision:
    """The office proposes the handling decision of one problem of the current result."""
    visit = review_ops.get_visit(number)
    det = _result(visit)
    findings = det.findings or []
    if problem < 0 or problem >= len(findings) or not findings[problem].get("handling"):
        raise ValidationFailed(_("Some values are not valid."), fields={
            "problem": [_("Choose a problem of the result.")]})
    if kind not in {k.value for k in HandlingKind}:
        raise ValidationFailed(_("Some values are not valid."),
                               fields={"kind": [_("Choose one of the listed values.")]})
    recipient, matter = (recipient or "").strip(), (matter or "").strip()
    if not recipient:
        raise ValidationFailed(_("Some values are not valid."),
                               fields={"recipient": [_("Required.")]})
    stored = db.session.scalar(select(HandlingDecision).where(
        HandlingDecision.determination_id == det.id, HandlingDecision.problem == problem,
        HandlingDecision.status.in_(OPEN)).limit(1))
    if stored is not None:
        if (stored.proposed_by_id, stored.kind, stored.recipient, stored.matter) == (
                actor.id, kind, recipient, matter):
            return stored  # a double submit
        raise Conflict(_("This problem has a handling decision already."))
    info = referral_due(det)
    finding = findings[problem]
    row = HandlingDecision(visit_id=visit.id, determination_id=det.id, problem=problem,
                           item=finding.get("item") or "", question=finding.get("question"),
                           kind=kind, recipient=recipient, matter=matter,
                           status=Decision.PROPOSED.value, proposed_by_id=actor.id,
                           proposed_at=utcnow(), deadline=info["deadline"],
                           deadline_year=info["missing_year"], decision_reason="",
                           outcome="")
    db.session.add(row)
    db.session.flush()
    audit.record("handling.propose", "handling_decision", row.id,
                 {"visit": visit.number, "determination": det.id, "problem": problem,
                  "kind": kind, "recipient": recipient,
                  "deadline": _iso(row.deadline), "deadline_year": row.deadline_year},
                 actor=actor)
    db.session.commit()
    return row


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def check_decider(actor: User, visit: Visit, proposer_id: int) -> None:
    """Who decides a handling decision or a grade proposal: an approver holding the position
    that approves determinations (``APPROVE_DETERMINATION``) in the lead department of the
    visit, not the proposer, not anyone ever on the visit's team."""
    check_approver(actor, Act.DETERMINATION, department_id=review_ops.lead_department_id(visit),
                   proposer_id=proposer_id, participant_ids=review_ops.participant_ids(visit))


def decide(decision_id: int, approve: bool, reason: str = "", *,
           actor: User) -> HandlingDecision:
    """The approver approves the handling decision or rejects it with reasons."""
    row = get_decision(decision_id)
    visit, _det = _current_of(row)
    reason = (reason or "").strip()
    check_decider(actor, visit, row.proposed_by_id)
    if not approve and not reason:
        raise ValidationFailed(_("Say why it is rejected."), fields={"reason": [_("Required.")]})
    if row.status != Decision.PROPOSED.value or not review_ops._decide(
            HandlingDecision, row, approve, reason, actor):
        return review_ops._already(row, approve, actor)
    audit.record("handling." + ("approve" if approve else "reject"), "handling_decision",
                 row.id, {"visit": visit.number, "problem": row.problem, "kind": row.kind,
                          "reason": reason}, actor=actor)
    db.session.commit()
    return row


def record_sending(decision_id: int, sent_on: date, *, actor: User) -> HandlingDecision:
    """The office records the day the approved decision was sent with its letter; whether the
    referral deadline was met is recorded. The letter as sent goes to the file store (a job)."""
    row = get_decision(decision_id)
    visit, det = _current_of(row)
    if row.status != Decision.APPROVED.value:
        raise Conflict(_("Only an approved handling decision is sent."))
    if row.sent_on is not None:
        if row.sent_on == sent_on:
            return row  # a double submit
        raise Conflict(_("This decision was sent already, on %(day)s.",
                         day=row.sent_on.isoformat()))
    errors = {}
    if sent_on < result_day(det):
        errors["sent_on"] = [_("Not before %(day)s.", day=result_day(det).isoformat())]
    elif sent_on > _today():
        errors["sent_on"] = [_("This date is in the future.")]
    if errors:
        raise ValidationFailed(_("Some values are not valid."), fields=errors)
    if row.deadline is None and row.deadline_year is not None:
        info = referral_due(det)   # the year's calendar may have been entered since
        row.deadline, row.deadline_year = info["deadline"], info["missing_year"]
        db.session.flush()
    on_time = None if row.deadline is None else sent_on <= row.deadline
    done = db.session.execute(update(HandlingDecision).where(
        HandlingDecision.id == row.id, HandlingDecision.sent_on.is_(None)).values(
        sent_on=sent_on, sent_by_id=actor.id, sent_at=utcnow(), on_time=on_time)).rowcount
    db.session.refresh(row)
    if not done:
        if row.sent_on == sent_on:
            return row
        raise Conflict(_("Someone else acted on this decision just now; reload the page."))
    audit.record("handling.send", "handling_decision", row.id,
                 {"visit": visit.number, "problem": row.problem, "kind": row.kind,
                  "sent_on": sent_on.isoformat(), "deadline": _iso(row.deadline),
                  "on_time": on_time}, actor=actor)
    db.session.commit()
    _submit_letter(row, actor)
    return row


def record_outcome(decision_id: int, outcome: str, outcome_on: date, *,
                   actor: User) -> HandlingDecision:
    """What came back from the recipient (处理结果反馈), published with the result."""
    row = get_decision(decision_id)
    visit = db.session.get(Visit, row.visit_id)
    outcome = (outcome or "").strip()
    if row.sent_on is None:
        raise Conflict(_("The outcome is recorded once the decision was sent."))
    if row.outcome_on is not None:
        if row.outcome == outcome and row.outcome_on == outcome_on:
            return row
        raise Conflict(_("The outcome of this decision is recorded already."))
    errors = {}
    if not outcome:
        errors["outcome"] = [_("Required.")]
    if outcome_on < row.sent_on:
        errors["outcome_on"] = [_("Not before %(day)s.", day=row.sent_on.isoformat())]
    elif outcome_on > _today():
        errors["outcome_on"] = [_("This date is in the future.")]
    if errors:
        raise ValidationFailed(_("Some values are not valid."), fields=errors)
    done = db.session.execute(update(HandlingDecision).where(
        HandlingDecision.id == row.id, HandlingDecision.outcome_on.is_(None)).values(
        outcome=outcome, outcome_on=outcome_on, outcome_by_id=actor.id,
        outcome_at=utcnow())).rowcount
    db.session.refresh(row)
    if not done:
        raise Conflict(_("Someone else acted on this decision just now; reload the page."))
    audit.record("handling.outcome", "handling_decision", row.id,
                 {"visit": visit.number, "problem": row.problem,
                  "outcome_on": outcome_on.isoformat(), "outcome": outcome}, actor=actor)
    db.session.commit()
    return row


# --- the referral letter ----------------------------------------------------------------------

def letter_context(row: HandlingDecision) -> dict[str, Any]:

    if row.status != Decision.APPROVED.value:
        raise Conflict(_("The letter is made once the decision is approved."))
    visit = db.session.get(Visit, row.visit_id)
    det = db.session.get(Determination, row.determination_id)
    _items, texts = _questions(visit)
    finding = (det.findings or [])[row.problem]
    return {"bureau": _settings().BUREAU_NAME, "visit": visit, "employer": visit.employer,
            "decision": row, "kind_label": kind_labels().get(row.kind, row.kind),
            "subject": texts.get((row.item, row.question)) or texts.get((row.item, None))
            or row.item, "finding": finding.get("finding") or "",
            "note": finding.get("note") or "", "check_date": check_day_of(det),
            "determined_on": result_day(det), "issued_on": row.sent_on or _today(),
            "draft": row.sent_on is None}


def render_letter(row: HandlingDecision) -> bytes:

    return render_pdf("review/handling/letter.html", letter_context(row))


def letter_pdf(row: HandlingDecision) -> bytes:
    """The letter as sent (from the store) once it is kept, else made now (a draft until the
    decision is sent)."""
    if row.letter_sha256:
        try:
            return storage.read(AREA, row.letter_sha256)
        except storage.StoreError:
            pass
    return render_letter(row)


def store_letter(params: dict, progress=None):
    """The job: render the letter of a sent decision and keep it in the store (safe to run
    again: the same letter has the same hash)."""

    row = db.session.get(HandlingDecision, int(params["decision"]))
    if row is None or row.sent_on is None:
        return None
    if progress:
        progress(0, 1)
    sha = storage.put(AREA, render_letter(row))
    if row.letter_sha256 != sha:
        row.letter_sha256 = sha
        audit.record("handling.letter", "handling_decision", row.id,
                     {"sha256": sha}, actor=None)
        db.session.commit()
    if progress:
        progress(1, 1)
    visit = db.session.get(Visit, row.visit_id)
    return JobFile(AREA, sha, f"referral-{visit.number}-{row.id}.pdf", "application/pdf")


def _submit_letter(row: HandlingDecision, actor: User) -> None:
    """Queue the letter's rendering (the job queue, docs/jobs.md)."""
    submit("handling_letter", {"decision": row.id}, actor)


# --- the state of one visit (page and API) ----------------------------------------------------

def _names(ids) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name)
                                   .where(User.id.in_(wanted))).all())


def _may_decide(user: User, visit: Visit, proposer_id: int) -> bool:
    try:
        check_decider(user, visit, proposer_id)
    except PermissionDenied:
        return False
    return True


def state(visit: Visit, user: User) -> dict[str, Any]:
    """What the review page's "Handling" section and the API show: the current result's
    problems with their decisions (and the earlier ones), the clocks, the grade proposals, and
    the acts ``user`` may do. A fixed number of statements."""
    det = review_ops.current_determination(visit) if visit.status in RESULT_STATES else None
    decisions = db.session.scalars(select(HandlingDecision).where(
        HandlingDecision.visit_id == visit.id).order_by(HandlingDecision.id)).all()
    proposals = db.session.scalars(select(GradeProposal).where(
        GradeProposal.visit_id == visit.id).order_by(GradeProposal.id)).all()
    office = user.has_role(Role.OFFICE)
    approver = user.has_role(Role.APPROVER)
    problems, current = [], {}
    for d in decisions:
        if det is not None and d.determination_id == det.id and d.status in OPEN:
            current[d.problem] = d
    texts: dict = {}
    if det is not None and problems_of(det):

        texts = _questions(visit)[1]
    for n, f in problems_of(det):
        history = [d for d in decisions if d.determination_id == det.id and d.problem == n]
        decision = current.get(n)
        acts = []
        if decision is None and office:
            acts.append("propose")
        elif decision is not None:
            if decision.status == Decision.PROPOSED.value and approver \
                    and _may_decide(user, visit, decision.proposed_by_id):
                acts.append("decide")
            if decision.status == Decision.APPROVED.value:
                acts.append("letter")
                if office and decision.sent_on is None:
                    acts.append("send")
                if office and decision.sent_on is not None and decision.outcome_on is None:
                    acts.append("outcome")
        subject = texts.get((f.get("item"), f.get("question"))) \
            or texts.get((f.get("item"), None)) or f.get("item") or ""
        problems.append({"problem": n, "item": f.get("item") or "", "subject": subject,
                         "question": f.get("question"), "finding": f.get("finding") or "",
                         "handling": f.get("handling"), "required": needs_decision(f),
                         "decision": decision, "history": history, "actions": acts})
    earlier = [d for d in decisions if det is None or d.determination_id != det.id]
    due = referral_due(det) if det is not None else {"deadline": None, "missing_year": None}
    pending = next((p for p in proposals if p.status == Decision.PROPOSED.value), None)
    actions = []
    if det is not None and office and pending is None:
        actions.append("propose_grade")
    if pending is not None and approver and _may_decide(user, visit, pending.proposed_by_id):
        actions.append("decide_grade")
    people = [d.proposed_by_id for d in decisions] + [d.decided_by_id for d in decisions] \
        + [d.sent_by_id for d in decisions] + [d.outcome_by_id for d in decisions] \
        + [p.proposed_by_id for p in proposals] + [p.decided_by_id for p in proposals]
    return {"visit": visit.number, "determination": det,
            "determination_id": det.id if det else None,
            "referral_deadline": due["deadline"], "referral_missing_year": due["missing_year"],
            "clock": clock(check_day_of(det), problems_of(det), current) if det else None,
            "problems": problems, "earlier": earlier, "proposals": proposals,
            "pending_proposal": pending, "actions": actions, "names": _names(people),
            "employer": visit.employer}


def rollback_on_error(work):
    """Run ``work``; on a domain error roll the session back and raise it again."""
    try:
        return work()
    except DomainError:
        db.session.rollback()
        raise
