"""marshmallow schemas of the core API; load (input) and dump (output) schemas apart."""
from __future__ import annotations

import marshmallow as ma

from .fields import UtcDateTime, WholeNumber


class FilterQuerySchema(ma.Schema):
    """Base of the query schemas of filter forms sent by GET: unknown keys are ignored, and
    empty fields (a form sends every field, empty for "any") are dropped, texts trimmed."""

    class Meta:
        unknown = ma.EXCLUDE

    @ma.pre_load
    def _blank_is_any(self, data, **_kw):
        out = {}
        for key in data:
            value = data.get(key)
            if isinstance(value, str):
                value = value.strip()
            if value not in (None, ""):
                out[key] = value
        return out


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={
        "description": "What went wrong, for programs: not_found, validation_failed, "
                       "csrf_failed, conflict, forbidden, unauthorized ..."})
    status = ma.fields.Integer(required=True, metadata={"description": "The HTTP status"})
    message = ma.fields.String(required=True, metadata={
        "description": "For people, in the user's language"})
    fields = ma.fields.Dict(keys=ma.fields.String(), metadata={
        "description": "Only when values were refused: each refused field by its (dotted) "
                       "name, with its messages (a list of texts, or for a nested value an "
                       "object of the same shape)"})


class ErrorSchema(ma.Schema):
    """Every error of the API, whatever its status (see :mod:`inspection.core.errors`)."""

    error = ma.fields.Nested(ErrorBodySchema, required=True)


class CsrfTokenSchema(ma.Schema):
    csrf_token = ma.fields.String(required=True)
    header = ma.fields.String(required=True, metadata={"description": "Send the token in this header"})


class DepartmentDumpSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    code = ma.fields.String()
    active = ma.fields.Boolean()


class MeSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String()
    department = ma.fields.Nested(DepartmentDumpSchema)
    roles = ma.fields.Method("dump_roles")
    locale = ma.fields.String(allow_none=True)
    position = ma.fields.String(allow_none=True, metadata={
        "description": "head, deputy_head or principal_head: which acts the user approves "
                       "follows from the bureau's settings"})
    #: The language in force for this user now (``zh_CN`` or ``en``): the account's choice,
    #: else the ``lang`` cookie, else the bureau's default. The field app follows it.
    language = ma.fields.Method("dump_language")
    must_change_password = ma.fields.Boolean()

    def dump_roles(self, user):
        return sorted(user.roles)

    def dump_language(self, user):
        from .i18n import LANGUAGES, current_language

        # the account's choice first, as select_locale does (and right after a PATCH too)
        return user.locale if user.locale in LANGUAGES else current_language()


class AuditQuerySchema(ma.Schema):
    actor = ma.fields.String(validate=ma.validate.Length(max=64))
    action = ma.fields.String(validate=ma.validate.Length(max=64))
    object_type = ma.fields.String(validate=ma.validate.Length(max=64))
    object_id = ma.fields.String(validate=ma.validate.Length(max=64))
    date_from = ma.fields.Date()
    date_to = ma.fields.Date()
    before = WholeNumber(validate=ma.validate.Range(min=1))
    limit = WholeNumber(load_default=50, validate=ma.validate.Range(min=1, max=500))


class AuditEntryDumpSchema(ma.Schema):
    seq = ma.fields.Integer()
    at = UtcDateTime()
    actor_name = ma.fields.String()
    actor_roles = ma.fields.String()
    action = ma.fields.String()
    object_type = ma.fields.String()
    object_id = ma.fields.String(allow_none=True)
    summary = ma.fields.Dict()
    client_address = ma.fields.String(allow_none=True)
    prev_hash = ma.fields.String()
    hash = ma.fields.String()


class MeUpdateSchema(ma.Schema):
    locale = ma.fields.String(required=True, validate=ma.validate.OneOf(["zh_CN", "en"]))
