"""marshmallow schemas of the public portal: the query of each list (load), and the JSON of
each list and record (dump). The dump schemas list their fields one by one: a field is
public only when it is named here (never a person's name, an account or contact data)."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from ..catalogue.forms import KIND_LABELS, METHOD_LABELS
from ..core.fields import MAX_ID, UtcDateTime, WholeNumber
from ..core.schemas import FilterQuerySchema
from ..draws.models import DrawKind, DrawStatus
from ..planning.forms import TASK_STATUS_LABELS, TYPE_LABELS
from .queries import MAX_PAGE

TASK_STATES = ("open", "finished", "cancelled")


# =========================================================================== queries
def _whole(minimum: int, maximum: int, message, **kw) -> WholeNumber:
    return WholeNumber(validate=validate.Range(min=minimum, max=maximum, error=message),
                       error_messages={"invalid": message}, **kw)


class PageQuerySchema(FilterQuerySchema):
    """``?page=``: a whole number from 1; empty values mean "any" (a form sends them)."""

    page = _whole(1, MAX_PAGE, _l("A page number from 1."), load_default=1)



class CatalogueQuerySchema(PageQuerySchema):
    publication = _whole(1, MAX_ID, _l("Choose a publication from the list."),
                         load_default=None)


class TaskQuerySchema(PageQuerySchema):
    state = fields.String(load_default=None, validate=validate.OneOf(
        TASK_STATES, error=_l("Choose a state from the list.")))
    year = _whole(2000, 2100, _l("A year between 2000 and 2100."), load_default=None)


class DrawQuerySchema(PageQuerySchema):
    kind = fields.String(load_default=None, validate=validate.OneOf(
        [k.value for k in DrawKind], error=_l("Choose a kind of draw from the list.")))
    status = fields.String(load_default=None, validate=validate.OneOf(
        [s.value for s in DrawStatus], error=_l("Choose a status from the list.")))
    task = _whole(1, MAX_ID, _l("Choose a task from the list."), load_default=None)
    year = _whole(2000, 2100, _l("A year between 2000 and 2100."), load_default=None)


# =========================================================================== dumps
def _url(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


class DepartmentSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class PublicationSchema(ma.Schema):
    id = fields.Integer()
    published_on = fields.Date()
    items = fields.Function(lambda p: len(p.version_ids or []))
    url = fields.Function(lambda p: _url("portal.catalogue", publication=p.id))


class QuestionSchema(ma.Schema):
    code = fields.String()
    text = fields.String()
    legal_basis = fields.String()


class ItemVersionSchema(ma.Schema):
    """One published version of a check item."""

    code = fields.Function(lambda v: v.item.code)
    version = fields.Integer(attribute="number")
    name = fields.String()
    name_en = fields.String()
    legal_basis = fields.String()
    content = fields.String()
    department = fields.Nested(DepartmentSchema)
    target_types = fields.List(fields.String())
    method = fields.String()
    method_label = fields.Function(lambda v: str(METHOD_LABELS.get(v.method, v.method)))
    kind = fields.String()
    kind_label = fields.Function(lambda v: str(KIND_LABELS.get(v.kind, v.kind)))
    ratio = fields.Function(lambda v: str(v.ratio))
    frequency = fields.Integer()
    url = fields.Function(lambda v: _url("portal.catalogue_item", key=v.item.code))


class ItemVersionDetailSchema(ItemVersionSchema):
    """A version on the item's own page: with its checklist and the days it was published."""

    questions = fields.List(fields.Nested(QuestionSchema))


def catalogue_json(page) -> dict[str, Any]:
    return {"publication": PublicationSchema().dump(page.extra["publication"]),
            "items": ItemVersionSchema(many=True).dump(page.rows),
            "publications": PublicationSchema(many=True).dump(page.extra["publications"]),
            **_paging(page)}


def item_json(found: dict[str, Any]) -> dict[str, Any]:
    schema = ItemVersionDetailSchema()
    return {"code": found["code"], "on_current_list": found["on_current_list"],
            "versions": [{**schema.dump(v["version"]),
                          "published_on": [d.isoformat() for d in v["published_on"]],
                          "current": v["current"]} for v in found["versions"]]}


class PlanSchema(ma.Schema):
    id = fields.Integer()
    year = fields.Integer()
    revision = fields.Integer()
    title = fields.String()
    scope = fields.String()
    inspector_requirements = fields.String()
    grade_rules = fields.Dict()
    yearly_cap = fields.Integer()
    schedule = fields.String()
    procedure = fields.String()
    published_on = fields.Date()
    superseded = fields.Function(lambda p: p.status == "superseded")
    url = fields.Function(lambda p: _url("portal.plan", plan_id=p.id))


class DrawBriefSchema(ma.Schema):
    public_id = fields.String()
    kind = fields.String()
    status = fields.String()
    department = fields.Nested(DepartmentSchema, allow_none=True)
    commitment_sha256 = fields.String()
    record_sha256 = fields.String(allow_none=True)
    prepared_at = UtcDateTime(timespec="seconds")
    executed_at = UtcDateTime(timespec="seconds", allow_none=True)
    url = fields.Function(lambda d: _url("public_draws.show", public_id=d.public_id))
    record_url = fields.Function(lambda d: _url("public_draws.record", public_id=d.public_id))


class TaskSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    year = fields.Function(lambda t: t.plan.year)
    plan = fields.Function(lambda t: {"id": t.plan_id, "url": _url("portal.plan",
                                                                    plan_id=t.plan_id)})
    lead_department = fields.Nested(DepartmentSchema)
    departments = fields.Function(lambda t: [
        {"id": td.department.id, "name": td.department.name, "lead": td.is_lead}
        for td in sorted(t.departments, key=lambda td: (not td.is_lead, td.id))])
    task_type = fields.String()
    task_type_label = fields.Function(lambda t: str(TYPE_LABELS.get(t.task_type, t.task_type)))
    method = fields.String()
    method_label = fields.Function(lambda t: str(METHOD_LABELS.get(t.method, t.method)))
    window_start = fields.Date()
    window_end = fields.Date()
    announced = fields.Boolean()
    inspectors_per_visit = fields.Integer()
    status = fields.String()
    status_label = fields.Function(lambda t: str(TASK_STATUS_LABELS.get(t.status, t.status)))
    url = fields.Function(lambda t: _url("portal.task", task_id=t.id))


def _paging(page) -> dict[str, int]:
    return {"page": page.page, "pages": page.pages, "total": page.total,
            "per_page": page.per_page}


def plans_json(page) -> dict[str, Any]:
    return {"plans": PlanSchema(many=True).dump(page.rows), **_paging(page)}


def plan_json(plan, page) -> dict[str, Any]:
    """The plan, with a page of the year's tasks."""
    return {**PlanSchema().dump(plan), **tasks_json(page)}


def task_brief(task, draws, state: str | None = None) -> dict[str, Any]:
    body = TaskSchema().dump(task)
    if state is not None:
        body["state"] = state
    body["draws"] = DrawBriefSchema(many=True).dump(draws)
    return body


def tasks_json(page) -> dict[str, Any]:
    return {"tasks": [task_brief(t, page.extra["draws"][t.id], page.extra["states"][t.id])
                      for t in page.rows], **_paging(page)}


def task_json(found: dict[str, Any]) -> dict[str, Any]:
    body = task_brief(found["task"], found["draws"], found["state"])
    body["items"] = [{"code": v.item.code, "version": v.number, "name": v.name,
                      "name_en": v.name_en, "legal_basis": v.legal_basis,
                      "url": _url("portal.catalogue_item", key=v.item.code)}
                     for v in found["items"]]
    body["filters"] = dict(found["task"].filters or {}) \
        if found["task"].task_type == "directed" else {}
    body["grade_ratios"] = dict(found["task"].grade_ratios or {})
    return body


def draws_json(page) -> dict[str, Any]:
    tasks = page.extra["tasks"]
    rows = []
    for draw, dumped in zip(page.rows, DrawBriefSchema(many=True).dump(page.rows)):
        task = tasks.get(draw.task_id)
        dumped["task"] = {"id": draw.task_id, "name": task.name if task else None,
                          "url": _url("portal.task", task_id=draw.task_id)}
        rows.append(dumped)
    return {"draws": rows, **_paging(page)}
