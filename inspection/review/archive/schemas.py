"""Load schemas of the archive: the job's params and the retention form."""
from __future__ import annotations

import marshmallow as ma

from ...core.fields import WholeNumber


class ArchiveParamsSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    task_id = WholeNumber(required=True, validate=ma.validate.Range(min=1))
    user_id = WholeNumber(allow_none=True, validate=ma.validate.Range(min=1))


class RetentionSchema(ma.Schema):
    """Keep a case file longer: the years (from the bureau's default) and the rule why."""

    class Meta:
        unknown = ma.EXCLUDE

    years = WholeNumber(required=True, validate=ma.validate.Range(min=1, max=100))
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))

    @ma.pre_load
    def _trim(self, data, **_kw):
        return {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
