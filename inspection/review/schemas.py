"""Input and output of the steps after the visit. Load schemas check types and cross-field
rules; the operations (:mod:`inspection.review.operations`) check what needs the database.
Shared by the JSON API and the office's HTML forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..config import CATEGORY_CODES
from ..core import fields as core_fields
from .models import CorrectionOrigin, ExceptionKind, FeedbackWay, Handling, ObjectionStatus

TEXT = validate.Length(max=4000)
KEY = validate.Regexp(r"^[0-9A-Za-z_-]{8,64}$")


class FindingSchema(Schema):
    item = fields.String(required=True, validate=validate.Length(min=1, max=30))
    question = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=30))
    finding = fields.String(load_default="", validate=TEXT)
    handling = fields.String(load_default=None, allow_none=True,
                             validate=validate.OneOf([h.value for h in Handling]))
    due = fields.Date(load_default=None, allow_none=True)
    note = fields.String(load_default="", validate=TEXT)

    @validates_schema
    def _due(self, data, **_kw):
        if data.get("handling") == Handling.RECTIFICATION_ORDER.value and not data.get("due"):
            raise ValidationError(_l("A rectification order needs its due date."), "due")


class ItemCommentSchema(Schema):
    item = fields.String(required=True, validate=validate.Length(min=1, max=30))
    question = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=30))
    comment = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ReturnSchema(Schema):
    comments = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    item_comments = fields.List(fields.Nested(ItemCommentSchema), load_default=list,
                                validate=validate.Length(max=200))


class DeterminationInSchema(Schema):
    result_category = fields.String(required=True, validate=validate.OneOf(CATEGORY_CODES))
    findings = fields.List(fields.Nested(FindingSchema), load_default=list,
                           validate=validate.Length(max=200))
    summary = fields.String(load_default="", validate=TEXT)
    key = fields.String(load_default=None, allow_none=True, validate=KEY,
                        metadata={"description": "idempotency key: a double submit answers "
                                                 "the stored proposal"})


class DecisionSchema(Schema):
    approve = fields.Boolean(required=True)
    reason = fields.String(load_default="", validate=TEXT)

    @validates_schema
    def _reason(self, data, **_kw):
        if not data.get("approve") and not (data.get("reason") or "").strip():
            raise ValidationError(_l("Say why it is rejected."), "reason")


class ExceptionInSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ExceptionKind]))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class FeedbackInSchema(Schema):
    way = fields.String(required=True, validate=validate.OneOf([w.value for w in FeedbackWay]))
    delivered_on = fields.Date(required=True)
    note = fields.String(load_default="", validate=TEXT)


class ObjectionInSchema(Schema):
    """An objection from the public page (no account) or entered by the office."""

    visit = fields.String(required=True, validate=validate.Length(min=1, max=30))
    credit_code = fields.String(required=True, validate=validate.Length(equal=18))
    contact = fields.String(required=True, validate=validate.Length(min=1, max=200))
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    key = fields.String(load_default=None, allow_none=True, validate=KEY)


class ObjectionDecisionSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(
        [ObjectionStatus.UPHELD.value, ObjectionStatus.CORRECTED.value]))
    outcome = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class CorrectionInSchema(Schema):
    origin = fields.String(required=True,
                           validate=validate.OneOf([o.value for o in CorrectionOrigin]))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    result_category = fields.String(required=True, validate=validate.OneOf(CATEGORY_CODES))
    findings = fields.List(fields.Nested(FindingSchema), load_default=list,
                           validate=validate.Length(max=200))
    summary = fields.String(load_default="", validate=TEXT)
    objection_id = core_fields.WholeNumber(load_default=None, allow_none=True,
                                  validate=validate.Range(min=1, max=2**31 - 1))


# --- output -----------------------------------------------------------------------------------

class UtcDateTime(core_fields.UtcDateTime):
    """A stored naive UTC time, sent with its zone, to the second (``...T08:30:00Z``)."""

    def __init__(self, **kwargs):
        super().__init__(timespec="seconds", **kwargs)


class DeterminationOutSchema(Schema):
    id = fields.Integer()
    visit = fields.Function(lambda d: d.visit.number)
    result_category = fields.String()
    findings = fields.List(fields.Dict())
    summary = fields.String()
    status = fields.String()
    proposed_at = UtcDateTime()
    decided_at = UtcDateTime(allow_none=True)
    decision_reason = fields.String()
    corrects_id = fields.Integer(allow_none=True)


class PublicationOutSchema(Schema):
    status = fields.String()
    clock = fields.String()
    clock_start = fields.Date()
    workdays = fields.Integer()
    deadline = fields.Date(allow_none=True)
    deadline_year = fields.Integer(allow_none=True)
    published_at = UtcDateTime(allow_none=True)
    on_time = fields.Boolean(allow_none=True)
    period_end = fields.Date(allow_none=True)


class ObjectionReceiptSchema(Schema):
    number = fields.String()
    status = fields.String()
    submitted_at = UtcDateTime()
    deadline = fields.Date(allow_none=True)
    outcome = fields.String()


# --- output of the office's review API (inspection/review/api.py) ------------------------------

class DeadlineOutSchema(Schema):
    """A deadline in working days: ``deadline`` is null when it falls in a year with no
    working-day calendar, named by ``missing_year``."""

    deadline = fields.Date(allow_none=True)
    missing_year = fields.Integer(allow_none=True)


class ReviewQueueQuerySchema(Schema):
    page = core_fields.WholeNumber(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = core_fields.WholeNumber(load_default=50, validate=validate.Range(min=1, max=200))


class ReviewQueueItemSchema(Schema):
    visit = fields.String(attribute="number")
    employer = fields.Function(lambda r: r.employer.name)
    credit_code = fields.Function(lambda r: r.employer.credit_code)
    tasks = fields.List(fields.String())
    arrived_at = UtcDateTime(allow_none=True)
    check_date = fields.Date(allow_none=True)
    on_site_category = fields.String(allow_none=True)
    on_site_label = fields.String()
    returned_before = fields.Integer(metadata={"description": "times the record was returned "
                                                              "to the team before"})
    review_due = fields.Nested(DeadlineOutSchema, metadata={
        "description": "REVIEW_WORKDAYS working days after the check"})


class ReviewQueuePageSchema(Schema):
    items = fields.List(fields.Nested(ReviewQueueItemSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()
    total = fields.Integer()


class ReturnOutSchema(Schema):
    id = fields.Integer()
    comments = fields.String()
    item_comments = fields.List(fields.Dict())
    returned_by_id = fields.Integer()
    returned_at = UtcDateTime()
    resolved_at = UtcDateTime(allow_none=True)


class DeterminationStateSchema(DeterminationOutSchema):
    proposed_by_id = fields.Integer()
    decided_by_id = fields.Integer(allow_none=True)
    superseded_at = UtcDateTime(allow_none=True)


class ExceptionOutSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    reason = fields.String()
    status = fields.String()
    proposed_by_id = fields.Integer()
    proposed_at = UtcDateTime()
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    decision_reason = fields.String()


class FeedbackOutSchema(Schema):
    id = fields.Integer()
    determination_id = fields.Integer()
    way = fields.String()
    delivered_on = fields.Date()
    note = fields.String()
    proof_sha256 = fields.String(allow_none=True)
    proof_content_type = fields.String(allow_none=True)
    deadline = fields.Date(allow_none=True)
    on_time = fields.Boolean(allow_none=True)
    recorded_by_id = fields.Integer()
    recorded_at = UtcDateTime()


class ObjectionOutSchema(Schema):
    """An objection as the office sees it (the public gets :class:`ObjectionReceiptSchema`)."""

    id = fields.Integer()
    number = fields.String()
    visit = fields.Function(lambda o: o.visit.number)
    source = fields.String()
    credit_code = fields.String()
    contact = fields.String()
    text = fields.String()
    submitted_at = UtcDateTime()
    submitted_by_id = fields.Integer(allow_none=True)
    deadline = fields.Date(allow_none=True)
    deadline_year = fields.Integer(allow_none=True)
    status = fields.String()
    outcome = fields.String()
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)


class CorrectionOutSchema(Schema):
    id = fields.Integer()
    origin = fields.String()
    objection_id = fields.Integer(allow_none=True)
    original_id = fields.Integer()
    reason = fields.String()
    result_category = fields.String()
    findings = fields.List(fields.Dict())
    summary = fields.String()
    status = fields.String()
    proposed_by_id = fields.Integer()
    proposed_at = UtcDateTime()
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    decision_reason = fields.String()
    determination_id = fields.Integer(allow_none=True)


class PreviousResultSchema(Schema):
    visit = fields.String()
    result_category = fields.String()
    result_label = fields.String()
    decided_at = UtcDateTime(allow_none=True)
    problems = fields.Integer()
    corrected = fields.Boolean()


class FeedbackDueSchema(DeadlineOutSchema):
    opens = fields.Date(allow_none=True, metadata={
        "description": "the first day feedback may be given (null: not before the "
                       "publication period ends, under publish_first)"})


def _result_label(code: str | None) -> str:
    from ..fieldwork.models import RESULT_LABELS

    return RESULT_LABELS.get(code or "", "")


class SealedRecordSchema(Schema):
    revision = fields.String(attribute="revision_uuid")
    seal = fields.String()
    received_at = UtcDateTime()
    result_category = fields.String(allow_none=True)
    result_label = fields.Function(lambda r: _result_label(r.result_category))


class ReviewStateSchema(Schema):
    """A visit after the visit, as the office sees it, with the acts the caller may do now
    (``actions``: return, propose, decide_determination, publish, propose_exception,
    decide_exception, feedback, feedback_letter, object, decide_objection,
    propose_correction, decide_correction)."""

    visit = fields.String(attribute="number")
    status = fields.String()
    status_label = fields.String()
    employer = fields.Function(lambda s: {"name": s.employer.name,
                                          "credit_code": s.employer.credit_code,
                                          "address": s.employer.address})
    tasks = fields.List(fields.String())
    record = fields.Nested(SealedRecordSchema, attribute="revision", allow_none=True)
    check_date = fields.Date(allow_none=True)
    review_due = fields.Nested(DeadlineOutSchema)
    returns = fields.List(fields.Nested(ReturnOutSchema))
    determinations = fields.List(fields.Nested(DeterminationStateSchema))
    current_determination_id = fields.Function(lambda s: s.current.id if s.current else None)
    publication = fields.Nested(PublicationOutSchema, allow_none=True)
    exceptions = fields.List(fields.Nested(ExceptionOutSchema))
    feedback = fields.List(fields.Nested(FeedbackOutSchema))
    feedback_due = fields.Nested(FeedbackDueSchema)
    objections = fields.List(fields.Nested(ObjectionOutSchema))
    corrections = fields.List(fields.Nested(CorrectionOutSchema))
    previous_results = fields.List(fields.Nested(PreviousResultSchema), attribute="previous")
    actions = fields.List(fields.String())
    public_url = fields.String()


class WaitingOutSchema(Schema):
    kind = fields.String()
    id = fields.Function(lambda w: w.row.id)
    visit = fields.Function(lambda w: w.visit.number)
    employer = fields.Function(lambda w: w.employer.name)
    proposed_by = fields.String()
    proposed_at = fields.Function(lambda w: w.row.proposed_at.isoformat(timespec="seconds")
                                  + "Z")
