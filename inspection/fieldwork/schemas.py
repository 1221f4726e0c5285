"""Schemas of the field app's API (``/api/v1/field``), see ``docs/field-sync.md``.

The record body is checked with :class:`RecordBodySchema` but stored as received (canonical
JSON): the record is evidence, and its SHA-256 is what a retry is compared with. Unknown keys
are tolerated (a newer app may send more), never interpreted.
"""
from __future__ import annotations

import marshmallow as ma
from marshmallow import EXCLUDE, fields, validate

from ..core.fields import MAX_ID, WholeNumber
from .refusals import REFUSAL_REASONS, REPRESENTATIVE_ROLES, SIGNER_KINDS
from .results import ANSWERS, NOTICE_WAYS, ORDER_KINDS
from .models import ResultCategory

SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="Not a SHA-256 (64 lower-case hex digits).")
CODES = [c.value for c in ResultCategory]


class _Tolerant(ma.Schema):
    class Meta:
        unknown = EXCLUDE


class NoticeSchema(_Tolerant):
    date = fields.Date(required=True)
    way = fields.String(required=True, validate=validate.OneOf(NOTICE_WAYS))


class LocationSchema(_Tolerant):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    accuracy = fields.Float(allow_none=True, load_default=None, validate=validate.Range(min=0))


class ArrivalSchema(_Tolerant):
    at = fields.AwareDateTime(required=True)
    location = fields.Nested(LocationSchema, allow_none=True, load_default=None)


class OrderSchema(_Tolerant):
    kind = fields.String(required=True, validate=validate.OneOf(ORDER_KINDS))
    due = fields.Date(allow_none=True, load_default=None)
    text = fields.String(load_default="", validate=validate.Length(max=2000))


class AnswerSchema(_Tolerant):
    item = fields.String(required=True, validate=validate.Length(min=1, max=20))
    question = fields.String(required=True, validate=validate.Length(min=1, max=30))
    answer = fields.String(required=True, validate=validate.OneOf(ANSWERS))
    note = fields.String(allow_none=True, load_default="", validate=validate.Length(max=4000))
    order = fields.Nested(OrderSchema, allow_none=True, load_default=None)


class PhotoRefSchema(_Tolerant):
    uuid = fields.UUID(required=True)
    sha256 = fields.String(required=True, validate=SHA256)
    original_sha256 = fields.String(allow_none=True, load_default=None, validate=SHA256)
    question = fields.String(allow_none=True, load_default=None,
                             validate=validate.Length(max=30))
    document_copy = fields.Boolean(load_default=False)
    taken_at = fields.AwareDateTime(allow_none=True, load_default=None)
    bytes = WholeNumber(allow_none=True, load_default=None, strict=True)
    #: The photo of a delegate's written authorisation (受委托人).
    authorisation = fields.Boolean(load_default=False)


# --- signatures, refusals, sealing --------------------------------------------------

class SignerSchema(_Tolerant):
    """Who signs: ``{"kind": "inspector", "user_id"}``, ``{"kind": "representative",
    "name", "role"}`` or ``{"kind": "witness", "name"}``."""

    kind = fields.String(required=True, validate=validate.OneOf(SIGNER_KINDS))
    user_id = WholeNumber(allow_none=True, load_default=None, strict=True)
    name = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=50))
    role = fields.String(allow_none=True, load_default=None,
                         validate=validate.OneOf(list(REPRESENTATIVE_ROLES)))
    #: An inspector signing a joint visit's record: the department whose part they sign.
    department_id = WholeNumber(allow_none=True, load_default=None, strict=True)

    @ma.validates_schema
    def _complete(self, data, **kwargs):
        kind = data.get("kind")
        if kind == "inspector" and not data.get("user_id"):
            raise ma.ValidationError("An inspector signs with their user id.", "user_id")
        if kind in ("representative", "witness") and not (data.get("name") or "").strip():
            raise ma.ValidationError("The signer's name is required.", "name")
        if kind == "representative" and not data.get("role"):
            raise ma.ValidationError("The representative's role is required.", "role")


#: What :class:`SignerSchema` requires of each kind, for the API description (a marshmallow
#: field cannot say "required when"): an inspector's user id, a representative's name and
#: role, a witness's name; a name is not blank.
_NAME = {"type": "string", "minLength": 1, "maxLength": 50, "pattern": r"\S"}
SIGNER_DOC = {"oneOf": [
    {"type": "object", "required": ["kind", "user_id"], "properties": {
        "kind": {"type": "string", "enum": ["inspector"]},
        "user_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}},
    {"type": "object", "required": ["kind", "name", "role"], "properties": {
        "kind": {"type": "string", "enum": ["representative"]}, "name": _NAME,
        "role": {"type": "string", "enum": list(REPRESENTATIVE_ROLES)}}},
    {"type": "object", "required": ["kind", "name"], "properties": {
        "kind": {"type": "string", "enum": ["witness"]}, "name": _NAME}},
]}


class SignatureRefSchema(_Tolerant):
    """A signature as a sealed record lists it (its files are uploaded on their own)."""

    uuid = fields.UUID(required=True)
    signer = fields.Nested(SignerSchema, required=True, metadata=SIGNER_DOC)
    signs = fields.String(required=True, validate=SHA256)
    signed_at = fields.AwareDateTime(allow_none=True, load_default=None)
    strokes_sha256 = fields.String(required=True, validate=SHA256)
    svg_sha256 = fields.String(required=True, validate=SHA256)
    png_sha256 = fields.String(required=True, validate=SHA256)


class WitnessSchema(_Tolerant):
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))


class RefusalSchema(_Tolerant):
    reason = fields.String(required=True, validate=validate.OneOf(REFUSAL_REASONS))
    explanation = fields.String(load_default="", validate=validate.Length(max=4000))
    witnesses = fields.List(fields.Nested(WitnessSchema), load_default=list,
                            validate=validate.Length(max=10))
    #: UUIDs of photos listed in the record that fix the scene.
    photos = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=100))


class PointSchema(_Tolerant):
    """A point of signature_pad's ``toData()``: CSS pixels and ``time`` in ms."""

    x = fields.Float(required=True, allow_nan=False)
    y = fields.Float(required=True, allow_nan=False)
    time = fields.Float(required=True, allow_nan=False)
    pressure = fields.Float(allow_none=True, load_default=None, allow_nan=False)


class StrokeSchema(_Tolerant):
    points = fields.List(fields.Nested(PointSchema), required=True,
                         validate=validate.Length(min=1, max=5000))


class SignatureUploadSchema(_Tolerant):
    """``PUT /api/v1/field/signatures/<uuid>``: one signature with its three files."""

    visit = fields.String(required=True, validate=validate.Length(min=1, max=30))
    signer = fields.Nested(SignerSchema, required=True, metadata=SIGNER_DOC)
    signs = fields.String(required=True, validate=SHA256)
    signed_at = fields.AwareDateTime(required=True)
    strokes = fields.List(fields.Nested(StrokeSchema), required=True,
                          validate=validate.Length(min=1, max=200))
    strokes_sha256 = fields.String(required=True, validate=SHA256)
    svg = fields.String(required=True, validate=validate.Length(min=1, max=1_000_000))
    svg_sha256 = fields.String(required=True, validate=SHA256)
    png = fields.String(required=True, validate=validate.Length(min=1, max=1_400_000))
    png_sha256 = fields.String(required=True, validate=SHA256)


class SignatureReceiptSchema(ma.Schema):
    key = fields.String()
    kind = fields.String()
    sha256 = fields.String()
    received_at = fields.String()
    signs = fields.String()
    strokes_sha256 = fields.String()
    svg_sha256 = fields.String()
    png_sha256 = fields.String()


class DepartmentPartSchema(_Tolerant):
    """One department of a joint visit's team and what it answers for (the pack's
    ``departments``, copied into the record)."""

    department_id = WholeNumber(required=True, strict=True)
    name = fields.String(required=True, validate=validate.Length(max=100))
    lead = fields.Boolean(required=True)
    items = fields.List(fields.String(validate=validate.Length(max=30)), required=True,
                        validate=validate.Length(max=200))
    questions = fields.List(fields.String(validate=validate.Length(max=40)), required=True,
                            validate=validate.Length(max=2000))


class PartSchema(_Tolerant):
    """Marks a team member's part of a joint visit (``inspection.fieldwork.joint``)."""

    finished = fields.Boolean(load_default=False)


class RecordBodySchema(_Tolerant):
    """A save of the visit record (``PUT /api/v1/field/records/<revision_uuid>``)."""

    record_id = fields.UUID(required=True)
    revision = WholeNumber(required=True, strict=True, validate=validate.Range(min=1))
    visit = fields.String(required=True, validate=validate.Length(min=1, max=30))
    saved_at = fields.AwareDateTime(required=True)
    notice = fields.Nested(NoticeSchema, allow_none=True, load_default=None)
    arrival = fields.Nested(ArrivalSchema, allow_none=True, load_default=None)
    answers = fields.List(fields.Nested(AnswerSchema), load_default=list,
                          validate=validate.Length(max=1000))
    result_category = fields.String(allow_none=True, load_default=None,
                                    validate=validate.OneOf(CODES))
    photos = fields.List(fields.Nested(PhotoRefSchema), load_default=list,
                         validate=validate.Length(max=1000))
    refusal = fields.Nested(RefusalSchema, allow_none=True, load_default=None)
    #: A member's part of a split joint visit, not the visit's record.
    part = fields.Nested(PartSchema, allow_none=True, load_default=None)
    #: A joint visit's record: the team's departments, each signing its part.
    departments = fields.List(fields.Nested(DepartmentPartSchema), allow_none=True,
                              load_default=None, validate=validate.Length(max=20))
    signatures = fields.List(fields.Nested(SignatureRefSchema), load_default=list,
                             validate=validate.Length(max=50))
    seal = fields.String(allow_none=True, load_default=None, validate=SHA256)
    corrects = fields.UUID(allow_none=True, load_default=None)
    correction_reason = fields.String(allow_none=True, load_default=None,
                                      validate=validate.Length(max=2000))


# --- answers (documentation of the responses) -------------------------------------------------

class RecordReceiptSchema(ma.Schema):
    key = fields.String()
    kind = fields.String()
    sha256 = fields.String()
    received_at = fields.String()
    record_id = fields.String()
    revision = fields.Integer()
    missing_photos = fields.List(fields.String())
    seal = fields.String(allow_none=True)
    missing_signatures = fields.List(fields.String())


class PhotoReceiptSchema(ma.Schema):
    key = fields.String()
    kind = fields.String()
    sha256 = fields.String()
    received_at = fields.String()
    width = fields.Integer()
    height = fields.Integer()


class EmployerBriefSchema(ma.Schema):
    name = fields.String()
    credit_code = fields.String()
    address = fields.String()


class TeamMemberSchema(ma.Schema):
    name = fields.String()
    is_leader = fields.Boolean()
    is_me = fields.Boolean()
    user_id = fields.Integer(allow_none=True)
    department_id = fields.Integer()


class ItemBriefSchema(ma.Schema):
    code = fields.String()
    name = fields.String()


class TaskBriefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    announced = fields.Boolean()


class FieldVisitSchema(ma.Schema):
    number = fields.String()
    employer = fields.Nested(EmployerBriefSchema)
    window = fields.List(fields.String())
    status = fields.String()
    announced = fields.Boolean()
    tasks = fields.List(fields.Nested(TaskBriefSchema))
    items = fields.List(fields.Nested(ItemBriefSchema))
    team = fields.List(fields.Nested(TeamMemberSchema))
    #: The office returned the sealed record to the team (comments in the pack's ``review``).
    returned = fields.Boolean()
    #: A rectification follow-up (复查): the number of the visit it checks again.
    follows = fields.String(allow_none=True)
    pack_etag = fields.String()


class RecordStateSchema(ma.Schema):
    visit = fields.String()
    record_id = fields.String(allow_none=True)
    revision = fields.Integer(allow_none=True)
    revision_uuid = fields.String(allow_none=True)
    received_at = fields.String(allow_none=True)
    result_category = fields.String(allow_none=True)
    revisions = fields.Integer()
    photos_listed = fields.List(fields.String())
    photos_received = fields.List(fields.String())
    missing_photos = fields.List(fields.String())
    complete = fields.Boolean()
    body = fields.Dict(allow_none=True)
    seal = fields.String(allow_none=True)
    missing_signatures = fields.List(fields.String())
    sealed_revision_uuid = fields.String(allow_none=True)
