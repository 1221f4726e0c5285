"""marshmallow schemas of the target draws' API; load (input) and dump (output) apart.

Load schemas check shapes; the rules (approved task, confirmed directory, secrets matching
their commitments ...) are checked once, in :mod:`.operations`. Sources, secrets and the
execution's input have the shapes both draws share (:mod:`..schemas`)."""
from __future__ import annotations

import marshmallow as ma

from ...core.fields import UtcDateTime, WholeNumber
from ..models import DrawStatus
from ..schemas import PrepareBaseSchema


# ----------------------------------------------------------------------------- load
class DrawQuerySchema(ma.Schema):
    kind = ma.fields.String(load_default="target",
                            validate=ma.validate.OneOf(["target", "team", "all"]))
    status = ma.fields.String(load_default=None,
                              validate=ma.validate.OneOf([s.value for s in DrawStatus]))
    task_id = WholeNumber(load_default=None)


class PrepareSchema(PrepareBaseSchema):
    task_id = WholeNumber(required=True)


class CancelSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))


# ----------------------------------------------------------------------------- dump
class DrawDumpSchema(ma.Schema):
    id = ma.fields.Integer()
    public_id = ma.fields.String()
    kind = ma.fields.String()
    task_id = ma.fields.Integer()
    status = ma.fields.String()
    entropy_mode = ma.fields.String()
    algorithm = ma.fields.String()
    commitment_sha256 = ma.fields.String()
    prepared_at = UtcDateTime()
    executed_at = UtcDateTime(allow_none=True)
    record_sha256 = ma.fields.String(allow_none=True)
    cancel_reason = ma.fields.String(allow_none=True)
    public_url = ma.fields.Method("_public_url")

    def _public_url(self, draw) -> str:
        from flask import url_for

        return url_for("public_draws.show", public_id=draw.public_id, _external=True)


class ResultDumpSchema(ma.Schema):
    pool = ma.fields.String()
    rank = ma.fields.Integer()
    position = ma.fields.Integer()
    credit_code = ma.fields.String()
    name = ma.fields.String()
    employer_id = ma.fields.Integer(allow_none=True)
    visit_number = ma.fields.Function(lambda r: r.visit.number if r.visit else None)
    merged_into_existing = ma.fields.Boolean(attribute="joined_existing")
    other_task_ids = ma.fields.Function(lambda r: [t for t, _n in r.other_tasks])


class DrawDetailDumpSchema(DrawDumpSchema):
    commitment = ma.fields.Dict()
    record = ma.fields.Dict(allow_none=True)
    results = ma.fields.List(ma.fields.Nested(ResultDumpSchema))


class PoolPreviewSchema(ma.Schema):
    grade = ma.fields.String()
    ratio = ma.fields.String()
    size = ma.fields.Integer()
    count = ma.fields.Integer()


class PreviewDumpSchema(ma.Schema):
    task_id = ma.fields.Function(lambda p: p.task.id)
    pools = ma.fields.Function(lambda p: [{"grade": x.grade, "ratio": str(x.ratio),
                                           "size": x.size, "count": x.count}
                                          for x in p.pools.pools])
    excluded_by_cap = ma.fields.Function(lambda p: p.pools.excluded_by_cap)
    total_size = ma.fields.Integer()
    total_count = ma.fields.Integer()
    everyone = ma.fields.Boolean(metadata={
        "description": "Every pool is drawn in full: the draw fixes the order of visits"})
    confirmed_current = ma.fields.Boolean()
    confirmed_at = ma.fields.Function(
        lambda p: p.confirmation.at.isoformat() + "Z" if p.confirmation else None)
    blocking = ma.fields.List(ma.fields.String(), metadata={
        "description": "Why a draw cannot be prepared now (empty: it can)"})


class PreparedDumpSchema(ma.Schema):
    draw = ma.fields.Nested(DrawDetailDumpSchema)
    generated_secrets = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(),
                                       metadata={"description": "Shown once, never stored: "
                                                                "write them down"})


class VerifyDumpSchema(ma.Schema):
    ok = ma.fields.Boolean()
    problems = ma.fields.List(ma.fields.String())
