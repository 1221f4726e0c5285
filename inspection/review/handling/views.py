"""The "Handling" section of a visit's review page: its forms post here. Thin: the work is in
:mod:`.operations` and :mod:`.credit`; input is checked by the load schemas of
:mod:`.schemas` (as in the JSON API). A refused act shows the review page again with the
message and the field errors (the review page's own renderer), with the error's status."""
from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ...core.access import roles
from ...core.errors import DomainError
from ...extensions import db
from ...fieldwork.models import Visit
from ..documents import APPROVERS, OFFICE, READERS
from ..forms import decision_input, load
from . import credit
from . import operations as ops
from .schemas import (FLAG_FIELDS, GradeProposalInSchema, HandlingInSchema, OutcomeSchema,
                      SendingSchema)
from ..schemas import DecisionSchema
from .. import views as review_views

bp = Blueprint("handling", __name__, url_prefix="/review/handling")
# A refused act shows the review page again: with the review pages' labels.
bp.context_processor(review_views._labels)


def _actor():
    return current_user._get_current_object()


def _text(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _dated(names: tuple[str, ...], data: dict) -> dict:
    for name in names:
        if _text(name):
            data[name] = _text(name)
    return data


def _act(visit: Visit, form_name: str, work: Callable[[], Any], done: str):
    try:
        work()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return review_views._page(visit, errors={form_name: error.fields}, status=error.status,
                     values={form_name: MultiDict(request.form)})
    flash(done, "success")
    return redirect(url_for("review.visit", number=visit.number) + "#handling")


@bp.post("/visits/<number>/decisions")
@roles(*OFFICE)
def propose(number: str):
    visit = ops.review_ops.get_visit(number)
    data = {"kind": _text("kind"), "recipient": _text("recipient"), "matter": _text("matter")}
    if _text("problem"):
        data["problem"] = _text("problem")
    form = f"handling_propose_{_text('problem')}"

    def work():
        args = load(HandlingInSchema, data)
        ops.propose(visit.number, args["problem"], args["kind"], args["recipient"],
                    args["matter"], actor=_actor())

    return _act(visit, form, work, _("The handling decision is proposed; an approver "
                                     "decides it."))


@bp.post("/decisions/<int:decision_id>/decision")
@roles(*APPROVERS)
def decide(decision_id: int):
    row = ops.get_decision(decision_id)
    visit = db.session.get(Visit, row.visit_id)

    def work():
        args = load(DecisionSchema, decision_input(request.form))
        ops.decide(row.id, args["approve"], args["reason"], actor=_actor())

    return _act(visit, f"handling_decide_{row.id}", work, _("Your decision is recorded."))


@bp.post("/decisions/<int:decision_id>/sending")
@roles(*OFFICE)
def send(decision_id: int):
    row = ops.get_decision(decision_id)
    visit = db.session.get(Visit, row.visit_id)

    def work():
        args = load(SendingSchema, _dated(("sent_on",), {}))
        ops.record_sending(row.id, args["sent_on"], actor=_actor())

    return _act(visit, f"handling_send_{row.id}", work,
                _("The sending is recorded; the letter as sent is kept."))


@bp.post("/decisions/<int:decision_id>/outcome")
@roles(*OFFICE)
def outcome(decision_id: int):
    row = ops.get_decision(decision_id)
    visit = db.session.get(Visit, row.visit_id)

    def work():
        args = load(OutcomeSchema, _dated(("outcome_on",), {"outcome": _text("outcome")}))
        ops.record_outcome(row.id, args["outcome"], args["outcome_on"], actor=_actor())

    return _act(visit, f"handling_outcome_{row.id}", work,
                _("The outcome is recorded; it is published with the result."))


@bp.get("/decisions/<int:decision_id>/letter.pdf")
@roles(*READERS)
def letter(decision_id: int):
    """The referral letter (移送/移交函): as sent once kept, else a draft."""
    row = ops.get_decision(decision_id)
    visit = db.session.get(Visit, row.visit_id)
    return Response(ops.letter_pdf(row), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="referral-{visit.number}-{row.id}.pdf"',
        "Cache-Control": "private, no-store"})


@bp.post("/visits/<number>/grade")
@roles(*OFFICE)
def propose_grade(number: str):
    visit = ops.review_ops.get_visit(number)
    data: dict[str, Any] = {"reason": _text("reason"),
                            "flags": {f: True for f in FLAG_FIELDS if _text(f)}}
    if _text("risk_grade"):
        data["risk_grade"] = _text("risk_grade")

    def work():
        args = load(GradeProposalInSchema, data)
        credit.propose_grade(visit.number, args["risk_grade"], args["flags"], args["reason"],
                             actor=_actor())

    return _act(visit, "grade_propose", work, _("The grade proposal is recorded; an "
                                                "approver decides it."))


@bp.post("/grade/<int:proposal_id>/decision")
@roles(*APPROVERS)
def decide_grade(proposal_id: int):
    row = credit.get_proposal(proposal_id)
    visit = db.session.get(Visit, row.visit_id)

    def work():
        args = load(DecisionSchema, decision_input(request.form))
        credit.decide_grade(row.id, args["approve"], args["reason"], actor=_actor())

    return _act(visit, "grade_decide", work, _("Your decision is recorded."))
