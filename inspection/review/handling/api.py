"""The handling API under ``/api/v1/review``: a visit's handling state, handling decisions
(propose, decide, send, outcome, letter) and grade proposals (propose, decide). Thin: the work
is in :mod:`.operations` and :mod:`.credit`. A refusal answers ``{"error": {...}}`` and
changes nothing; a proposal answers 201 when made and 200 with the stored row on a double
submit."""
from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import func, select

from ...core.access import roles
from ...core.openapi import Blueprint
from ...extensions import db
from ..api import refusals_of
from ..documents import APPROVERS, OFFICE, READERS
from ..forms import load
from ..schemas import DecisionSchema
from . import credit
from . import operations as ops
from .models import GradeProposal, HandlingDecision
from .schemas import (GradeProposalInSchema, GradeProposalOutSchema, HandlingInSchema,
                      HandlingOutSchema, HandlingStateSchema, OutcomeSchema, SendingSchema)

blp = Blueprint("handling_api", __name__, url_prefix="/api/v1/review",
                description="Handling what was found: handling decisions, referrals and "
                            "their outcomes; the employer's grade proposals")

_refusals = refusals_of(blp)


def _actor():
    return current_user._get_current_object()


def _body(schema):
    return load(schema, request.get_json(silent=True))


def _json(schema) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _max_id(model) -> int:
    return db.session.scalar(select(func.max(model.id))) or 0


@blp.route("/visits/<number>/handling")
class HandlingState(MethodView):
    @roles(*READERS)
    @blp.response(200, HandlingStateSchema)
    @_refusals(404)
    def get(self, number):
        """The current result's problems with their handling decisions, the referral
        deadline (REFERRAL_WORKDAYS after the result), the handling clock (HANDLING_WORKDAYS
        after the check), the grade proposals and the acts I may do."""
        return ops.state(ops.review_ops.get_visit(number), _actor())


@blp.route("/visits/<number>/handling/decisions")
class Decisions(MethodView):
    @roles(*OFFICE)
    @blp.doc(requestBody=_json(HandlingInSchema))
    @blp.response(201, HandlingOutSchema, description="Proposed.")
    @blp.alt_response(200, schema=HandlingOutSchema, description="A double submit.")
    @_refusals(404, 409, 422)
    def post(self, number):
        """Propose the handling decision of one problem (its index in the result's
        findings): penalty, transfer to an agency or the judiciary, referral in-house or to
        the competent department, to whom and what is sent."""
        args = _body(HandlingInSchema)
        before = _max_id(HandlingDecision)
        row = ops.propose(number, args["problem"], args["kind"], args["recipient"],
                          args["matter"], actor=_actor())
        return row, 201 if row.id > before else 200


@blp.route("/handling/<int:decision_id>/decision")
class Decide(MethodView):
    @roles(*APPROVERS)
    @blp.doc(requestBody=_json(DecisionSchema))
    @blp.response(200, HandlingOutSchema)
    @_refusals(403, 404, 409, 422)
    def post(self, decision_id):
        """An approver (the authority of determinations, four eyes) approves or rejects."""
        args = _body(DecisionSchema)
        return ops.decide(decision_id, args["approve"], args["reason"], actor=_actor())


@blp.route("/handling/<int:decision_id>/sending")
class Send(MethodView):
    @roles(*OFFICE)
    @blp.doc(requestBody=_json(SendingSchema))
    @blp.response(200, HandlingOutSchema)
    @_refusals(404, 409, 422)
    def post(self, decision_id):
        """Record the day the approved decision was sent; whether the referral deadline was
        met is recorded, and the letter as sent is kept in the file store."""
        args = _body(SendingSchema)
        return ops.record_sending(decision_id, args["sent_on"], actor=_actor())


@blp.route("/handling/<int:decision_id>/outcome")
class Outcome(MethodView):
    @roles(*OFFICE)
    @blp.doc(requestBody=_json(OutcomeSchema))
    @blp.response(200, HandlingOutSchema)
    @_refusals(404, 409, 422)
    def post(self, decision_id):
        """Record what came back; it is published with the result."""
        args = _body(OutcomeSchema)
        return ops.record_outcome(decision_id, args["outcome"], args["outcome_on"],
                                  actor=_actor())


@blp.route("/handling/<int:decision_id>/letter.pdf")
class Letter(MethodView):
    @roles(*READERS)
    @blp.response(200, description="The referral letter (PDF).")
    @_refusals(404, 409)
    def get(self, decision_id):
        """The referral letter: as sent once kept in the store, else a draft."""
        row = ops.get_decision(decision_id)
        return Response(ops.letter_pdf(row), mimetype="application/pdf",
                        headers={"Cache-Control": "private, no-store"})


@blp.route("/visits/<number>/grade-proposals")
class GradeProposals(MethodView):
    @roles(*OFFICE)
    @blp.doc(requestBody=_json(GradeProposalInSchema))
    @blp.response(201, GradeProposalOutSchema, description="Proposed.")
    @blp.alt_response(200, schema=GradeProposalOutSchema, description="A double submit.")
    @_refusals(404, 409, 422)
    def post(self, number):
        """Propose a risk grade and/or flags for the employer of the approved result."""
        args = _body(GradeProposalInSchema)
        before = _max_id(GradeProposal)
        row = credit.propose_grade(number, args["risk_grade"], args["flags"], args["reason"],
                                   actor=_actor())
        return row, 201 if row.id > before else 200


@blp.route("/grade-proposals/<int:proposal_id>/decision")
class GradeDecision(MethodView):
    @roles(*APPROVERS)
    @blp.doc(requestBody=_json(DecisionSchema))
    @blp.response(200, GradeProposalOutSchema)
    @_refusals(403, 404, 409, 422)
    def post(self, proposal_id):
        """Accept (the directory changes, its history keeps the reason and this proposal's
        number) or reject; a reason either way."""
        args = _body(DecisionSchema)
        return credit.decide_grade(proposal_id, args["approve"], args["reason"],
                                   actor=_actor())
