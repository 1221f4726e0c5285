"""What the office's review pages and the review API show, and the feedback letter.

Reading only: every change goes through :mod:`.operations`.

* :func:`queue`: the review queue (visits whose sealed record waits for review), oldest
  arrival first, paginated, in a fixed number of queries whatever the number of rows.
* :func:`review_state`: one visit after the visit: the sealed record's facts, the history of
  returns, proposals and decisions, publication, exceptions, feedback, objections and
  corrections, the employer's previous results, and the acts the current user may do now.
* :func:`approvals_for`: what waits for an approver's decision, only what they may approve.
* :func:`feedback_letter_pdf`: 检查结果告知书, the letter that tells the employer the result,
  with a QR code to the public result page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable

from flask import current_app, request
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..core.authority import Act, check_approver
from ..core.errors import Conflict, PermissionDenied
from ..core.models import Role, User
from ..core.timeutil import to_local
from ..core.workdays import deadline_info
from ..directory.models import Employer
from ..extensions import db
from ..fieldwork.models import RecordRevision, ReviewReturn, Visit, VisitStatus, VisitTask
from ..fieldwork.results import label
from ..fieldwork.visits import checked_versions
from ..planning.models import Task
from . import operations as ops
from .models import (Correction, Decision, Determination, Feedback, Objection,
                     ObjectionStatus, Publication, PublicationException)

#: Roles that read the review pages (supervisor and admin read only).
READERS = (Role.ADMIN, Role.OFFICE, Role.APPROVER, Role.SUPERVISOR)
#: Roles that act: the office proposes and records, approvers decide; an objection's review
#: (复查复核) is taken by the office or an approver.
OFFICE = (Role.OFFICE,)
APPROVERS = (Role.APPROVER,)
REVIEWERS = (Role.OFFICE, Role.APPROVER)
#: The path of a visit's public result (the public portal's page).
PUBLIC_RESULT_PATH = "/public/results/{number}"


def _settings():
    return current_app.config["SETTINGS"]


def public_result_url(number: str) -> str:
    """The address of the public result page of visit ``number``: under the PUBLIC_URL
    setting when set, else under the address this request came to."""
    base = (_settings().PUBLIC_URL or "").strip() or request.url_root
    return base.rstrip("/") + PUBLIC_RESULT_PATH.format(number=number)


def _local_date(moment: datetime | None) -> date | None:
    return to_local(moment).date() if moment else None


check_day = ops.check_day


def review_due(day: date | None) -> dict[str, Any]:
    """The office's review deadline: REVIEW_WORKDAYS working days after the check
    (docs/review.md); ``deadline`` None and ``missing_year`` set in a year with no
    calendar."""
    if day is None:
        return {"deadline": None, "missing_year": None}
    return deadline_info(day, _settings().REVIEW_WORKDAYS)


# --- the queue --------------------------------------------------------------------------------

def _latest_sealed():
    """Per visit, the id of its latest sealed revision of the record (not a member's part)."""
    return (select(RecordRevision.visit_id.label("visit_id"),
                   func.max(RecordRevision.id).label("revision_id"))
            .where(RecordRevision.seal.is_not(None), RecordRevision.is_part.is_(False))
            .group_by(RecordRevision.visit_id).subquery())


@dataclass
class QueueRow:
    visit: Visit
    employer: Employer
    tasks: list[str]
    arrived_at: datetime | None
    check_date: date | None
    on_site_category: str | None
    returned_before: int
    review_due: dict[str, Any]

    @property
    def number(self) -> str:
        return self.visit.number

    @property
    def on_site_label(self) -> str:
        return label(self.on_site_category)


@dataclass
class QueuePage:
    items: list[QueueRow]
    page: int
    per_page: int
    total: int
    pages: int = field(init=False)

    def __post_init__(self):
        self.pages = max(1, -(-self.total // self.per_page)) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def queue(page: int = 1, per_page: int = 50) -> QueuePage:
    """Visits whose sealed record waits for review (status ``recorded``), oldest arrival
    first. Four queries whatever the number of rows (count, rows, tasks, earlier returns),
    plus the bureau's calendar read once per request."""
    page, per_page = max(1, int(page)), max(1, min(200, int(per_page)))
    latest = _latest_sealed()
    base = (select(Visit.id).join(latest, latest.c.visit_id == Visit.id)
            .where(Visit.status == VisitStatus.RECORDED.value))
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db.session.execute(
        select(Visit, Employer, RecordRevision.received_at, RecordRevision.result_category,
               RecordRevision.body)
        .join(latest, latest.c.visit_id == Visit.id)
        .join(RecordRevision, RecordRevision.id == latest.c.revision_id)
        .join(Employer, Employer.id == Visit.employer_id)
        .where(Visit.status == VisitStatus.RECORDED.value)
        .order_by(RecordRevision.received_at, Visit.id)
        .offset((page - 1) * per_page).limit(per_page)).all()
    ids = [visit.id for visit, *_rest in rows]
    tasks: dict[int, list[str]] = {}
    returned: dict[int, int] = {}
    if ids:
        for visit_id, name in db.session.execute(
                select(VisitTask.visit_id, Task.name).join(Task, Task.id == VisitTask.task_id)
                .where(VisitTask.visit_id.in_(ids)).order_by(VisitTask.id)):
            tasks.setdefault(visit_id, []).append(name)
        returned = dict(db.session.execute(
            select(ReviewReturn.visit_id, func.count(ReviewReturn.id))
            .where(ReviewReturn.visit_id.in_(ids)).group_by(ReviewReturn.visit_id)).all())
    items = []
    for visit, employer, arrived, category, body in rows:
        day = check_day(body, arrived)
        items.append(QueueRow(visit=visit, employer=employer, tasks=tasks.get(visit.id, []),
                              arrived_at=arrived, check_date=day, on_site_category=category,
                              returned_before=returned.get(visit.id, 0),
                              review_due=review_due(day)))
    return QueuePage(items=items, page=page, per_page=per_page, total=total)


# --- who may do what --------------------------------------------------------------------------

def authority_problem(user: User, act: Act, visit: Visit, proposer_id: int | None,
                      department_id: int | None = None,
                      participants: Iterable[int] | None = None) -> str | None:
    """Why ``user`` may not approve ``act`` on ``visit`` (None: they may)."""
    try:
        check_approver(user, act,
                       department_id=department_id if department_id is not None
                       else ops.lead_department_id(visit),
                       proposer_id=proposer_id,
                       participant_ids=participants if participants is not None
                       else ops.participant_ids(visit))
    except PermissionDenied as error:
        return error.message
    return None


# --- a visit's review state -------------------------------------------------------------------

def _names(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name)
                                   .where(User.id.in_(wanted))).all())


def _questions(visit: Visit) -> tuple[list[dict], dict[tuple[str, str | None], str]]:
    """The items the visit checks (with their questions) and question texts by key."""
    items, texts = [], {}
    for version, code in checked_versions(visit.id):
        questions = [{"code": q.code, "text": q.text} for q in version.questions]
        items.append({"code": code, "name": version.name, "legal_basis": version.legal_basis,
                      "questions": questions})
        texts[(code, None)] = version.name
        for q in questions:
            texts[(code, q["code"])] = q["text"]
    return items, texts


def prefilled_findings(body: dict) -> list[dict]:
    """A finding row per non-compliant answer of the sealed record: the answer's note, and
    the handling its order suggests (an order to rectify with its due date becomes a
    rectification order; other problems are to be followed up)."""
    rows = []
    for answer in body.get("answers") or []:
        if answer.get("answer") != "non_compliant":
            continue
        order = answer.get("order") or {}
        if order.get("due"):
            handling, due = "rectification_order", order.get("due")
        else:
            handling, due = "follow_up", None
        text = (answer.get("note") or "").strip()
        if order.get("text"):
            text = f"{text}（{order['text']}）" if text else order["text"]
        rows.append({"item": answer.get("item"), "question": answer.get("question"),
                     "finding": text, "handling": handling, "due": due, "note": ""})
    return rows


def previous_results(visit: Visit, limit: int = 20) -> list[dict]:
    """The employer's results of its other visits: their approved determinations in force."""
    rows = db.session.execute(
        select(Determination, Visit.number).join(Visit, Visit.id == Determination.visit_id)
        .where(Visit.employer_id == visit.employer_id, Visit.id != visit.id,
               Determination.status == Decision.APPROVED.value,
               Determination.superseded_at.is_(None))
        .order_by(Determination.decided_at.desc()).limit(limit)).all()
    return [{"visit": number, "result_category": det.result_category,
             "result_label": label(det.result_category), "decided_at": det.decided_at,
             "problems": sum(1 for f in det.findings or [] if f.get("handling")),
             "corrected": det.corrects_id is not None}
            for det, number in rows]


def _all(model, visit: Visit, order=None):
    return db.session.scalars(select(model).where(model.visit_id == visit.id)
                              .order_by(order if order is not None else model.id)).all()


@dataclass
class ReviewState:
    """Everything the review page and ``GET /api/v1/review/visits/<number>`` show."""

    visit: Visit
    employer: Employer
    tasks: list[str]
    items: list[dict]
    question_texts: dict
    revision: RecordRevision | None
    check_date: date | None
    review_due: dict[str, Any]
    returns: list[ReviewReturn]
    open_return: ReviewReturn | None
    determinations: list[Determination]
    current: Determination | None
    pending: Determination | None
    publication: Publication | None
    exceptions: list[PublicationException]
    feedback: list[Feedback]
    feedback_due: dict[str, Any]
    objections: list[Objection]
    corrections: list[Correction]
    previous: list[dict]
    names: dict[int, str]
    actions: list[str]
    notes: dict[str, str]
    lead_department_id: int | None
    public_url: str

    @property
    def number(self) -> str:
        return self.visit.number

    @property
    def status(self) -> str:
        return self.visit.status

    @property
    def status_label(self) -> str:
        return ops.status_label(self.visit.status)

    @property
    def on_site_category(self) -> str | None:
        return self.revision.result_category if self.revision else None

    @property
    def arrived_at(self) -> datetime | None:
        return self.revision.received_at if self.revision else None

    @property
    def pending_exception(self) -> PublicationException | None:
        return next((e for e in self.exceptions if e.status == Decision.PROPOSED.value), None)

    @property
    def pending_correction(self) -> Correction | None:
        return next((c for c in self.corrections if c.status == Decision.PROPOSED.value), None)

    @property
    def open_objections(self) -> list[Objection]:
        return [o for o in self.objections if o.status == ObjectionStatus.OPEN.value]

    @property
    def objections_open_until(self) -> date | None:
        return self.publication.period_end if self.publication else None

    def finding_label(self, finding: dict) -> str:
        item = finding.get("item")
        question = finding.get("question")
        return self.question_texts.get((item, question)) or \
            self.question_texts.get((item, None)) or item or ""


def _actions(user: User, visit: Visit, state: dict) -> tuple[list[str], dict[str, str]]:
    """The acts ``user`` may do on the visit in its current status, and for an approver why
    a decision is not theirs (``notes``)."""
    acts, notes = [], {}
    office = user.has_role(Role.OFFICE)
    approver = user.has_role(Role.APPROVER)
    status = visit.status
    participants = state["participants"]
    department = state["lead_department_id"]
    publication = state["publication"]

    def decide(act_name: str, act: Act, proposer_id: int) -> None:
        if not approver:
            return
        problem = authority_problem(user, act, visit, proposer_id, department, participants)
        if problem is None:
            acts.append(act_name)
        else:
            notes[act_name] = problem

    if status == VisitStatus.RECORDED.value and office and state["revision"] is not None:
        acts += ["return", "propose"]
    if status == VisitStatus.PROPOSED.value and state["pending"] is not None:
        decide("decide_determination", Act.DETERMINATION, state["pending"].proposed_by_id)
    pending_exception = next((e for e in state["exceptions"]
                              if e.status == Decision.PROPOSED.value), None)
    if status == VisitStatus.DETERMINED.value and publication is not None \
            and publication.status == "pending":
        if office and pending_exception is None:
            acts += ["publish", "propose_exception"]
        if pending_exception is not None:
            decide("decide_exception", Act.PUBLICATION_EXCEPTION,
                   pending_exception.proposed_by_id)
    if state["current"] is not None:
        acts.append("feedback_letter")
        if office and state["feedback_due"]["opens"] is not None:
            acts.append("feedback")
    if status == VisitStatus.PUBLISHED.value and office and publication is not None and (
            publication.period_end is None or ops.today() <= publication.period_end):
        acts.append("object")
    if any(o.status == ObjectionStatus.OPEN.value for o in state["objections"]) \
            and (office or approver):
        if user.id in participants:
            notes["decide_objection"] = _("Four eyes: nobody reviews a visit they were on.")
        else:
            acts.append("decide_objection")
    if status in (VisitStatus.PUBLISHED.value, VisitStatus.WITHHELD.value) \
            and state["current"] is not None:
        pending_correction = next((c for c in state["corrections"]
                                   if c.status == Decision.PROPOSED.value), None)
        if pending_correction is None:
            if office:
                acts.append("propose_correction")
        else:
            decide("decide_correction", Act.CORRECTION, pending_correction.proposed_by_id)
    return acts, notes


def review_state(visit: Visit, user: User) -> ReviewState:
    """The review state of ``visit`` as ``user`` sees it (a fixed number of queries)."""
    revision = ops.sealed_revision(visit)
    items, texts = _questions(visit)
    returns = _all(ReviewReturn, visit)
    determinations = _all(Determination, visit)
    current = next((d for d in reversed(determinations)
                    if d.status == Decision.APPROVED.value and d.superseded_at is None), None)
    pending = next((d for d in determinations
                    if d.status == Decision.PROPOSED.value and d.corrects_id is None), None)
    publication = ops.publication_of(visit)
    exceptions = _all(PublicationException, visit)
    feedback = _all(Feedback, visit)
    objections = _all(Objection, visit)
    corrections = _all(Correction, visit)
    lead = ops.lead_department_id(visit)
    participants = ops.participant_ids(visit)
    feedback_due = ops.feedback_deadline(visit) if current is not None else \
        {"deadline": None, "missing_year": None, "opens": None}
    people = [r.returned_by_id for r in returns]
    for d in determinations:
        people += [d.proposed_by_id, d.decided_by_id]
    for row in (*exceptions, *corrections):
        people += [row.proposed_by_id, row.decided_by_id]
    people += [f.recorded_by_id for f in feedback]
    people += [o.submitted_by_id for o in objections] + [o.decided_by_id for o in objections]
    if publication is not None:
        people.append(publication.published_by_id)
    tasks = [t.name for t in db.session.scalars(
        select(Task).join(VisitTask, VisitTask.task_id == Task.id)
        .where(VisitTask.visit_id == visit.id).order_by(VisitTask.id))]
    state = {"revision": revision, "pending": pending, "current": current,
             "publication": publication, "exceptions": exceptions, "objections": objections,
             "corrections": corrections, "feedback_due": feedback_due,
             "participants": participants, "lead_department_id": lead}
    actions, notes = _actions(user, visit, state)
    arrived = revision.received_at if revision else None
    return ReviewState(
        visit=visit, employer=visit.employer, tasks=tasks, items=items, question_texts=texts,
        revision=revision, check_date=ops.check_date(visit) if revision else None,
        review_due=review_due(check_day(revision.body, arrived) if revision else None)
        if visit.status == VisitStatus.RECORDED.value
        else {"deadline": None, "missing_year": None},
        returns=returns, open_return=next((r for r in reversed(returns)
                                           if r.resolved_at is None), None),
        determinations=determinations, current=current, pending=pending,
        publication=publication, exceptions=exceptions, feedback=feedback,
        feedback_due=feedback_due, objections=objections, corrections=corrections,
        previous=previous_results(visit), names=_names(people), actions=actions, notes=notes,
        lead_department_id=lead, public_url=public_result_url(visit.number))


# --- the history of a visit after the visit ---------------------------------------------------

def history(state: ReviewState) -> list[dict]:
    """Every step after the visit, oldest first: ``{"at", "what", "by", "detail"}``."""
    names = state.names
    events: list[dict] = []

    def add(at, what, by=None, detail=""):
        if at is not None:
            events.append({"at": at, "what": what, "by": names.get(by, "") if by else "",
                           "detail": detail})

    # every sealed revision, the original and each correction the team sealed after a return
    for row in db.session.scalars(select(RecordRevision).where(
            RecordRevision.visit_id == state.visit.id, RecordRevision.seal.is_not(None),
            RecordRevision.is_part.is_(False)).order_by(RecordRevision.id)):
        add(row.received_at, _("Corrected record sealed by the team") if row.corrects
            else _("Sealed record received"), None, label(row.result_category))
    for r in state.returns:
        add(r.returned_at, _("Returned to the team"), r.returned_by_id, r.comments)
    for d in state.determinations:
        if d.corrects_id is not None:
            continue
        add(d.proposed_at, _("Determination proposed"), d.proposed_by_id,
            label(d.result_category))
        if d.status == Decision.APPROVED.value:
            add(d.decided_at, _("Determination approved"), d.decided_by_id, d.decision_reason)
        elif d.status == Decision.REJECTED.value:
            add(d.decided_at, _("Determination rejected"), d.decided_by_id, d.decision_reason)
    publication = state.publication
    if publication is not None and publication.published_at:
        add(publication.published_at, _("Result published"), publication.published_by_id)
    kinds = ops.exception_labels()
    for e in state.exceptions:
        add(e.proposed_at, _("Exception from publication proposed"), e.proposed_by_id,
            f"{kinds.get(e.kind, e.kind)}: {e.reason}")
        if e.status != Decision.PROPOSED.value:
            add(e.decided_at, _("Exception approved") if e.status == Decision.APPROVED.value
                else _("Exception rejected"), e.decided_by_id, e.decision_reason)
    ways = ops.feedback_way_labels()
    for f in state.feedback:
        add(f.recorded_at, _("Feedback to the employer recorded"), f.recorded_by_id,
            f"{ways.get(f.way, f.way)} · {f.delivered_on.isoformat()}")
    for o in state.objections:
        add(o.submitted_at, _("Objection %(number)s received", number=o.number),
            o.submitted_by_id, o.text)
        if o.status != ObjectionStatus.OPEN.value:
            add(o.decided_at, _("Objection %(number)s reviewed", number=o.number),
                o.decided_by_id, o.outcome)
    for c in state.corrections:
        add(c.proposed_at, _("Correction proposed"), c.proposed_by_id,
            f"{label(c.result_category)}: {c.reason}")
        if c.status != Decision.PROPOSED.value:
            add(c.decided_at, _("Correction approved") if c.status == Decision.APPROVED.value
                else _("Correction rejected"), c.decided_by_id, c.decision_reason)
    events.sort(key=lambda e: e["at"])
    return events


# --- what waits for an approver ---------------------------------------------------------------

@dataclass
class Waiting:
    kind: str            # determination | exception | correction
    row: Any
    visit: Visit
    employer: Employer
    proposed_by: str


def approvals_for(user: User, limit: int = 500) -> list[Waiting]:
    """Proposals waiting for a decision that ``user`` may take (their position, their
    department, not their own proposal, not a visit they were on), oldest first. A fixed
    number of queries."""
    found: list[tuple[str, Any, Act]] = []
    for kind, model, act, extra in (
            ("determination", Determination, Act.DETERMINATION,
             (Determination.corrects_id.is_(None),)),
            ("exception", PublicationException, Act.PUBLICATION_EXCEPTION, ()),
            ("correction", Correction, Act.CORRECTION, ())):
        for row in db.session.scalars(select(model).where(
                model.status == Decision.PROPOSED.value, *extra)
                .order_by(model.proposed_at, model.id).limit(limit)):
            found.append((kind, row, act))
    if not found:
        return []
    visit_ids = {row.visit_id for _k, row, _a in found}
    visits = {v.id: v for v in db.session.scalars(
        select(Visit).where(Visit.id.in_(visit_ids)).options(joinedload(Visit.employer)))}
    lead: dict[int, int] = {}
    for visit_id, department_id in db.session.execute(
            select(VisitTask.visit_id, Task.lead_department_id)
            .join(Task, Task.id == VisitTask.task_id)
            .where(VisitTask.visit_id.in_(visit_ids)).order_by(VisitTask.id.desc())):
        lead[visit_id] = department_id  # the first task's, as ops.lead_department_id
    from ..directory.models import Inspector
    from ..draws.models import TeamMember

    mine = set(db.session.scalars(
        select(TeamMember.visit_id).join(Inspector, Inspector.id == TeamMember.inspector_id)
        .where(TeamMember.visit_id.in_(visit_ids), Inspector.user_id == user.id)))
    names = _names(row.proposed_by_id for _k, row, _a in found)
    out = []
    for kind, row, act in found:
        visit = visits[row.visit_id]
        participants = {user.id} if visit.id in mine else set()
        if authority_problem(user, act, visit, row.proposed_by_id, lead.get(visit.id),
                             participants) is not None:
            continue
        out.append(Waiting(kind=kind, row=row, visit=visit, employer=visit.employer,
                           proposed_by=names.get(row.proposed_by_id, "")))
    out.sort(key=lambda w: (w.row.proposed_at, w.row.id))
    return out


# --- the feedback letter (检查结果告知书) --------------------------------------------------------

def feedback_letter(visit: Visit) -> dict[str, Any]:
    """The contents of the feedback letter of ``visit``'s current result."""
    from ..fieldwork import documents as field_documents

    det = ops.current_determination(visit)
    if det is None:
        raise Conflict(_("The feedback letter is made once the result is approved."))
    items, texts = _questions(visit)
    handling = ops.handling_labels()
    findings = []
    for f in det.findings or []:
        findings.append({"subject": texts.get((f.get("item"), f.get("question")))
                         or texts.get((f.get("item"), None)) or f.get("item"),
                         "item": texts.get((f.get("item"), None), f.get("item")),
                         "finding": f.get("finding") or "",
                         "handling": handling.get(f.get("handling") or "", ""),
                         "due": f.get("due"), "note": f.get("note") or ""})
    publication = ops.publication_of(visit)
    settings = _settings()
    url = public_result_url(visit.number)
    return {"bureau": settings.BUREAU_NAME, "visit": visit, "employer": visit.employer,
            "check_date": ops.check_date(visit), "items": items,
            "result_label": label(det.result_category), "summary": det.summary,
            "findings": findings, "problems": [f for f in findings if f["handling"]],
            "determined_on": _local_date(det.decided_at),
            "corrected": det.corrects_id is not None,
            "published": publication is not None and publication.status == "published",
            "published_on": _local_date(publication.published_at) if publication else None,
            "period_end": publication.period_end if publication else None,
            "period_days": settings.PUBLICATION_PERIOD_DAYS,
            "review_workdays": settings.OBJECTION_REVIEW_WORKDAYS,
            "url": url, "qr": field_documents.qr_png(url), "issued_on": ops.today()}


def feedback_letter_pdf(visit: Visit) -> bytes:
    from ..fieldwork.documents import render_pdf

    return render_pdf("documents/feedback_letter.html", feedback_letter(visit))
