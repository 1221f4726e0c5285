"""marshmallow schemas of the team-draw API; load (input) and dump (output) schemas apart.

Sources, secrets and the execution's input have the shapes both draws share
(:mod:`..schemas`); the rules are checked once, in :mod:`.operations`."""
from __future__ import annotations

import marshmallow as ma

from ...core.fields import UtcDateTime, WholeNumber
from ..schemas import PrepareBaseSchema


# ----------------------------------------------------------------------------- load
class TeamPrepareSchema(PrepareBaseSchema):
    department_id = WholeNumber(required=True, metadata={
        "description": "The participating department drawing its own members"})


class SubstitutionRequestSchema(ma.Schema):
    reason = ma.fields.String(required=True, metadata={
        "description": "post_change | schedule_conflict | health | recusal"})
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class SubstitutionDecisionSchema(ma.Schema):
    decision = ma.fields.String(required=True,
                                validate=ma.validate.OneOf(["approve", "reject"]))
    mode = ma.fields.String(load_default=None, allow_none=True,
                            validate=ma.validate.OneOf(["reserve", "approver_choice"]))
    replacement_id = WholeNumber(load_default=None, allow_none=True)
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class SubstitutionQuerySchema(ma.Schema):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(
        ["requested", "approved", "rejected"]))


# ----------------------------------------------------------------------------- dump
class MemberDumpSchema(ma.Schema):
    id = ma.fields.Integer()
    inspector_id = ma.fields.Integer()
    key = ma.fields.String()
    name = ma.fields.String()
    department_id = ma.fields.Integer()
    is_leader = ma.fields.Boolean()
    source = ma.fields.String()
    replaced_at = UtcDateTime(allow_none=True)


class VisitTeamDumpSchema(ma.Schema):
    visit = ma.fields.String()
    visit_id = ma.fields.Integer()
    employer = ma.fields.String()
    status = ma.fields.String()
    members = ma.fields.List(ma.fields.Nested(MemberDumpSchema))
    former = ma.fields.List(ma.fields.Nested(MemberDumpSchema))
    reserve = ma.fields.List(ma.fields.String(), metadata={"description": "keys, in order"})


class TeamDrawDumpSchema(ma.Schema):
    id = ma.fields.Integer()
    public_id = ma.fields.String()
    task_id = ma.fields.Integer()
    department_id = ma.fields.Integer()
    status = ma.fields.String()
    entropy_mode = ma.fields.String()
    commitment_sha256 = ma.fields.String()
    record_sha256 = ma.fields.String(allow_none=True)
    commitment = ma.fields.Dict()
    generated_secrets = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(),
                                       metadata={"description": "Only in the answer to "
                                                 "prepare: secrets made by the server, once"})
    teams = ma.fields.List(ma.fields.Nested(VisitTeamDumpSchema))
    substitutions = ma.fields.List(ma.fields.Dict())


class DrawRefSchema(ma.Schema):
    id = ma.fields.Integer()
    public_id = ma.fields.String()
    status = ma.fields.String()


class VisitEligibilityDumpSchema(ma.Schema):
    visit = ma.fields.String()
    employer = ma.fields.String()
    required = ma.fields.Integer()
    eligible = ma.fields.List(ma.fields.String())
    excluded = ma.fields.List(ma.fields.Dict())
    shortfall = ma.fields.Integer()


class DepartmentTeamsDumpSchema(ma.Schema):
    department_id = ma.fields.Integer()
    department = ma.fields.String()
    is_lead = ma.fields.Boolean()
    required = ma.fields.Integer()
    draw = ma.fields.Nested(DrawRefSchema, allow_none=True)
    not_available = ma.fields.List(ma.fields.String())
    visits = ma.fields.List(ma.fields.Nested(VisitEligibilityDumpSchema))


class TaskTeamsDumpSchema(ma.Schema):
    task_id = ma.fields.Integer()
    name = ma.fields.String()
    status = ma.fields.String()
    inspectors_per_visit = ma.fields.Integer()
    departments = ma.fields.List(ma.fields.Nested(DepartmentTeamsDumpSchema))


class SubstitutionDumpSchema(ma.Schema):
    id = ma.fields.Integer()
    visit_id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    reason = ma.fields.String()
    note = ma.fields.String()
    status = ma.fields.String()
    mode = ma.fields.String(allow_none=True)
    replacement_id = ma.fields.Integer(allow_none=True)
    requested_at = UtcDateTime()
    decided_at = UtcDateTime(allow_none=True)


class MyTeamMemberSchema(ma.Schema):
    name = ma.fields.String()
    is_leader = ma.fields.Boolean()
    is_me = ma.fields.Boolean()


class MyVisitDumpSchema(ma.Schema):
    visit_id = ma.fields.Integer()
    number = ma.fields.String()
    status = ma.fields.String()
    employer = ma.fields.String()
    address = ma.fields.String()
    window_start = ma.fields.Date()
    window_end = ma.fields.Date()
    leader = ma.fields.Boolean(metadata={"description": "You lead this visit"})
    tasks = ma.fields.List(ma.fields.String())
    items = ma.fields.List(ma.fields.String())
    team = ma.fields.List(ma.fields.Nested(MyTeamMemberSchema))
