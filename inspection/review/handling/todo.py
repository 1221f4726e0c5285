"""The lines handling adds to the office's to-do lists, the deadlines page and the reminders
(registered with :func:`inspection.review.todo.register_source`). Each collector runs a fixed
number of statements (the current results with problems to decide, then their decisions),
whatever the number of rows.

* ``referral`` -- a problem that needs a handling decision (referral or penalty) not sent yet:
  due ``REFERRAL_WORKDAYS`` after the result (seed 004 第十九条(三));
* ``handling`` -- a visit whose handling is not complete: due ``HANDLING_WORKDAYS`` after the
  check (seed 002 四(七));
* ``handling_outcome`` -- a decision sent, its outcome awaited (no deadline);
* ``grade_proposal`` -- a grade proposal waiting for an approver's decision (no deadline).
"""
from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Text, cast, or_, select

from ...core.models import Role
from ...core.timeutil import to_local
from ...core.workdays import deadline_info
from ...extensions import db
from ...fieldwork.models import RecordRevision, Visit
from .. import operations as review_ops
from .. import todo
from ..models import Decision, Determination
from .models import GradeProposal, HandlingDecision
from .operations import NEEDS_DECISION, OPEN, RESULT_STATES, needs_decision

REFERRAL, HANDLING, OUTCOME, GRADE = "referral", "handling", "handling_outcome", \
    "grade_proposal"
ANCHOR = "#handling"


def _settings():
    return current_app.config["SETTINGS"]


def _results(*columns, revision: bool = False):
    """The current results whose findings name a handling that needs a decision (one
    statement; with the record revision they are based on when ``revision``)."""
    text = cast(Determination.findings, Text)
    query = (todo._visit_query(Determination.id.label("det_id"), Determination.findings,
                               Determination.decided_at, *columns)
             .join(Determination, Determination.id == todo._current_determination_id()))
    if revision:
        query = query.join(RecordRevision, RecordRevision.id == Determination.revision_id)
    return db.session.execute(query.where(
        Visit.status.in_(RESULT_STATES),
        or_(*[text.like(f'%"{h}"%') for h in NEEDS_DECISION]))).all()


def _decisions(det_ids: list[int]) -> dict[tuple[int, int], HandlingDecision]:
    if not det_ids:
        return {}
    rows = db.session.scalars(select(HandlingDecision).where(
        HandlingDecision.determination_id.in_(det_ids), HandlingDecision.status.in_(OPEN)))
    return {(r.determination_id, r.problem): r for r in rows}


def _unsent(row, decisions) -> list[int]:
    return [n for n, f in enumerate(row.findings or []) if needs_decision(f)
            and getattr(decisions.get((row.det_id, n)), "sent_on", None) is None]


def _referrals(today: date) -> list[todo.Item]:
    rows = _results()
    decisions = _decisions([r.det_id for r in rows])
    workdays = _settings().REFERRAL_WORKDAYS
    items = []
    for row in rows:
        unsent = _unsent(row, decisions)
        if not unsent:
            continue
        info = deadline_info(to_local(row.decided_at).date(), workdays)
        for n in unsent:
            items.append(todo._visit_item(
                REFERRAL, row, todo.REVIEW_PAGE.format(number=row.number) + ANCHOR,
                obj=f"{row.number}:{row.det_id}:{n}", due=info["deadline"],
                missing_year=info["missing_year"], role=Role.OFFICE.value,
                count=n + 1))
    return items


def _clocks(today: date) -> list[todo.Item]:
    rows = _results(RecordRevision.body, RecordRevision.received_at, revision=True)
    decisions = _decisions([r.det_id for r in rows])
    workdays = _settings().HANDLING_WORKDAYS
    items = []
    for row in rows:
        if not _unsent(row, decisions):
            continue
        start = review_ops.check_day(row.body, row.received_at) or today
        info = deadline_info(start, workdays)
        items.append(todo._visit_item(
            HANDLING, row, todo.REVIEW_PAGE.format(number=row.number) + ANCHOR,
            obj=f"{row.number}:{row.det_id}", due=info["deadline"],
            missing_year=info["missing_year"], role=Role.OFFICE.value))
    return items


def _outcomes(today: date) -> list[todo.Item]:
    rows = db.session.execute(
        todo._visit_query(HandlingDecision.id.label("decision_id"), HandlingDecision.sent_on,
                          HandlingDecision.problem)
        .join(HandlingDecision, HandlingDecision.visit_id == Visit.id)
        .join(Determination, Determination.id == HandlingDecision.determination_id)
        .where(HandlingDecision.status == Decision.APPROVED.value,
               HandlingDecision.sent_on.is_not(None), HandlingDecision.outcome_on.is_(None),
               Determination.superseded_at.is_(None))).all()
    return [todo._visit_item(OUTCOME, row, todo.REVIEW_PAGE.format(number=row.number) + ANCHOR,
                             obj=f"decision:{row.decision_id}", since=row.sent_on,
                             role=Role.OFFICE.value, count=row.problem + 1) for row in rows]


def _proposals(today: date) -> list[todo.Item]:
    rows = db.session.execute(
        todo._visit_query(GradeProposal.id.label("proposal_id"), GradeProposal.proposed_at)
        .join(GradeProposal, GradeProposal.visit_id == Visit.id)
        .where(GradeProposal.status == Decision.PROPOSED.value)).all()
    return [todo._visit_item(GRADE, row, todo.REVIEW_PAGE.format(number=row.number) + ANCHOR,
                             obj=f"grade:{row.proposal_id}",
                             since=to_local(row.proposed_at).date(),
                             role=Role.OFFICE.value) for row in rows]


def _title(text_of):
    def title(item: todo.Item) -> str:
        return text_of({"number": item.number, "employer": item.employer,
                        "n": item.count or 0})
    return title


def register() -> None:
    todo.register_source(todo.Source(
        REFERRAL, lambda: _("Handling decision to send"),
        _title(lambda v: _("Send the handling decision of problem %(n)d of %(number)s · "
                           "%(employer)s", **v)), _referrals))
    todo.register_source(todo.Source(
        HANDLING, lambda: _("Handling to complete"),
        _title(lambda v: _("Complete the handling of the violations of %(number)s · "
                           "%(employer)s", **v)), _clocks))
    todo.register_source(todo.Source(
        OUTCOME, lambda: _("Outcome of a referral awaited"),
        _title(lambda v: _("Record the outcome of problem %(n)d of %(number)s · "
                           "%(employer)s", **v)), _outcomes))
    todo.register_source(todo.Source(
        GRADE, lambda: _("Grade proposal waiting"),
        _title(lambda v: _("Grade proposal after %(number)s · %(employer)s waits for an "
                           "approver", **v)), _proposals))
