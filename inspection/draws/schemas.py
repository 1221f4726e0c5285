"""marshmallow schemas of the draws API; load (input) and dump (output) schemas apart.

Load schemas check shapes; the rules (approved task, confirmed directory, secrets matching
their commitments ...) are checked once, in :mod:`.target`."""
from __future__ import annotations

import marshmallow as ma

from .models import DrawStatus, EntropyMode


# ----------------------------------------------------------------------------- load
class DrawQuerySchema(ma.Schema):
    kind = ma.fields.String(load_default="target",
                            validate=ma.validate.OneOf(["target", "team", "all"]))
    status = ma.fields.String(load_default=None,
                              validate=ma.validate.OneOf([s.value for s in DrawStatus]))
    task_id = ma.fields.Integer(load_default=None)


class SourceLoadSchema(ma.Schema):
    name = ma.fields.String(required=True, metadata={
        "description": "Which public value, precisely: e.g. 中国福利彩票3D 2026088期开奖号码"})
    expected_at = ma.fields.String(load_default="", metadata={
        "description": "When it is published, ISO 8601 with offset"})


class SecretLoadSchema(ma.Schema):
    party = ma.fields.String(required=True, metadata={
        "description": "Who holds the secret: lead department, a participating department, "
                       "the supervisor (法制机构)"})
    sha256 = ma.fields.String(load_default="", metadata={
        "description": "SHA-256 (hex) of the party's secret, made by the party itself"})
    generate = ma.fields.Boolean(load_default=False, metadata={
        "description": "Let the server make the secret: returned once in "
                       "generated_secrets, only its hash is kept"})


class PrepareSchema(ma.Schema):
    task_id = ma.fields.Integer(required=True)
    mode = ma.fields.String(required=True, validate=ma.validate.OneOf(
        [m.value for m in EntropyMode]), metadata={
        "description": "public (future public values + secrets), secrets (several parties' "
                       "secrets), system (server randomness: the weakest mode)"})
    sources = ma.fields.List(ma.fields.Nested(SourceLoadSchema), load_default=list)
    secrets = ma.fields.List(ma.fields.Nested(SecretLoadSchema), load_default=list)


class ExecuteSchema(ma.Schema):
    sources = ma.fields.List(ma.fields.Raw(), load_default=list, metadata={
        "description": "One entry per declared source, in order: a string of the published "
                       "numbers (\"5 0 8\") or a list of numbers/strings"})
    secrets = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(),
                             load_default=dict, metadata={
                                 "description": "party -> revealed secret"})


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
    prepared_at = ma.fields.DateTime()
    executed_at = ma.fields.DateTime(allow_none=True)
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
