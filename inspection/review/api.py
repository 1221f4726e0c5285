"""The office's review API under ``/api/v1/review``: the queue, a visit's review state, and
every act after the visit (return, determination and its decision, publication, exceptions,
feedback and its letter, objections entered by the office and their review, corrections).
Thin: the work is in :mod:`.operations`.

Bodies are checked by the load schemas of :mod:`.schemas` (the same as the office's pages),
and a refusal answers ``{"error": {...}}`` with field errors in the user's language and
changes nothing. A proposal or record answers ``201`` when made and ``200`` with the stored
row when it is a double submit; a decision already taken by someone else answers ``409``.
"""
from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import func, select

from ..core.access import roles
from ..core.openapi import Blueprint
from ..extensions import db
from ..fieldwork.models import ReviewReturn
from . import documents, forms
from . import operations as ops
from .models import Correction, Feedback, Objection, PublicationException
from .schemas import (CorrectionInSchema, CorrectionOutSchema, DecisionSchema,
                      DeterminationInSchema, DeterminationStateSchema, ExceptionInSchema,
                      ExceptionOutSchema, FeedbackInSchema, FeedbackOutSchema,
                      ObjectionDecisionSchema, ObjectionInSchema, ObjectionOutSchema,
                      PublicationOutSchema, ReturnOutSchema, ReturnSchema,
                      ReviewQueuePageSchema, ReviewQueueQuerySchema, ReviewStateSchema,
                      WaitingOutSchema)
from .documents import APPROVERS, OFFICE, READERS, REVIEWERS

blp = Blueprint("review_api", __name__, url_prefix="/api/v1/review",
                description="After the visit: the office's review queue, determination and "
                            "its approval (four eyes), publication and its exceptions, "
                            "feedback to the employer, objections and corrections")


def _actor():
    return current_user._get_current_object()


def _body(schema) -> dict[str, Any]:
    return forms.load(schema, request.get_json(silent=True))


def _json(schema) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _max_id(model) -> int:
    return db.session.scalar(select(func.max(model.id))) or 0


REFUSALS = {
    403: "Not the caller's to decide (role, position, department, four eyes).",
    404: "No such visit or row.",
    409: "Not possible in the visit's current state, or decided already by someone else.",
    422: "Not valid; see ``fields``. Nothing was changed.",
}


def refusals_of(blueprint):
    """A decorator factory documenting the review's refusals (:data:`REFUSALS`) on an
    operation of ``blueprint``: the review's API and its later steps' (review/handling/)."""
    def refusals(*codes: int):
        def decorate(fn):
            for code in codes:
                fn = blueprint.alt_response(code, description=REFUSALS[code])(fn)
            return fn
        return decorate
    return refusals


_refusals = refusals_of(blp)


@blp.route("/queue")
class Queue(MethodView):
    @roles(*READERS)
    @blp.arguments(ReviewQueueQuerySchema, location="query")
    @blp.response(200, ReviewQueuePageSchema)
    def get(self, args):
        """Visits whose sealed record waits for review, oldest arrival first, with the
        on-site result and the review's due date (REVIEW_WORKDAYS working days after the
        record arrived; ``deadline`` null and ``missing_year`` set when that year has no
        working-day calendar)."""
        return documents.queue(args["page"], args["per_page"])


@blp.route("/approvals")
class Approvals(MethodView):
    @roles(*APPROVERS)
    @blp.response(200, WaitingOutSchema(many=True))
    def get(self):
        """What waits for my decision and that I may approve (my position and department,
        not my own proposal, not a visit I was on)."""
        return documents.approvals_for(_actor())


@blp.route("/visits/<number>")
class VisitState(MethodView):
    @roles(*READERS)
    @blp.response(200, ReviewStateSchema)
    @_refusals(404)
    def get(self, number):
        """A visit after the visit: the sealed record's facts, returns, determinations (the
        current one and the history), publication, exceptions, feedback, objections,
        corrections, the employer's previous results and the acts I may do now."""
        return documents.review_state(ops.get_visit(number), _actor())


@blp.route("/visits/<number>/return")
class Return(MethodView):
    @roles(*OFFICE)
    @blp.doc(requestBody=_json(ReturnSchema))
    @blp.response(201, ReturnOutSchema, description="Returned to the team.")
    @blp.alt_response(200, schema=ReturnOutSchema, description="A double submit: the stored "
                                                               "return.")
    @_refusals(404, 409, 422)
    def post(self, number):
        """Return the sealed record to its team with comments (general and per question).
        The team's sealed correction puts it back in the queue."""
        args = _body(ReturnSchema)
        before = _max_id(ReviewReturn)
        row = ops.return_record(number, args["comments"], args["item_comments"],
                                actor=_actor())
        return row, 201 if row.id > before else 200


@blp.route("/visits/<number>/determinations")
class Determinations(MethodView):
    @roles(*OFFICE)
    @blp.doc(requestBody=_json(DeterminationInSchema))
    @blp.response(201, DeterminationStateSchema, description="Proposed.")
    @blp.alt_response(200, schema=DeterminationStateSchema,
                      description="A double submit (same ``key``): the stored proposal.")
    @_refusals(404, 409, 422)
    def post(self, number):
        """Propose the bureau's result: a category of the bureau's list, findings per item
        or question, and for problems the handling (a rectification order with its due
        date). An approver decides it."""
        args = _body(DeterminationInSchema)
        before = _max_id(ops.Determination)
        det = ops.propose_determination(number, args["result_category"], args["findings"],
                                        args["summary"], actor=_actor(),
                                        request_key=args["key"])
        return det, 201 if det.id > before else 200


@blp.route("/determinations/<int:determination_id>/decision")
class DeterminationDecision(MethodView):
    @roles(*APPROVERS)
    @blp.doc(requestBody=_json(DecisionSchema))
    @blp.response(200, DeterminationStateSchema)
    @_refusals(403, 404, 409, 422)
    def post(self, determination_id):
        """Approve (it becomes the bureau's result, to publish; the publication deadline is
        set) or reject with reasons (the record goes back to the queue)."""
        args = _body(DecisionSchema)
        return ops.decide_determination(determination_id, args["approve"], args["reason"],
                                        actor=_actor())


@blp.route("/visits/<number>/publish")
class Publish(MethodView):
    @roles(*OFFICE)
    @blp.response(200, PublicationOutSchema)
    @_refusals(404, 409)
    def post(self, number):
        """Publish the approved result; records whether the deadline was met, and starts
        the publication period (objections are taken until ``period_end``)."""
        return ops.publish(number, actor=_actor())


@blp.route("/visits/<number>/exceptions")
class Exceptions(MethodView):
    @roles(*OFFICE)
    @blp.doc(requestBody=_json(ExceptionInSchema))
    @blp.response(201, ExceptionOutSchema, description="Proposed.")
    @blp.alt_response(200, schema=ExceptionOutSchema, description="A double submit.")
    @_refusals(404, 409, 422)
    def post(self, number):
        """Propose to withhold the approved result from publication (state secrets,
        national or public security, not fit for disclosure by law), with the reason."""
        args = _body(ExceptionInSchema)
        before = _max_id(PublicationException)
        row = ops.propose_exception(number, args["kind"], args["reason"], actor=_actor())
        return row, 201 if row.id > before else 200


@blp.route("/exceptions/<int:exception_id>/decision")
class ExceptionDecision(MethodView):
    @roles(*APPROVERS)
    @blp.doc(requestBody=_json(DecisionSchema))
    @blp.response(200, ExceptionOutSchema)
    @_refusals(403, 404, 409, 422)
    def post(self, exception_id):
        """The position the bureau names approves (the result is withheld and counts as
        handled) or rejects with reasons."""
        args = _body(DecisionSchema)
        return ops.decide_exception(exception_id, args["approve"], args["reason"],
                                    actor=_actor())


@blp.route("/visits/<number>/feedback")
class FeedbackRecord(MethodView):
    @roles(*OFFICE)
    @blp.doc(requestBody=_json(FeedbackInSchema))
    @blp.response(201, FeedbackOutSchema, description="Recorded.")
    @blp.alt_response(200, schema=FeedbackOutSchema, description="A double submit.")
    @_refusals(404, 409, 422)
    def post(self, number):
        """Record how and when the employer was told the result (the deadline and whether
        it was met are kept). A scan or photo as proof is uploaded on the review page."""
        args = _body(FeedbackInSchema)
        before = _max_id(Feedback)
        row = ops.record_feedback(number, args["way"], args["delivered_on"], args["note"],
                                  actor=_actor())
        return row, 201 if row.id > before else 200


@blp.route("/visits/<number>/feedback-letter")
class FeedbackLetter(MethodView):
    @roles(*READERS)
    @blp.response(200, description="检查结果告知书 as PDF (application/pdf), with a QR code "
                                   "to the public result page.")
    @_refusals(404, 409)
    def get(self, number):
        """The feedback letter of the visit's current result."""
        visit = ops.get_visit(number)
        return Response(documents.feedback_letter_pdf(visit), mimetype="application/pdf",
                        headers={"Content-Disposition":
                                 f'inline; filename="feedback-{visit.number}.pdf"',
                                 "Cache-Control": "no-store"})


@blp.route("/objections")
class Objections(MethodView):
    @roles(*OFFICE)
    @blp.doc(requestBody=_json(ObjectionInSchema))
    @blp.response(201, ObjectionOutSchema, description="Entered; the review is open.")
    @blp.alt_response(200, schema=ObjectionOutSchema,
                      description="A double submit (same ``key``): the stored objection.")
    @_refusals(404, 409, 422)
    def post(self):
        """Enter an objection the office received against a published result, during its
        publication period. It opens a review (复查复核) with its own deadline."""
        args = _body(ObjectionInSchema)
        before = _max_id(Objection)
        row = ops.submit_objection(args["visit"], args["credit_code"], args["contact"],
                                   args["text"], source="office", actor=_actor(),
                                   request_key=args["key"])
        return row, 201 if row.id > before else 200


@blp.route("/objections/<int:objection_id>/decision")
class ObjectionDecision(MethodView):
    @roles(*REVIEWERS)
    @blp.doc(requestBody=_json(ObjectionDecisionSchema))
    @blp.response(200, ObjectionOutSchema)
    @_refusals(403, 404, 409, 422)
    def post(self, objection_id):
        """The outcome of the review: the result stands (``upheld``) or was wrong
        (``corrected``: a correction on the party's application follows)."""
        args = _body(ObjectionDecisionSchema)
        return ops.decide_objection(objection_id, args["status"], args["outcome"],
                                    actor=_actor())


@blp.route("/visits/<number>/corrections")
class Corrections(MethodView):
    @roles(*OFFICE)
    @blp.doc(requestBody=_json(CorrectionInSchema))
    @blp.response(201, CorrectionOutSchema, description="Proposed.")
    @blp.alt_response(200, schema=CorrectionOutSchema, description="A double submit.")
    @_refusals(404, 409, 422)
    def post(self, number):
        """Propose to correct a published (or withheld) result, on the party's application
        or because the bureau found it wrong, with the reason and the corrected result.
        The result is never edited: the approved correction becomes a new result."""
        args = _body(CorrectionInSchema)
        before = _max_id(Correction)
        row = ops.propose_correction(number, args["origin"], args["reason"],
                                     args["result_category"], args["findings"],
                                     args["summary"], objection_id=args["objection_id"],
                                     actor=_actor())
        return row, 201 if row.id > before else 200


@blp.route("/corrections/<int:correction_id>/decision")
class CorrectionDecision(MethodView):
    @roles(*APPROVERS)
    @blp.doc(requestBody=_json(DecisionSchema))
    @blp.response(200, CorrectionOutSchema)
    @_refusals(403, 404, 409, 422)
    def post(self, correction_id):
        """The position the bureau names (主要负责人 by default) approves: a new determination
        becomes the result, the original stays on record, superseded. Or rejects."""
        args = _body(DecisionSchema)
        return ops.decide_correction(correction_id, args["approve"], args["reason"],
                                     actor=_actor())
