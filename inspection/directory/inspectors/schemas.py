"""marshmallow schemas of the inspectors API; load (input) and dump (output) apart.

The load schemas check shapes and types; the domain rules (known department, unique
certificate number, linked account ...) are checked once, in :func:`operations.clean`.
"""
from __future__ import annotations

import marshmallow as ma

from ...core.fields import UtcDateTime, WholeNumber
from . import labels
from . import operations as ops

_v = ma.validate


class InspectorQuerySchema(ma.Schema):
    q = ma.fields.String(validate=_v.Length(max=50))
    department_id = WholeNumber()
    status = ma.fields.String(validate=_v.OneOf(labels.codes(labels.STATUSES)))
    pool = ma.fields.String(validate=_v.OneOf(labels.codes(labels.POOLS)))
    tag = ma.fields.String(validate=_v.Length(max=ops.MAX_TAG_LENGTH))
    drawable = ma.fields.Boolean()
    expiring = ma.fields.Boolean(load_default=False)
    page = WholeNumber(load_default=1, validate=_v.Range(min=1))
    per_page = WholeNumber(load_default=50, validate=_v.Range(min=1, max=500))


class _InspectorFields(ma.Schema):
    name = ma.fields.String(validate=_v.Length(max=50))
    department = ma.fields.String(metadata={"description": "Department code or name"})
    department_id = WholeNumber()
    username = ma.fields.String(allow_none=True,
                                metadata={"description": "Linked user account; null unlinks"})
    cert_kind = ma.fields.String(validate=_v.OneOf(labels.codes(labels.CERT_KINDS)))
    cert_number = ma.fields.String(validate=_v.Length(max=50))
    cert_expires = ma.fields.Date()
    qualifications = ma.fields.String(validate=_v.Length(max=2000))
    tags = ma.fields.List(ma.fields.String(validate=_v.Length(max=ops.MAX_TAG_LENGTH)),
                          validate=_v.Length(max=ops.MAX_TAGS),
                          metadata={"description": "Suggested codes: " + ", ".join(
                              labels.codes(labels.SUGGESTED_TAGS)) + "; free tags allowed"})
    status = ma.fields.String(validate=_v.OneOf(labels.codes(labels.STATUSES)))
    pool = ma.fields.String(validate=_v.OneOf(labels.codes(labels.POOLS)))
    home_region = ma.fields.String(allow_none=True, metadata={"description": "Region code"})
    phone = ma.fields.String(validate=_v.Length(max=30))
    notes = ma.fields.String(validate=_v.Length(max=2000))
    reason = ma.fields.String(validate=_v.Length(max=2000),
                              metadata={"description": "Why (kept in the history)"})

    @ma.post_load
    def department_ref(self, data, **_kw):
        if "department_id" in data:
            data["department"] = data.pop("department_id")
        return data


class InspectorCreateSchema(_InspectorFields):
    name = ma.fields.String(required=True, validate=_v.Length(min=1, max=50))
    cert_kind = ma.fields.String(required=True,
                                 validate=_v.OneOf(labels.codes(labels.CERT_KINDS)))
    cert_number = ma.fields.String(required=True, validate=_v.Length(min=1, max=50))
    cert_expires = ma.fields.Date(required=True)

    @ma.validates_schema
    def needs_department(self, data, **_kw):
        if "department" not in data and "department_id" not in data:
            raise ma.ValidationError("Give department or department_id.", "department")


class InspectorPatchSchema(_InspectorFields):
    version = WholeNumber(required=True, metadata={
        "description": "The version you read; a stale one answers 409"})


class ConflictCreateSchema(ma.Schema):
    employer_id = WholeNumber()
    credit_code = ma.fields.String(validate=_v.Length(max=18))
    relation = ma.fields.String(required=True, validate=_v.OneOf(labels.codes(labels.RELATIONS)))
    note = ma.fields.String(load_default="", validate=_v.Length(max=2000))

    @ma.validates_schema
    def needs_employer(self, data, **_kw):
        if "employer_id" not in data and not data.get("credit_code"):
            raise ma.ValidationError("Give employer_id or credit_code.", "credit_code")


class ConflictEndSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=_v.Length(min=1, max=2000))


class ConflictDumpSchema(ma.Schema):
    id = ma.fields.Integer()
    employer_id = ma.fields.Integer()
    credit_code = ma.fields.Function(lambda c: c.employer.credit_code)
    employer_name = ma.fields.Function(lambda c: c.employer.name)
    relation = ma.fields.String()
    note = ma.fields.String()
    declared_at = UtcDateTime()
    ended_at = UtcDateTime(allow_none=True)
    active = ma.fields.Function(lambda c: c.ended_at is None)


class InspectorDumpSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    department_id = ma.fields.Integer()
    department = ma.fields.Function(lambda i: i.department.code)
    department_name = ma.fields.Function(lambda i: i.department.name)
    username = ma.fields.Function(lambda i: i.user.username if i.user else None)
    cert_kind = ma.fields.String()
    cert_number = ma.fields.String()
    cert_expires = ma.fields.Date()
    certificate_expiring = ma.fields.Function(lambda i: ops.expiring_soon(i))
    qualifications = ma.fields.String()
    tags = ma.fields.List(ma.fields.String())
    status = ma.fields.String()
    pool = ma.fields.String()
    home_region = ma.fields.String(attribute="home_region_code", allow_none=True)
    phone = ma.fields.String()
    notes = ma.fields.String()
    drawable = ma.fields.Function(lambda i: not ops.why_not_drawable(i))
    not_drawable_reasons = ma.fields.Function(
        lambda i: [{"code": r.code, "message": str(r)} for r in ops.why_not_drawable(i)])
    active_conflicts = ma.fields.Function(lambda i: len(ops.active_conflicts(i)))
    version = ma.fields.Integer()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class InspectorPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(InspectorDumpSchema))
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    pages = ma.fields.Integer()
