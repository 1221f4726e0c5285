"""The job queue's marshmallow schemas: load (input) and dump (output) apart."""
from __future__ import annotations

import marshmallow as ma
from flask import url_for

from ..core.fields import UtcDateTime
from . import operations as ops

#: A job's params through the generic submission: a few plain values, nothing nested.
MAX_PARAMS = 20


class JobSubmitSchema(ma.Schema):
    """``POST /jobs/`` and ``POST /api/v1/jobs``: a kind whose ``roles`` allow the caller,
    and its params (names to plain values; the kind's handler checks their meaning)."""

    class Meta:
        unknown = ma.RAISE

    kind = ma.fields.String(required=True, validate=ma.validate.Length(1, 40))
    params = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$")),
        values=ma.fields.Raw(), load_default=dict)

    @ma.validates("params")
    def _plain(self, value, **_kw):
        if len(value) > MAX_PARAMS:
            raise ma.ValidationError(f"At most {MAX_PARAMS} values.")
        for item in value.values():
            if not (item is None or isinstance(item, (str, int, float, bool))) or \
                    (isinstance(item, str) and len(item) > 200):
                raise ma.ValidationError("Only short texts, numbers and true/false.")


class ProgressSchema(ma.Schema):
    done = ma.fields.Integer(attribute="progress_done")
    total = ma.fields.Integer(attribute="progress_total", allow_none=True)
    message = ma.fields.String(attribute="progress_message")
    percent = ma.fields.Integer(allow_none=True, metadata={
        "description": "Whole percent done; null while the total is unknown"})


class JobOutSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    label = ma.fields.Function(ops.label)
    status = ma.fields.String(metadata={"description": "queued, running, done or failed"})
    progress = ma.fields.Function(lambda job: ProgressSchema().dump(job))
    error = ma.fields.String(allow_none=True, metadata={"description": "Why it failed"})
    attempts = ma.fields.Integer()
    filename = ma.fields.String(attribute="result_filename", allow_none=True)
    sha256 = ma.fields.String(attribute="result_sha256", allow_none=True)
    created_at = UtcDateTime()
    started_at = UtcDateTime(allow_none=True)
    finished_at = UtcDateTime(allow_none=True)
    page_url = ma.fields.Function(lambda job: url_for("jobs.detail", job_id=job.id))
    download_url = ma.fields.Function(
        lambda job: url_for("jobs.download", job_id=job.id)
        if job.status == "done" and job.result_sha256 else None)
