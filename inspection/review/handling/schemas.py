"""Input and output of handling decisions and grade proposals (shared by the JSON API and the
office's forms). The load schemas check types and cross-field rules; the operations check
what needs the database."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...core import fields as core_fields
from ...core.fields import UtcDateTime
from ...directory.employers.labels import FLAGS, GRADES
from .models import HandlingKind

TEXT = validate.Length(max=4000)
GRADE_CODES = [g for g, _zh, _en in GRADES]
FLAG_FIELDS = [f for f, _zh, _en in FLAGS]


class HandlingInSchema(Schema):
    """The office proposes the handling decision of one problem of the result."""

    problem = core_fields.WholeNumber(required=True, validate=validate.Range(min=0, max=199))
    kind = fields.String(required=True,
                         validate=validate.OneOf([k.value for k in HandlingKind]))
    recipient = fields.String(required=True, validate=validate.Length(min=1, max=200))
    matter = fields.String(load_default="", validate=TEXT)


class SendingSchema(Schema):
    """The office records that the approved decision was sent (the letter goes with it)."""

    sent_on = fields.Date(required=True)


class OutcomeSchema(Schema):
    """What came back, as it will be published with the result."""

    outcome = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    outcome_on = fields.Date(required=True)


class GradeProposalInSchema(Schema):
    """A proposed change of the employer's risk grade and/or flags, with the reason."""

    risk_grade = fields.String(load_default=None, allow_none=True,
                               validate=validate.OneOf(GRADE_CODES))
    flags = fields.Dict(keys=fields.String(validate=validate.OneOf(FLAG_FIELDS)),
                        values=fields.Boolean(), load_default=dict)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))

    @validates_schema
    def _something(self, data, **_kw):
        if not data.get("risk_grade") and not data.get("flags"):
            raise ValidationError(_l("Propose a grade or a flag."), "risk_grade")


class HandlingOutSchema(Schema):
    id = fields.Integer()
    determination_id = fields.Integer()
    problem = fields.Integer()
    item = fields.String()
    question = fields.String(allow_none=True)
    kind = fields.String()
    recipient = fields.String()
    matter = fields.String()
    status = fields.String()
    proposed_by_id = fields.Integer()
    proposed_at = UtcDateTime()
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    decision_reason = fields.String()
    deadline = fields.Date(allow_none=True)
    deadline_year = fields.Integer(allow_none=True)
    sent_on = fields.Date(allow_none=True)
    on_time = fields.Boolean(allow_none=True)
    letter_sha256 = fields.String(allow_none=True)
    outcome = fields.String()
    outcome_on = fields.Date(allow_none=True)
    outcome_at = UtcDateTime(allow_none=True)


class ProblemOutSchema(Schema):
    problem = fields.Integer()
    item = fields.String()
    question = fields.String(allow_none=True)
    subject = fields.String()
    finding = fields.String()
    handling = fields.String()
    required = fields.Boolean()
    actions = fields.List(fields.String())
    decision = fields.Nested(HandlingOutSchema, allow_none=True)
    history = fields.List(fields.Nested(HandlingOutSchema))


class ClockOutSchema(Schema):
    start = fields.Date(allow_none=True)
    workdays = fields.Integer()
    deadline = fields.Date(allow_none=True)
    missing_year = fields.Integer(allow_none=True)
    complete_on = fields.Date(allow_none=True)
    on_time = fields.Boolean(allow_none=True)


class GradeProposalOutSchema(Schema):
    id = fields.Integer()
    employer_id = fields.Integer()
    determination_id = fields.Integer()
    from_grade = fields.String()
    risk_grade = fields.String(allow_none=True)
    flags = fields.Dict(keys=fields.String(), values=fields.Boolean())
    reason = fields.String()
    status = fields.String()
    proposed_by_id = fields.Integer()
    proposed_at = UtcDateTime()
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    decision_reason = fields.String()
    directory_change_id = fields.Integer(allow_none=True)


class HandlingStateSchema(Schema):
    visit = fields.String()
    determination_id = fields.Integer(allow_none=True)
    referral_deadline = fields.Date(allow_none=True)
    referral_missing_year = fields.Integer(allow_none=True)
    clock = fields.Nested(ClockOutSchema, allow_none=True)
    problems = fields.List(fields.Nested(ProblemOutSchema))
    earlier = fields.List(fields.Nested(HandlingOutSchema))
    proposals = fields.List(fields.Nested(GradeProposalOutSchema))
    actions = fields.List(fields.String())
