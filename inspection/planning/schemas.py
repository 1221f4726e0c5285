"""marshmallow schemas of the plans and tasks API; load (input) and dump (output) apart.

Load schemas check shapes and types only; the rules (minimum ratios, the plan's year, two
inspectors per visit, key items and 100 % ...) are checked once, in :mod:`.operations`, so that
the pages and the API answer with the same per-field messages.
"""
from __future__ import annotations

import marshmallow as ma

from .models import PlanStatus, TaskStatus
from .operations import IN_FORCE, TEXT_MAX, pinned_items

_note = {"validate": ma.validate.Length(max=TEXT_MAX)}
_GRADE_RULES_DOC = {"description": 'Per risk grade: {"A": {"ratio": "0.01", "frequency": 1}, '
                                   '...}; the defaults of seed 004 are minimums'}
_RATIOS_DOC = {"description": 'Per risk grade: {"A": "0.01", ...}; default the plan\'s; '
                              'between the plan\'s ratio and 0.50 (1.00 with a key item)'}
_FILTERS_DOC = {"description": 'Directed tasks: {"regions": [...], "industries": [...], '
                               '"employer_types": [...], "grades": [...], "flags": '
                               '["complaints", "abnormal", "serious_violation"]}'}


# ----------------------------------------------------------------------------- load: plans
class _PlanFields(ma.Schema):
    title = ma.fields.String()
    scope = ma.fields.String()
    inspector_requirements = ma.fields.String()
    grade_rules = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Dict(),
                                 metadata=_GRADE_RULES_DOC)
    yearly_cap = ma.fields.Integer(metadata={
        "description": "Random checks of one employer a year, at most (seed 001 第十一条)"})
    schedule = ma.fields.String()
    procedure = ma.fields.String()
    change_note = ma.fields.String(**_note)


class PlanCreateSchema(_PlanFields):
    year = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)


class PlanUpdateSchema(_PlanFields):
    """Fields left out keep their value."""


class PlanQuerySchema(ma.Schema):
    year = ma.fields.Integer(load_default=None)
    status = ma.fields.String(load_default=None,
                              validate=ma.validate.OneOf([s.value for s in PlanStatus]))


class PlanningApproveSchema(ma.Schema):
    note = ma.fields.String(load_default="", **_note)


class PlanningRejectSchema(ma.Schema):
    note = ma.fields.String(required=True, **_note)


class PlanPublishSchema(ma.Schema):
    published_on = ma.fields.Date(load_default=None, metadata={
        "description": "The day the plan was made public; default today (Asia/Shanghai)"})


class PlanReviseSchema(ma.Schema):
    change_note = ma.fields.String(load_default="", **_note)


# ----------------------------------------------------------------------------- load: tasks
class _TaskFields(ma.Schema):
    plan_id = ma.fields.Integer(metadata={"description": "The plan in force for the year"})
    name = ma.fields.String()
    description = ma.fields.String()
    lead_department_id = ma.fields.Integer()
    department_ids = ma.fields.List(ma.fields.Integer(), metadata={
        "description": "Participating departments; the lead is added when missing"})
    item_ids = ma.fields.List(ma.fields.Integer(), metadata={
        "description": "Check items (ids); each is pinned to its current version when added"})
    task_type = ma.fields.String(validate=ma.validate.OneOf(["undirected", "directed"]))
    filters = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
                             metadata=_FILTERS_DOC)
    method = ma.fields.String(metadata={"description": "on_site, written, online, third_party"})
    window_start = ma.fields.Date()
    window_end = ma.fields.Date()
    announced = ma.fields.Boolean(metadata={"description": "False: no advance notice"})
    inspectors_per_visit = ma.fields.Integer(metadata={"description": "At least 2"})
    grade_ratios = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(),
                                  metadata=_RATIOS_DOC)


class TaskCreateSchema(_TaskFields):
    plan_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    lead_department_id = ma.fields.Integer(required=True)
    item_ids = ma.fields.List(ma.fields.Integer(), required=True)
    method = ma.fields.String(required=True)
    window_start = ma.fields.Date(required=True)
    window_end = ma.fields.Date(required=True)
    inspectors_per_visit = ma.fields.Integer(load_default=2)


class TaskUpdateSchema(_TaskFields):
    """Fields left out keep their value."""


class TaskQuerySchema(ma.Schema):
    status = ma.fields.String(load_default=None,
                              validate=ma.validate.OneOf([s.value for s in TaskStatus]))
    year = ma.fields.Integer(load_default=None)
    plan_id = ma.fields.Integer(load_default=None)
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))
    per_page = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


class TaskCancelSchema(ma.Schema):
    reason = ma.fields.String(required=True, **_note)


# ----------------------------------------------------------------------------- dump
class PlanDumpSchema(ma.Schema):
    id = ma.fields.Integer()
    year = ma.fields.Integer()
    revision = ma.fields.Integer()
    previous_id = ma.fields.Integer(allow_none=True)
    title = ma.fields.String()
    scope = ma.fields.String()
    inspector_requirements = ma.fields.String()
    grade_rules = ma.fields.Dict()
    yearly_cap = ma.fields.Integer()
    schedule = ma.fields.String()
    procedure = ma.fields.String()
    status = ma.fields.String()
    in_force = ma.fields.Function(lambda p: p.status in IN_FORCE)
    change_note = ma.fields.String()
    review_note = ma.fields.String()
    created_at = ma.fields.DateTime(format="iso")
    created_by_id = ma.fields.Integer(allow_none=True)
    submitted_at = ma.fields.DateTime(format="iso", allow_none=True)
    approved_at = ma.fields.DateTime(format="iso", allow_none=True)
    approved_by_id = ma.fields.Integer(allow_none=True)
    published_on = ma.fields.Date(allow_none=True)


class TaskDepartmentDumpSchema(ma.Schema):
    id = ma.fields.Function(lambda td: td.department_id)
    name = ma.fields.Function(lambda td: td.department.name)
    code = ma.fields.Function(lambda td: td.department.code)
    is_lead = ma.fields.Boolean()


def _items(task) -> list[dict]:
    return [{"item_id": p.version.item_id, "code": p.version.item.code,
             "version_id": p.version.id, "version": p.version.number,
             "current_version": p.current_number, "newer_version_exists": p.outdated,
             "name": p.version.name, "kind": p.version.kind,
             "department_id": p.version.department_id}
            for p in pinned_items(task)]


class TaskDumpSchema(ma.Schema):
    id = ma.fields.Integer()
    plan_id = ma.fields.Integer()
    year = ma.fields.Function(lambda t: t.plan.year)
    name = ma.fields.String()
    description = ma.fields.String()
    status = ma.fields.String()
    lead_department_id = ma.fields.Integer()
    departments = ma.fields.List(ma.fields.Nested(TaskDepartmentDumpSchema))
    is_joint = ma.fields.Boolean()
    items = ma.fields.Function(_items, metadata={
        "description": "Pinned versions; newer_version_exists flags later catalogue edits"})
    task_type = ma.fields.String()
    filters = ma.fields.Dict()
    method = ma.fields.String()
    window_start = ma.fields.Date()
    window_end = ma.fields.Date()
    announced = ma.fields.Boolean()
    inspectors_per_visit = ma.fields.Integer()
    grade_ratios = ma.fields.Dict()
    review_note = ma.fields.String()
    created_at = ma.fields.DateTime(format="iso")
    created_by_id = ma.fields.Integer(allow_none=True)
    submitted_at = ma.fields.DateTime(format="iso", allow_none=True)
    approved_at = ma.fields.DateTime(format="iso", allow_none=True)
    approved_by_id = ma.fields.Integer(allow_none=True)
    cancelled_at = ma.fields.DateTime(format="iso", allow_none=True)
    cancel_reason = ma.fields.String(allow_none=True)


class TaskPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TaskDumpSchema))
    page = ma.fields.Integer()
    pages = ma.fields.Integer()
    total = ma.fields.Integer()


class TaskMatchingSchema(ma.Schema):
    count = ma.fields.Integer(metadata={"description": "Active employers the filters match now"})
