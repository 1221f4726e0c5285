"""marshmallow schemas of the catalogue API; load (input) and dump (output) schemas apart.

Load schemas check shapes and types; the rules of the domain (ratio cap, known employer
types, existing department, unique code ...) are checked once, in :mod:`.operations`, so the
form and the API answer with the same per-field messages.
"""
from __future__ import annotations

import marshmallow as ma

from .operations import TEXT_MAX


# ----------------------------------------------------------------------------- load
class QuestionLoadSchema(ma.Schema):
    text = ma.fields.String(required=True, validate=ma.validate.Length(max=TEXT_MAX))
    legal_basis = ma.fields.String(required=True, validate=ma.validate.Length(max=TEXT_MAX))
    evidence_hint = ma.fields.String(load_default="", validate=ma.validate.Length(max=TEXT_MAX))


class _ItemFields(ma.Schema):
    name = ma.fields.String()
    name_en = ma.fields.String()
    legal_basis = ma.fields.String()
    content = ma.fields.String()
    department_id = ma.fields.Integer()
    target_types = ma.fields.List(ma.fields.String(), metadata={
        "description": "Employer type codes (inspection.directory.reference.EMPLOYER_TYPES)"})
    method = ma.fields.String(metadata={"description": "on_site, written, online, third_party"})
    kind = ma.fields.String(metadata={"description": "general (ratio capped) or key"})
    ratio = ma.fields.Decimal(metadata={"description": "Default draw ratio, a fraction in (0, 1]"})
    frequency = ma.fields.Integer(metadata={"description": "Times a year"})
    questions = ma.fields.List(ma.fields.Nested(QuestionLoadSchema), metadata={
        "description": "The ordered checklist; codes are assigned as <item code>-<nn>"})


class ItemCreateSchema(_ItemFields):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    legal_basis = ma.fields.String(required=True)
    content = ma.fields.String(required=True)
    department_id = ma.fields.Integer(required=True)
    target_types = ma.fields.List(ma.fields.String(), required=True)
    method = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    ratio = ma.fields.Decimal(required=True)
    frequency = ma.fields.Integer(load_default=1)
    questions = ma.fields.List(ma.fields.Nested(QuestionLoadSchema), required=True)
    change_note = ma.fields.String(load_default="")


class ItemReviseSchema(_ItemFields):
    """A new version: fields left out keep their current value; ``questions``, when given,
    replace the whole checklist."""

    change_note = ma.fields.String(load_default="", metadata={
        "description": "Required when anything changes"})


class RetireSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=TEXT_MAX))


class ReinstateSchema(ma.Schema):
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=TEXT_MAX))


class ItemQuerySchema(ma.Schema):
    status = ma.fields.String(load_default="active",
                              validate=ma.validate.OneOf(["active", "retired", "all"]))


class PublishSchema(ma.Schema):
    published_on = ma.fields.Date(load_default=None, metadata={
        "description": "Public from this day; default today (Asia/Shanghai)"})
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=TEXT_MAX))


class PublishedQuerySchema(ma.Schema):
    on = ma.fields.Date(load_default=None, metadata={"description": "Default today"})


# ----------------------------------------------------------------------------- dump
class QuestionDumpSchema(ma.Schema):
    id = ma.fields.Integer()
    position = ma.fields.Integer()
    code = ma.fields.String()
    text = ma.fields.String()
    legal_basis = ma.fields.String()
    evidence_hint = ma.fields.String()


class DepartmentRefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    code = ma.fields.String()


class VersionDumpSchema(ma.Schema):
    id = ma.fields.Integer()
    item_id = ma.fields.Integer()
    item_code = ma.fields.Function(lambda v: v.item.code)
    number = ma.fields.Integer()
    name = ma.fields.String()
    name_en = ma.fields.String()
    legal_basis = ma.fields.String()
    content = ma.fields.String()
    department = ma.fields.Nested(DepartmentRefSchema)
    target_types = ma.fields.List(ma.fields.String())
    method = ma.fields.String()
    kind = ma.fields.String()
    ratio = ma.fields.Function(lambda v: format(v.ratio.normalize(), "f"))
    frequency = ma.fields.Integer()
    change_note = ma.fields.String()
    created_at = ma.fields.DateTime(format="iso")
    questions = ma.fields.List(ma.fields.Nested(QuestionDumpSchema))


class ItemDumpSchema(ma.Schema):
    """An item with its current version."""

    id = ma.fields.Integer()
    code = ma.fields.String()
    status = ma.fields.String()
    retired_at = ma.fields.DateTime(format="iso", allow_none=True)
    retire_reason = ma.fields.String(allow_none=True)
    current = ma.fields.Nested(VersionDumpSchema)


class ItemWithVersionsDumpSchema(ItemDumpSchema):
    versions = ma.fields.List(ma.fields.Nested(VersionDumpSchema))


class PublicationDumpSchema(ma.Schema):
    id = ma.fields.Integer()
    published_on = ma.fields.Date()
    at = ma.fields.DateTime(format="iso")
    actor_id = ma.fields.Integer(allow_none=True)
    version_ids = ma.fields.List(ma.fields.Integer())
    note = ma.fields.String()
