"""After the visit: the operations (DOMAIN.md "After the visit"; docs/review.md).

Every step is one function here, called by the office's pages, the JSON API, the CLI and the
tests alike. Each checks who may act (four eyes through :mod:`inspection.core.authority`),
changes the state, writes the audit trail in the same transaction and commits.

Races: a decision is taken by a conditional UPDATE (``... WHERE status = 'proposed'``), so
of two approvers deciding the same thing at once exactly one wins and the other gets a
:class:`Conflict` (409). A double submit by the same person of the same decision is answered
with the stored result.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta, timezone
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..core import audit, storage
from ..core.authority import Act, check_approver
from ..core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ..core.models import User, utcnow
from ..core.timeutil import to_local
from ..core.workdays import deadline_info
from ..directory.models import Inspector
from ..draws.models import TeamMember
from ..extensions import db
from ..fieldwork import signing
from ..fieldwork.models import (RecordRevision, ReviewReturn, Visit, VisitStatus,
                                VisitTask)
from ..fieldwork.results import enabled_codes, label
from ..fieldwork.visits import checked_versions, link_visit_id
from ..planning.models import Task
from .models import (CorrectionOrigin, Correction, Decision, Determination, ExceptionKind,
                     Feedback, FeedbackWay, Handling, Objection, ObjectionStatus,
                     Publication, PublicationException)

AREA_FEEDBACK = "feedback"
#: Proof of delivery accepted (a scan or a photo).
PROOF_TYPES = {"image/jpeg", "image/png", "application/pdf"}
MAX_PROOF_BYTES = 10 * 1024 * 1024


def _settings():
    return current_app.config["SETTINGS"]


def today() -> date:
    """Today in Asia/Shanghai (deadlines are local dates)."""
    return to_local(utcnow()).date()


# --- reading ----------------------------------------------------------------------------------

def get_visit(number: str) -> Visit:
    visit = db.session.scalar(select(Visit).where(Visit.number == (number or "").strip()))
    if visit is None:
        raise NotFound(_("No such visit."))
    return visit


def lead_department_id(visit: Visit) -> int | None:
    """The department that owns the visit's result: the lead department of the first task
    the visit serves (the team leader's department, seed 000, 004 第十六条); a follow-up
    serves the tasks of the visit it follows."""
    return db.session.scalar(select(Task.lead_department_id)
                             .join(VisitTask, VisitTask.task_id == Task.id)
                             .where(VisitTask.visit_id == link_visit_id(visit))
                             .order_by(VisitTask.id).limit(1))


def participant_ids(visit: Visit) -> set[int]:
    """Accounts of everyone who was ever on the visit's team (replaced members included):
    none of them may approve anything about it."""
    return set(db.session.scalars(
        select(Inspector.user_id).join(TeamMember, TeamMember.inspector_id == Inspector.id)
        .where(TeamMember.visit_id == visit.id, Inspector.user_id.is_not(None))))


def sealed_revision(visit: Visit) -> RecordRevision | None:
    return signing.sealed_revision(visit)


def current_determination(visit: Visit) -> Determination | None:
    """The bureau's result of the visit: its approved determination not superseded."""
    return db.session.scalar(select(Determination).where(
        Determination.visit_id == visit.id, Determination.status == Decision.APPROVED.value,
        Determination.superseded_at.is_(None)).order_by(Determination.id.desc()).limit(1))


def pending_determination(visit: Visit) -> Determination | None:
    return db.session.scalar(select(Determination).where(
        Determination.visit_id == visit.id, Determination.status == Decision.PROPOSED.value,
        Determination.corrects_id.is_(None)).limit(1))


def publication_of(visit: Visit) -> Publication | None:
    return db.session.scalar(select(Publication).where(Publication.visit_id == visit.id))


def open_return(visit: Visit) -> ReviewReturn | None:
    return db.session.scalar(select(ReviewReturn).where(
        ReviewReturn.visit_id == visit.id, ReviewReturn.resolved_at.is_(None))
        .order_by(ReviewReturn.id.desc()).limit(1))


def check_day(body: dict | None, received_at: datetime | None) -> date | None:
    """The day of the check from a sealed revision, without a query: the arrival on site
    its body states, else the day it arrived (None when there is no revision)."""
    if received_at is None:
        return None
    arrived = ((body or {}).get("arrival") or {}).get("at")
    try:
        moment = datetime.fromisoformat(str(arrived).replace("Z", "+00:00")) if arrived else None
    except ValueError:
        moment = None
    if moment is None:
        return to_local(received_at).date()
    if moment.tzinfo is None:
        return moment.date()
    return to_local(moment.astimezone(timezone.utc).replace(tzinfo=None)).date()


def check_date(visit: Visit) -> date:
    """The day of the visit's check (:func:`check_day` of its sealed record; today when
    there is none)."""
    row = sealed_revision(visit)
    return check_day(row.body, row.received_at) if row is not None else today()


def task_end(visit: Visit) -> date:
    """The end of the latest task the visit serves (the task-completion clock)."""
    return db.session.scalar(select(func.max(Task.window_end))
                             .join(VisitTask, VisitTask.task_id == Task.id)
                             .where(VisitTask.visit_id == visit.id)) or visit.window_end


# --- checking the input of a determination ----------------------------------------------------

def _questions(visit: Visit) -> dict[str, set[str]]:
    return {code: {q.code for q in v.questions} for v, code in checked_versions(visit.id)}


def check_findings(visit: Visit, category: str, findings: list[dict]) -> list[dict]:
    """The findings, checked against the visit's items and the bureau's categories; raises
    :class:`ValidationFailed` with field errors. Returns them cleaned (dates as text)."""
    errors: dict[str, list[str]] = {}
    if category not in enabled_codes():
        errors["result_category"] = [_("Choose one of the bureau's result categories.")]
    items = _questions(visit)
    clean = []
    seen = set()
    for n, finding in enumerate(findings):
        item, question = finding.get("item"), finding.get("question") or None
        if item not in items:
            errors.setdefault(f"findings.{n}.item", []).append(
                _("This item is not checked on this visit."))
        elif question and question not in items[item]:
            errors.setdefault(f"findings.{n}.question", []).append(
                _("This question does not belong to the item."))
        if (item, question) in seen:
            errors.setdefault(f"findings.{n}.item", []).append(_("This finding is given twice."))
        seen.add((item, question))
        handling = finding.get("handling") or None
        due = finding.get("due")
        if handling == Handling.RECTIFICATION_ORDER.value and not due:
            errors.setdefault(f"findings.{n}.due", []).append(
                _("A rectification order needs its due date."))
        if due and handling != Handling.RECTIFICATION_ORDER.value:
            errors.setdefault(f"findings.{n}.due", []).append(
                _("Only a rectification order has a due date."))
        clean.append({"item": item, "question": question,
                      "finding": (finding.get("finding") or "").strip(),
                      "handling": handling,
                      "due": due.isoformat() if isinstance(due, date) else due,
                      "note": (finding.get("note") or "").strip()})
    problems = [f for f in clean if f["handling"]]
    needs_problem = category in ("not_disclosed", "false_disclosure", "rectification_ordered",
                                 "pending_follow_up", "unqualified")
    if needs_problem and not problems and "result_category" not in errors:
        errors.setdefault("findings", []).append(
            _("“%(category)s” needs at least one problem with its handling.",
              category=label(category)))
    if category in ("no_problem", "qualified") and problems:
        errors.setdefault("findings", []).append(
            _("“%(category)s” cannot stand beside a problem to handle.",
              category=label(category)))
    if errors:
        raise ValidationFailed(_("The determination is not consistent; see the fields."),
                               fields=errors)
    return clean


# --- review: return to the team ---------------------------------------------------------------

def return_record(number: str, comments: str, item_comments: list[dict], *,
                  actor: User) -> ReviewReturn:
    """Return the sealed record to its team with comments. The team corrects it as a new
    sealed revision, which puts it back in the queue (:func:`signing.after_store`)."""
    visit = get_visit(number)
    comments = (comments or "").strip()
    if visit.status == VisitStatus.RETURNED.value:
        stored = open_return(visit)
        if stored is not None and stored.comments == comments \
                and stored.returned_by_id == actor.id:
            return stored  # a double submit
        raise Conflict(_("This record was returned to the team already."))
    if visit.status != VisitStatus.RECORDED.value:
        raise Conflict(_("Only a sealed record waiting for review can be returned."))
    if not comments:
        raise ValidationFailed(_("Say what the team must correct."),
                               fields={"comments": [_("Required.")]})
    row = sealed_revision(visit)
    items = _questions(visit)
    errors = {}
    for n, c in enumerate(item_comments):
        if c.get("item") not in items or (c.get("question") and
                                         c["question"] not in items[c["item"]]):
            errors[f"item_comments.{n}.question"] = [_("This question is not on this visit.")]
    if errors:
        raise ValidationFailed(_("Some values are not valid."), fields=errors)
    if not _move(visit, VisitStatus.RECORDED, VisitStatus.RETURNED):
        raise Conflict(_("Someone else acted on this record just now; reload the page."))
    back = ReviewReturn(visit_id=visit.id, revision_id=row.id, comments=comments,
                        item_comments=[{"item": c["item"], "question": c.get("question"),
                                        "comment": c["comment"].strip()} for c in item_comments],
                        returned_by_id=actor.id, returned_at=utcnow())
    db.session.add(back)
    db.session.flush()
    audit.record("review.return", "visit", visit.id,
                 {"visit": visit.number, "revision": row.revision_uuid, "comments": comments,
                  "item_comments": back.item_comments}, actor=actor)
    db.session.commit()
    return back


def _move(visit: Visit, old: VisitStatus, new: VisitStatus) -> bool:
    """Change the visit's status if it still is ``old`` (one wins a race)."""
    done = db.session.execute(update(Visit).where(Visit.id == visit.id,
                                                  Visit.status == old.value)
                              .values(status=new.value)).rowcount
    if done:
        db.session.refresh(visit, ["status"])
    return bool(done)


# --- determination ----------------------------------------------------------------------------

def propose_determination(number: str, result_category: str, findings: list[dict],
                          summary: str = "", *, actor: User,
                          request_key: str | None = None) -> Determination:
    """The office proposes the bureau's result of a visit whose sealed record it reviewed."""
    if request_key:
        stored = db.session.scalar(select(Determination)
                                   .where(Determination.request_key == request_key))
        if stored is not None:
            if stored.proposed_by_id != actor.id:
                raise Conflict(_("This key was used for another proposal."))
            return stored
    visit = get_visit(number)
    if visit.status != VisitStatus.RECORDED.value:
        raise Conflict(_("Only a sealed record waiting for review can be determined (this "
                         "visit is %(status)s).", status=status_label(visit.status)))
    clean = check_findings(visit, result_category, findings)
    row = sealed_revision(visit)
    if not _move(visit, VisitStatus.RECORDED, VisitStatus.PROPOSED):
        raise Conflict(_("Someone else acted on this record just now; reload the page."))
    det = Determination(visit_id=visit.id, revision_id=row.id, result_category=result_category,
                        findings=clean, summary=(summary or "").strip(),
                        status=Decision.PROPOSED.value, proposed_by_id=actor.id,
                        proposed_at=utcnow(), request_key=request_key or None)
    db.session.add(det)
    db.session.flush()
    audit.record("review.determination.propose", "determination", det.id,
                 {"visit": visit.number, "revision": row.revision_uuid,
                  "result_category": result_category, "findings": clean,
                  "on_site_category": row.result_category}, actor=actor)
    db.session.commit()
    return det


def _get(model, row_id: int, missing: str):
    """The row of ``model`` by id, or :class:`NotFound` saying ``missing``."""
    row = db.session.get(model, row_id)
    if row is None:
        raise NotFound(missing)
    return row


def get_determination(determination_id: int) -> Determination:
    return _get(Determination, determination_id, _("No such determination."))


def _decide(model, row, approve: bool, reason: str, actor: User) -> bool:
    """Take the decision on a proposed row; False when it was decided already (the caller
    answers a double submit or a 409)."""
    values = {"status": (Decision.APPROVED if approve else Decision.REJECTED).value,
              "decided_by_id": actor.id, "decided_at": utcnow(), "decision_reason": reason}
    done = db.session.execute(update(model).where(model.id == row.id,
                                                  model.status == Decision.PROPOSED.value)
                              .values(**values)).rowcount
    if done:
        db.session.refresh(row)
    return bool(done)


def _already(row, approve: bool, actor: User):
    """A decided row: the stored result for the same decision by the same person, else 409."""
    db.session.refresh(row)
    wanted = (Decision.APPROVED if approve else Decision.REJECTED).value
    if row.decided_by_id == actor.id and row.status == wanted:
        return row
    raise Conflict(_("This was decided already (%(status)s); reload the page.",
                     status=decision_label(row.status)))


def decide_determination(determination_id: int, approve: bool, reason: str = "", *,
                         actor: User) -> Determination:
    """The approver approves (it becomes the bureau's result, to publish) or rejects (with
    reasons: the record goes back to the office's queue)."""
    det = get_determination(determination_id)
    visit = det.visit
    reason = (reason or "").strip()
    if det.corrects_id is not None:
        raise Conflict(_("A correction is decided as a correction."))
    check_approver(actor, Act.DETERMINATION, department_id=lead_department_id(visit),
                   proposer_id=det.proposed_by_id, participant_ids=participant_ids(visit))
    if not approve and not reason:
        raise ValidationFailed(_("Say why the determination is rejected."),
                               fields={"reason": [_("Required.")]})
    if det.status != Decision.PROPOSED.value or not _decide(Determination, det, approve,
                                                            reason, actor):
        return _already(det, approve, actor)
    if approve:
        visit.status = VisitStatus.DETERMINED.value
        publication = _open_publication(visit, det)
        summary = {"visit": visit.number, "result_category": det.result_category,
                   "publication_deadline": publication.deadline.isoformat()
                   if publication.deadline else None,
                   "deadline_missing_year": publication.deadline_year}
        audit.record("review.determination.approve", "determination", det.id, summary,
                     actor=actor)
        # What follows an approved result (a rectification follow-up, review/followup/)
        # joins this transaction through hooks, so that this module imports none of it.
        for hook in current_app.extensions.get("determination_approved", ()):
            hook(visit, det, actor)
    else:
        visit.status = VisitStatus.RECORDED.value
        audit.record("review.determination.reject", "determination", det.id,
                     {"visit": visit.number, "reason": reason}, actor=actor)
    db.session.commit()
    return det


def _open_publication(visit: Visit, det: Determination) -> Publication:
    settings = _settings()
    clock = settings.PUBLICATION_CLOCK
    start = {"determination": lambda: today(), "check_end": lambda: check_date(visit),
             "task_end": lambda: task_end(visit)}[clock]()
    info = deadline_info(start, settings.PUBLICATION_WORKDAYS)
    publication = Publication(visit_id=visit.id, status="pending", clock=clock,
                              clock_start=start, workdays=settings.PUBLICATION_WORKDAYS,
                              deadline=info["deadline"], deadline_year=info["missing_year"])
    db.session.add(publication)
    db.session.flush()
    return publication


# --- publication ------------------------------------------------------------------------------

def _pending_publication(visit: Visit) -> Publication:
    publication = publication_of(visit)
    if publication is None or visit.status not in (VisitStatus.DETERMINED.value,
                                                   VisitStatus.PUBLISHED.value,
                                                   VisitStatus.WITHHELD.value):
        raise Conflict(_("Only an approved result can be published."))
    return publication


def _on_time(deadline: date | None, day: date) -> bool | None:
    return None if deadline is None else day <= deadline


def refresh_deadline(publication: Publication) -> None:
    """Count a deadline that fell in a year without a calendar again, once the bureau has
    entered that year (no commit: the caller's change commits it)."""
    if publication.deadline is None and publication.deadline_year is not None:
        info = deadline_info(publication.clock_start, publication.workdays)
        publication.deadline, publication.deadline_year = info["deadline"], info["missing_year"]


def publish(number: str, *, actor: User) -> Publication:
    """Put the approved result on the public results page; its publication period starts."""
    visit = get_visit(number)
    publication = _pending_publication(visit)
    if publication.status == "published":
        return publication  # a double submit
    if publication.status == "withheld":
        raise Conflict(_("This result is withheld from publication by an approved exception."))
    if db.session.scalar(select(PublicationException.id).where(
            PublicationException.visit_id == visit.id,
            PublicationException.status == Decision.PROPOSED.value)):
        raise Conflict(_("An exception from publication is waiting for approval: decide it "
                         "first."))
    refresh_deadline(publication)
    db.session.flush()
    now, day = utcnow(), today()
    done = db.session.execute(update(Publication).where(
        Publication.id == publication.id, Publication.status == "pending").values(
        status="published", published_at=now, published_by_id=actor.id,
        on_time=_on_time(publication.deadline, day),
        period_end=day + timedelta(days=_settings().PUBLICATION_PERIOD_DAYS))).rowcount
    db.session.refresh(publication)
    if not done:
        if publication.status == "published":
            return publication
        raise Conflict(_("Someone else acted on this result just now; reload the page."))
    visit.status = VisitStatus.PUBLISHED.value
    audit.record("review.publish", "visit", visit.id,
                 {"visit": visit.number, "deadline": _iso(publication.deadline),
                  "on_time": publication.on_time, "period_end": _iso(publication.period_end)},
                 actor=actor)
    db.session.commit()
    return publication


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def propose_exception(number: str, kind: str, reason: str, *,
                      actor: User) -> PublicationException:
    """Propose to withhold an approved result from publication (state secrets, national or
    public security, not fit for disclosure by law), with the reason on record."""
    visit = get_visit(number)
    publication = _pending_publication(visit)
    if publication.status != "pending":
        raise Conflict(_("Only a result not yet published can be withheld."))
    if kind not in {k.value for k in ExceptionKind}:
        raise ValidationFailed(_("Choose why it is withheld."), fields={"kind": [_("Required.")]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the reason on record."), fields={"reason": [_("Required.")]})
    pending = db.session.scalar(select(PublicationException).where(
        PublicationException.visit_id == visit.id,
        PublicationException.status == Decision.PROPOSED.value))
    if pending is not None:
        if pending.proposed_by_id == actor.id and pending.kind == kind \
                and pending.reason == reason:
            return pending
        raise Conflict(_("An exception for this result is already waiting for approval."))
    row = PublicationException(visit_id=visit.id, kind=kind, reason=reason,
                               proposed_by_id=actor.id, proposed_at=utcnow())
    db.session.add(row)
    db.session.flush()
    audit.record("review.exception.propose", "visit", visit.id,
                 {"visit": visit.number, "kind": kind, "reason": reason}, actor=actor)
    db.session.commit()
    return row


def get_exception(exception_id: int) -> PublicationException:
    return _get(PublicationException, exception_id, _("No such exception."))


def decide_exception(exception_id: int, approve: bool, reason: str = "", *,
                     actor: User) -> PublicationException:
    row = get_exception(exception_id)
    visit = db.session.get(Visit, row.visit_id)
    reason = (reason or "").strip()
    check_approver(actor, Act.PUBLICATION_EXCEPTION, department_id=lead_department_id(visit),
                   proposer_id=row.proposed_by_id, participant_ids=participant_ids(visit))
    if not approve and not reason:
        raise ValidationFailed(_("Say why the exception is rejected."),
                               fields={"reason": [_("Required.")]})
    if row.status != Decision.PROPOSED.value or not _decide(PublicationException, row, approve,
                                                            reason, actor):
        return _already(row, approve, actor)
    if approve:
        publication = publication_of(visit)
        if publication.status != "pending":
            raise Conflict(_("This result was published meanwhile; a published result is "
                             "corrected, not withheld."))
        publication.status = "withheld"
        refresh_deadline(publication)
        publication.on_time = _on_time(publication.deadline, today())
        visit.status = VisitStatus.WITHHELD.value
    audit.record("review.exception." + ("approve" if approve else "reject"), "visit", visit.id,
                 {"visit": visit.number, "kind": row.kind, "reason": reason}, actor=actor)
    db.session.commit()
    return row


# --- feedback to the employer -----------------------------------------------------------------

def feedback_deadline(visit: Visit) -> dict[str, Any]:
    """When the employer must be told: ``{"deadline", "missing_year", "opens"}``. Seed 000:
    within FEEDBACK_WORKDAYS of the determination; seed 001 第十五条 (``publish_first``):
    after the publication period, then within FEEDBACK_WORKDAYS. ``opens`` is the first day
    feedback may be given (None: not before publication, under publish_first)."""
    settings = _settings()
    det = current_determination(visit)
    if det is None:
        return {"deadline": None, "missing_year": None, "opens": None}
    decided = to_local(det.decided_at).date()
    if settings.FEEDBACK_ORDER == "feedback_first":
        info = deadline_info(decided, settings.FEEDBACK_WORKDAYS)
        return dict(info, opens=decided)
    publication = publication_of(visit)
    if publication is None or publication.period_end is None:
        return {"deadline": None, "missing_year": None, "opens": None}
    info = deadline_info(publication.period_end, settings.FEEDBACK_WORKDAYS)
    return dict(info, opens=publication.period_end)


def record_feedback(number: str, way: str, delivered_on: date, note: str = "", *,
                    proof: bytes | None = None, proof_type: str | None = None,
                    actor: User) -> Feedback:
    """Record how and when the employer was told the result, with optional proof."""
    visit = get_visit(number)
    det = current_determination(visit)
    if det is None:
        raise Conflict(_("The employer is told the result once it is approved."))
    if way not in {w.value for w in FeedbackWay}:
        raise ValidationFailed(_("Choose how the employer was told."),
                               fields={"way": [_("Required.")]})
    due = feedback_deadline(visit)
    errors = {}
    if due["opens"] is None:
        errors["delivered_on"] = [_("Under this bureau's rules the result is published "
                                    "first and the employer told after the publication "
                                    "period.")]
    elif delivered_on < due["opens"]:
        errors["delivered_on"] = [_("Not before %(day)s.", day=due["opens"].isoformat())]
    if delivered_on > today():
        errors["delivered_on"] = [_("This date is in the future.")]
    if way == FeedbackWay.PUBLICATION.value and visit.status != VisitStatus.PUBLISHED.value:
        errors["way"] = [_("The result is not published.")]
    if proof is not None:
        if proof_type not in PROOF_TYPES:
            errors["proof"] = [_("A scan or photo as JPEG, PNG or PDF.")]
        elif len(proof) > MAX_PROOF_BYTES:
            errors["proof"] = [_("The file is too large.")]
    if errors:
        raise ValidationFailed(_("Some values are not valid."), fields=errors)
    sha = storage.put(AREA_FEEDBACK, proof) if proof is not None else None
    stored = db.session.scalar(select(Feedback).where(
        Feedback.visit_id == visit.id, Feedback.determination_id == det.id,
        Feedback.way == way, Feedback.delivered_on == delivered_on,
        Feedback.note == (note or "").strip(), Feedback.recorded_by_id == actor.id,
        Feedback.proof_sha256.is_(None) if sha is None else Feedback.proof_sha256 == sha)
        .limit(1))
    if stored is not None:
        return stored  # a double submit
    row = Feedback(visit_id=visit.id, determination_id=det.id, way=way,
                   delivered_on=delivered_on, note=(note or "").strip(), proof_sha256=sha,
                   proof_content_type=proof_type if sha else None, deadline=due["deadline"],
                   on_time=_on_time(due["deadline"], delivered_on), recorded_by_id=actor.id,
                   recorded_at=utcnow())
    db.session.add(row)
    db.session.flush()
    audit.record("review.feedback", "visit", visit.id,
                 {"visit": visit.number, "way": way, "delivered_on": delivered_on.isoformat(),
                  "proof_sha256": sha, "on_time": row.on_time}, actor=actor)
    db.session.commit()
    return row


def feedback_of(visit: Visit) -> list[Feedback]:
    return db.session.scalars(select(Feedback).where(Feedback.visit_id == visit.id)
                              .order_by(Feedback.id)).all()


# --- objections -------------------------------------------------------------------------------

def _objection_number(year: int) -> str:
    """A receipt number: the year and a random part (not guessable, not a counter)."""
    return f"YY-{year}-{secrets.token_hex(3).upper()}"


def submit_objection(number: str, credit_code: str, contact: str, text: str, *,
                     source: str, actor: User | None = None, client_address: str | None = None,
                     request_key: str | None = None) -> Objection:
    """An objection (异议) to a published result during its publication period: from the
    public page (the employer, no account) or entered by the office. Opens a review
    (复查复核) with its deadline."""
    if request_key:
        stored = db.session.scalar(select(Objection).where(Objection.request_key == request_key))
        if stored is not None:
            return stored
    visit = get_visit(number)
    publication = publication_of(visit)
    # Published results only, checked first: nobody learns whose visit an unpublished number
    # is by guessing credit codes.
    if publication is None or publication.status != "published" \
            or visit.status != VisitStatus.PUBLISHED.value:
        raise Conflict(_("Objections are taken against published results only."))
    credit_code = (credit_code or "").strip().upper()
    errors = {}
    if credit_code != visit.employer.credit_code:
        errors["credit_code"] = [_("This is not the credit code of the employer of this "
                                   "result.")]
    if not (contact or "").strip():
        errors["contact"] = [_("Required.")]
    if not (text or "").strip():
        errors["text"] = [_("Required.")]
    if errors:
        raise ValidationFailed(_("Some values are not valid."), fields=errors)
    if publication.period_end is not None and today() > publication.period_end:
        raise Conflict(_("The publication period ended on %(day)s; objections are no longer "
                         "taken here.", day=publication.period_end.isoformat()))
    if source == "public" and client_address:
        since = utcnow() - timedelta(hours=1)
        count = db.session.scalar(select(func.count(Objection.id)).where(
            Objection.client_address == client_address, Objection.submitted_at >= since))
        if count >= _settings().OBJECTIONS_PER_ADDRESS_PER_HOUR:
            from ..core.errors import TooManyAttempts

            raise TooManyAttempts(_("Too many objections from this address; try again in an "
                                    "hour."), retry_after=3600)
    info = deadline_info(today(), _settings().OBJECTION_REVIEW_WORKDAYS)
    row = Objection(number=_objection_number(today().year), visit_id=visit.id, source=source,
                    credit_code=credit_code, contact=contact.strip(), text=text.strip(),
                    submitted_at=utcnow(), submitted_by_id=actor.id if actor else None,
                    deadline=info["deadline"], deadline_year=info["missing_year"],
                    request_key=request_key or None, client_address=client_address)
    db.session.add(row)
    db.session.flush()
    audit.record("review.objection", "visit", visit.id,
                 {"visit": visit.number, "objection": row.number, "source": source},
                 actor=actor)
    db.session.commit()
    return row


def get_objection(objection_id: int) -> Objection:
    return _get(Objection, objection_id, _("No such objection."))


def decide_objection(objection_id: int, status: str, outcome: str, *,
                     actor: User) -> Objection:
    """The review's outcome: the result stands (``upheld``) or was wrong (``corrected``: a
    correction on the party's application follows). Public once decided."""
    row = get_objection(objection_id)
    outcome = (outcome or "").strip()
    if status not in (ObjectionStatus.UPHELD.value, ObjectionStatus.CORRECTED.value):
        raise ValidationFailed(_("Choose the outcome of the review."),
                               fields={"status": [_("Required.")]})
    if not outcome:
        raise ValidationFailed(_("Write the outcome of the review."),
                               fields={"outcome": [_("Required.")]})
    if actor.id in participant_ids(row.visit):
        raise PermissionDenied(_("Four eyes: nobody reviews a visit they were on."))
    done = db.session.execute(update(Objection).where(
        Objection.id == row.id, Objection.status == ObjectionStatus.OPEN.value).values(
        status=status, outcome=outcome, decided_by_id=actor.id, decided_at=utcnow())).rowcount
    db.session.refresh(row)
    if not done:
        if row.decided_by_id == actor.id and row.status == status and row.outcome == outcome:
            return row
        raise Conflict(_("This objection was decided already; reload the page."))
    audit.record("review.objection.decide", "visit", row.visit_id,
                 {"objection": row.number, "status": status, "outcome": outcome}, actor=actor)
    db.session.commit()
    return row


# --- corrections ------------------------------------------------------------------------------

def propose_correction(number: str, origin: str, reason: str, result_category: str,
                       findings: list[dict], summary: str = "", *,
                       objection_id: int | None = None, actor: User) -> Correction:
    """Propose to correct a published (or withheld) result: on the party's application
    (seed 000) or because the bureau found an error (seed 004 第二十一条)."""
    visit = get_visit(number)
    original = current_determination(visit)
    if original is None or visit.status not in (VisitStatus.PUBLISHED.value,
                                                 VisitStatus.WITHHELD.value):
        raise Conflict(_("Only a published result is corrected; before that, the "
                         "determination is decided again."))
    if origin not in {o.value for o in CorrectionOrigin}:
        raise ValidationFailed(_("Say who started the correction."),
                               fields={"origin": [_("Required.")]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the reason for the correction."),
                               fields={"reason": [_("Required.")]})
    if objection_id is not None:
        objection = get_objection(objection_id)
        if objection.visit_id != visit.id:
            raise ValidationFailed(_("This objection is about another result."),
                                   fields={"objection_id": [_("Another result.")]})
    clean = check_findings(visit, result_category, findings)
    pending = db.session.scalar(select(Correction).where(
        Correction.visit_id == visit.id, Correction.status == Decision.PROPOSED.value))
    if pending is not None:
        if pending.proposed_by_id == actor.id and pending.reason == reason \
                and pending.result_category == result_category:
            return pending
        raise Conflict(_("A correction of this result is already waiting for approval."))
    row = Correction(visit_id=visit.id, origin=origin, objection_id=objection_id,
                     original_id=original.id, reason=reason, result_category=result_category,
                     findings=clean, summary=(summary or "").strip(), proposed_by_id=actor.id,
                     proposed_at=utcnow())
    db.session.add(row)
    db.session.flush()
    audit.record("review.correction.propose", "visit", visit.id,
                 {"visit": visit.number, "origin": origin, "reason": reason,
                  "from": original.result_category, "to": result_category}, actor=actor)
    db.session.commit()
    return row


def get_correction(correction_id: int) -> Correction:
    return _get(Correction, correction_id, _("No such correction."))


def decide_correction(correction_id: int, approve: bool, reason: str = "", *,
                      actor: User) -> Correction:
    """The configured position (主要负责人 by default) approves: a new determination becomes
    the result, the original stays on record, marked superseded."""
    row = get_correction(correction_id)
    visit = db.session.get(Visit, row.visit_id)
    reason = (reason or "").strip()
    check_approver(actor, Act.CORRECTION, department_id=lead_department_id(visit),
                   proposer_id=row.proposed_by_id, participant_ids=participant_ids(visit))
    if not approve and not reason:
        raise ValidationFailed(_("Say why the correction is rejected."),
                               fields={"reason": [_("Required.")]})
    if row.status != Decision.PROPOSED.value or not _decide(Correction, row, approve, reason,
                                                            actor):
        return _already(row, approve, actor)
    if approve:
        original = db.session.get(Determination, row.original_id)
        now = utcnow()
        new = Determination(visit_id=visit.id, revision_id=original.revision_id,
                            result_category=row.result_category, findings=row.findings,
                            summary=row.summary, status=Decision.APPROVED.value,
                            proposed_by_id=row.proposed_by_id, proposed_at=row.proposed_at,
                            decided_by_id=actor.id, decided_at=now, decision_reason=reason,
                            corrects_id=original.id)
        db.session.add(new)
        original.superseded_at = now
        db.session.flush()
        row.determination_id = new.id
        audit.record("review.correction.approve", "visit", visit.id,
                     {"visit": visit.number, "correction": row.id, "from": original.result_category,
                      "to": row.result_category, "original_determination": original.id,
                      "determination": new.id, "reason": row.reason}, actor=actor)
    else:
        audit.record("review.correction.reject", "visit", visit.id,
                     {"visit": visit.number, "correction": row.id, "reason": reason},
                     actor=actor)
    db.session.commit()
    return row


# --- labels -----------------------------------------------------------------------------------

def status_label(status: str) -> str:
    return {
        VisitStatus.PLANNED.value: _("planned"), VisitStatus.ASSIGNED.value: _("assigned"),
        VisitStatus.IN_PROGRESS.value: _("in progress"),
        VisitStatus.RECORDED.value: _("waiting for review"),
        VisitStatus.RETURNED.value: _("returned to the team"),
        VisitStatus.PROPOSED.value: _("determination waiting for approval"),
        VisitStatus.DETERMINED.value: _("approved, to publish"),
        VisitStatus.PUBLISHED.value: _("published"),
        VisitStatus.WITHHELD.value: _("withheld from publication"),
        VisitStatus.CLOSED.value: _("closed"),
    }.get(status, status)


def decision_label(status: str) -> str:
    return {Decision.PROPOSED.value: _("proposed"), Decision.APPROVED.value: _("approved"),
            Decision.REJECTED.value: _("rejected")}.get(status, status)


def handling_labels() -> dict[str, str]:
    return {Handling.RECTIFIED_ON_SITE.value: _("Rectified on site"),
            Handling.RECTIFICATION_ORDER.value: _("Order to rectify by a date"),
            Handling.FOLLOW_UP.value: _("To be followed up"),
            Handling.REFERRAL.value: _("Referral"),
            Handling.PENALTY.value: _("Administrative penalty")}


def exception_labels() -> dict[str, str]:
    return {ExceptionKind.STATE_SECRET.value: _("State secrets"),
            ExceptionKind.NATIONAL_SECURITY.value: _("National security"),
            ExceptionKind.PUBLIC_SECURITY.value: _("Public security"),
            ExceptionKind.NOT_FIT_BY_LAW.value: _("Not fit for disclosure by law")}


def feedback_way_labels() -> dict[str, str]:
    return {FeedbackWay.IN_PERSON.value: _("In person (including on site)"),
            FeedbackWay.PHONE.value: _("Phone"), FeedbackWay.EMAIL.value: _("E-mail"),
            FeedbackWay.POST.value: _("Post"),
            FeedbackWay.LEFT_AT_PREMISES.value: _("Left at the premises"),
            FeedbackWay.PUBLICATION.value: _("By publication")}
