"""Load schemas of the reports: a report's job params and the forms that ask for one."""
from __future__ import annotations

import marshmallow as ma
from flask_babel import gettext as _

from ..core.fields import WholeNumber


class ReportParamsSchema(ma.Schema):
    """A summary report to make: of a task or of a year, as PDF or XLSX."""

    class Meta:
        unknown = ma.RAISE

    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(("task", "year")))
    task_id = WholeNumber(validate=ma.validate.Range(min=1))
    year = WholeNumber(validate=ma.validate.Range(min=2000, max=2200))
    format = ma.fields.String(required=True, validate=ma.validate.OneOf(("pdf", "xlsx")))
    user_id = WholeNumber(allow_none=True, validate=ma.validate.Range(min=1))

    @ma.validates_schema
    def _one_subject(self, data, **_kw):
        if data.get("kind") == "task" and data.get("task_id") is None:
            raise ma.ValidationError(_("Required."), "task_id")
        if data.get("kind") == "year" and data.get("year") is None:
            raise ma.ValidationError(_("Required."), "year")


class FormatSchema(ma.Schema):
    """The format chosen on a page's button."""

    class Meta:
        unknown = ma.EXCLUDE

    format = ma.fields.String(required=True, validate=ma.validate.OneOf(("pdf", "xlsx")))


class CloseSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
