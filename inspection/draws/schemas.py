"""marshmallow load schemas both draw APIs share: a target draw and a team draw take their
randomness the same way (entropy mode, declared public sources, parties' secrets, and at
execution the published values and the revealed secrets), so they accept one shape.

Shapes only: the rules are checked once, in :mod:`.entropy` and :mod:`.commitments`."""
from __future__ import annotations

import marshmallow as ma

from .models import EntropyMode


class SourceLoadSchema(ma.Schema):
    name = ma.fields.String(required=True, metadata={
        "description": "Which public value, precisely: e.g. 中国福利彩票3D 2026088期开奖号码"})
    available_at = ma.fields.AwareDateTime(required=True, metadata={
        "description": "When its value becomes known (ISO 8601 with offset, e.g. "
                       "2026-12-03T21:15:00+08:00): the draw cannot be executed before "
                       "the latest of its sources' times"})


class SecretLoadSchema(ma.Schema):
    party = ma.fields.String(required=True, metadata={
        "description": "Who holds the secret: lead department, a participating department, "
                       "the supervisor (法制机构)"})
    sha256 = ma.fields.String(load_default="", metadata={
        "description": "SHA-256 (hex) of the party's secret, made by the party itself"})
    generate = ma.fields.Boolean(load_default=False, metadata={
        "description": "Let the server make the secret: returned once in "
                       "generated_secrets, only its hash is kept"})


class PrepareBaseSchema(ma.Schema):
    """Step 1 of either draw; each draw's schema adds what the draw is for."""

    mode = ma.fields.String(required=True, validate=ma.validate.OneOf(
        [m.value for m in EntropyMode]), metadata={
        "description": "public (future public values + secrets), secrets (several parties' "
                       "secrets), system (server randomness: the weakest mode)"})
    sources = ma.fields.List(ma.fields.Nested(SourceLoadSchema), load_default=list)
    secrets = ma.fields.List(ma.fields.Nested(SecretLoadSchema), load_default=list)


class ExecuteSchema(ma.Schema):
    """Step 2 of either draw."""

    sources = ma.fields.List(ma.fields.Raw(), load_default=list, metadata={
        "description": "One entry per declared source, in order: a string of the published "
                       "numbers (\"5 0 8\") or a list of numbers/strings"})
    secrets = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(),
                             load_default=dict, metadata={
                                 "description": "party -> revealed secret"})
