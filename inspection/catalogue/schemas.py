"""marshmallow schemas of the catalogue; load (input) and dump (output) schemas apart.

:class:`ItemSchema` checks every rule of an item's content, types and cross-field rules alike
(the ratio cap of a general item, known employer types, an existing department, the
checklist ...); the operations load every new version through it (:func:`load_item`), so the
form and the API answer with the same per-field messages. The API's argument schemas
(``ItemCreateSchema`` ...) check the shape and types of a request body before that.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

import marshmallow as ma
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core.fields import Ratio, Text, UtcDateTime, WholeNumber, load
from ..core.models import Department
from ..core.ratios import has_places
from ..extensions import db
from .models import InspectionMethod, ItemKind
from .rules import (GENERAL_RATIO_CAP, MAX_FREQUENCY, MAX_QUESTIONS, NAME_MAX, QUESTION_FIELDS,
                    TEXT_MAX, TYPE_ORDER, percent)


# ----------------------------------------------------------------------------- content
class ItemSchema(ma.Schema):
    """The content of a version of an item, every rule checked; loads to clean values (the
    ratio to four decimals, the employer types in the reference order, the filled questions)."""

    class Meta:
        unknown = ma.EXCLUDE

    name = Text(not_blank=True, max_length=NAME_MAX)
    name_en = Text(max_length=NAME_MAX)
    legal_basis = Text(not_blank=True, max_length=TEXT_MAX)
    content = Text(not_blank=True, max_length=TEXT_MAX)
    department_id = WholeNumber(load_default=None, allow_none=True,
                                      error_messages={"invalid": _l("No such department.")})
    target_types = ma.fields.Raw(load_default=None, allow_none=True)
    method = Text()
    kind = Text()
    ratio = Ratio(load_default=None, allow_none=True,
                  error_messages={"invalid": _l("Enter the draw ratio as a number.")})
    frequency = WholeNumber(load_default=None, allow_none=True, error_messages={
        "invalid": _l("Enter how many times a year, as a whole number.")})
    questions = ma.fields.Raw(load_default=None, allow_none=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.resolved: dict[str, Any] = {}

    @ma.validates_schema(skip_on_field_errors=False)
    def _rules(self, data: dict, **_kwargs) -> None:
        errors: dict[str, list[str]] = {}

        def bad(field: str, message: str) -> None:
            errors.setdefault(field, []).append(message)

        if "department_id" in data:
            dept_id = data["department_id"]
            if dept_id is None:
                bad("department_id", _("Choose the responsible department."))
            else:
                dept = db.session.get(Department, dept_id)
                if dept is None or not dept.active:
                    bad("department_id", _("No such department."))

        raw_types = data.get("target_types") or []
        if isinstance(raw_types, str):
            raw_types = [raw_types]
        types = [str(t).strip() for t in raw_types if str(t).strip()]
        unknown = [t for t in types if t not in TYPE_ORDER]
        if unknown:
            bad("target_types", _("Unknown employer type: %(types)s", types=", ".join(unknown)))
        elif not types:
            bad("target_types", _("Choose at least one type of employer."))
        self.resolved["target_types"] = sorted(set(types), key=lambda t: TYPE_ORDER.get(t, 99))

        if data.get("method") not in {m.value for m in InspectionMethod}:
            bad("method", _("Choose a method of inspection."))
        kind = data.get("kind")
        if kind not in {k.value for k in ItemKind}:
            bad("kind", _("Choose general or key."))

        if "ratio" in data:
            ratio = data["ratio"]
            if ratio is None:
                bad("ratio", _("Enter the draw ratio as a number."))
            elif ratio <= 0 or ratio > 1:
                bad("ratio", _("The ratio must be more than 0 and at most 100%."))
            elif not has_places(ratio):
                bad("ratio", _("The ratio has at most two decimals in percent (e.g. 12.25%)."))
            elif kind == ItemKind.GENERAL.value and ratio > GENERAL_RATIO_CAP:
                bad("ratio", _("A general item's ratio may not exceed %(cap)s; make it a key "
                               "item to go higher.", cap=percent(GENERAL_RATIO_CAP)))

        if "frequency" in data:
            frequency = data["frequency"]
            if frequency is None:
                bad("frequency", _("Enter how many times a year, as a whole number."))
            elif not 1 <= frequency <= MAX_FREQUENCY:
                bad("frequency", _("Between 1 and %(n)d times a year.", n=MAX_FREQUENCY))

        questions = []
        for n, row in enumerate(data.get("questions") or [], start=1):
            row = row or {}
            q = {key: _text(row, key) for key in QUESTION_FIELDS}
            if not any(q.values()):
                continue  # an empty row of the form
            if not q["text"]:
                bad("questions", _("Question %(n)d: the question is required.", n=n))
            if not q["legal_basis"]:
                bad("questions", _("Question %(n)d: the legal basis is required.", n=n))
            if any(len(v) > TEXT_MAX for v in q.values()):
                bad("questions", _("Question %(n)d: at most %(max)d characters per field.",
                                   n=n, max=TEXT_MAX))
            questions.append(q)
        if not questions:
            bad("questions", _("An item needs at least one checklist question."))
        elif len(questions) > MAX_QUESTIONS:
            bad("questions", _("At most %(n)d questions.", n=MAX_QUESTIONS))
        self.resolved["questions"] = questions
        if errors:
            raise ma.ValidationError(errors)

    @ma.post_load
    def _clean(self, data: dict, **_kwargs) -> dict[str, Any]:
        return {**data, **self.resolved, "ratio": data["ratio"].quantize(Decimal("0.0001"))}


def _text(values: Mapping[str, Any], key: str) -> str:
    value = values.get(key)
    return "" if value is None else str(value).strip()


def load_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """An item's content as clean values (see :class:`ItemSchema`), or ValidationFailed."""
    return load(ItemSchema(), values)


# ----------------------------------------------------------------------------- API arguments
class QuestionLoadSchema(ma.Schema):
    text = ma.fields.String(required=True, validate=ma.validate.Length(max=TEXT_MAX))
    legal_basis = ma.fields.String(required=True, validate=ma.validate.Length(max=TEXT_MAX))
    evidence_hint = ma.fields.String(load_default="", validate=ma.validate.Length(max=TEXT_MAX))


class _ItemFields(ma.Schema):
    name = ma.fields.String()
    name_en = ma.fields.String()
    legal_basis = ma.fields.String()
    content = ma.fields.String()
    department_id = WholeNumber()
    target_types = ma.fields.List(ma.fields.String(), metadata={
        "description": "Employer type codes (inspection.directory.reference.EMPLOYER_TYPES)"})
    method = ma.fields.String(metadata={"description": "on_site, written, online, third_party"})
    kind = ma.fields.String(metadata={"description": "general (ratio capped) or key"})
    ratio = ma.fields.Decimal(metadata={"description": "Default draw ratio, a fraction in (0, 1]"})
    frequency = WholeNumber(metadata={"description": "Times a year"})
    questions = ma.fields.List(ma.fields.Nested(QuestionLoadSchema), metadata={
        "description": "The ordered checklist; codes are assigned as <item code>-<nn>"})


class ItemCreateSchema(_ItemFields):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    legal_basis = ma.fields.String(required=True)
    content = ma.fields.String(required=True)
    department_id = WholeNumber(required=True)
    target_types = ma.fields.List(ma.fields.String(), required=True)
    method = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    ratio = ma.fields.Decimal(required=True)
    frequency = WholeNumber(load_default=1)
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
    created_at = UtcDateTime()
    questions = ma.fields.List(ma.fields.Nested(QuestionDumpSchema))


class ItemDumpSchema(ma.Schema):
    """An item with its current version."""

    id = ma.fields.Integer()
    code = ma.fields.String()
    status = ma.fields.String()
    retired_at = UtcDateTime(allow_none=True)
    retire_reason = ma.fields.String(allow_none=True)
    current = ma.fields.Nested(VersionDumpSchema)


class ItemWithVersionsDumpSchema(ItemDumpSchema):
    versions = ma.fields.List(ma.fields.Nested(VersionDumpSchema))


class PublicationDumpSchema(ma.Schema):
    id = ma.fields.Integer()
    published_on = ma.fields.Date()
    at = UtcDateTime()
    actor_id = ma.fields.Integer(allow_none=True)
    version_ids = ma.fields.List(ma.fields.Integer())
    note = ma.fields.String()
