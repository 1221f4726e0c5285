"""marshmallow schemas of the employers API; load (input) and dump (output) schemas apart.
The schemas check shapes and types only; the rules of the values (known region, valid credit
code, reason for a grade change ...) are the operations', so the API and the pages agree."""
from __future__ import annotations

import marshmallow as ma
from marshmallow.validate import Length, OneOf, Range

from ...core.fields import UtcDateTime, WholeNumber
from .importer import FLAG_FIELDS


class EmployerDumpSchema(ma.Schema):
    id = ma.fields.Integer()
    credit_code = ma.fields.String()
    name = ma.fields.String()
    employer_type = ma.fields.String()
    address = ma.fields.String()
    region_code = ma.fields.String()
    region_name = ma.fields.Function(lambda e: e.region.name if e.region else None)
    industry = ma.fields.String()
    legal_representative = ma.fields.String()
    contact_phone = ma.fields.String()
    employees = ma.fields.Integer(allow_none=True)
    risk_grade = ma.fields.String()
    flag_complaints = ma.fields.Boolean()
    flag_abnormal = ma.fields.Boolean()
    flag_serious_violation = ma.fields.Boolean()
    status = ma.fields.String()
    notes = ma.fields.String()
    code_override_reason = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    import_id = ma.fields.Integer(allow_none=True)


class EmployerPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(EmployerDumpSchema))
    count = ma.fields.Integer(metadata={"description": "Matches, counted up to 10000"})
    capped = ma.fields.Boolean(metadata={"description": "More than 10000 match"})
    next_after = ma.fields.Integer(allow_none=True,
                                   metadata={"description": "Pass as `after` for the next page"})
    prev_before = ma.fields.Integer(allow_none=True,
                                    metadata={"description": "Pass as `before` for the previous page"})


class EmployerQuerySchema(ma.Schema):
    q = ma.fields.String(validate=Length(max=100),
                         metadata={"description": "Name prefix, or credit-code prefix"})
    contains = ma.fields.Boolean(metadata={"description": "Match the name anywhere (slower)"})
    region_code = ma.fields.String(validate=Length(max=12))
    industry = ma.fields.String(validate=Length(max=1))
    employer_type = ma.fields.String(validate=Length(max=30))
    risk_grade = ma.fields.String(validate=OneOf(["A", "B", "C", "D"]))
    flag = ma.fields.String(validate=OneOf(FLAG_FIELDS))
    status = ma.fields.String(validate=Length(max=20))
    after = WholeNumber(validate=Range(min=0))
    before = WholeNumber(validate=Range(min=1))
    limit = WholeNumber(load_default=50, validate=Range(min=1, max=500))


class _EmployerFields(ma.Schema):
    name = ma.fields.String(validate=Length(max=200))
    employer_type = ma.fields.String(validate=Length(max=60))
    address = ma.fields.String(validate=Length(max=300))
    region_code = ma.fields.String(validate=Length(max=100))
    industry = ma.fields.String(validate=Length(max=60))
    legal_representative = ma.fields.String(validate=Length(max=50))
    contact_phone = ma.fields.String(validate=Length(max=30))
    employees = WholeNumber(allow_none=True, validate=Range(min=0))
    risk_grade = ma.fields.String(validate=Length(max=20))
    flag_complaints = ma.fields.Boolean()
    flag_abnormal = ma.fields.Boolean()
    flag_serious_violation = ma.fields.Boolean()
    status = ma.fields.String(validate=Length(max=20))
    notes = ma.fields.String(validate=Length(max=4000))


class EmployerCreateSchema(_EmployerFields):
    credit_code = ma.fields.String(required=True, validate=Length(min=1, max=40))
    name = ma.fields.String(required=True, validate=Length(min=1, max=200))
    employer_type = ma.fields.String(required=True, validate=Length(min=1, max=60))
    region_code = ma.fields.String(required=True, validate=Length(min=1, max=100))
    industry = ma.fields.String(required=True, validate=Length(min=1, max=60))
    override_reason = ma.fields.String(
        validate=Length(max=1000),
        metadata={"description": "Accept a non-conforming legacy code, with this reason "
                                 "(office or admin)"})


class EmployerUpdateSchema(_EmployerFields):
    version = WholeNumber(required=True, metadata={
        "description": "The version the change is based on; a stale one answers 409"})
    reason = ma.fields.String(validate=Length(max=1000), metadata={
        "description": "Why; required when the risk grade or a flag changes"})
