"""marshmallow schemas of plans and tasks; load (input) and dump (output) apart.

Two kinds of load schema:

* the **content schemas** (:class:`PlanSchema`, :class:`NewPlanSchema`, :class:`TaskSchema`)
  check every rule of a plan or a task, types and cross-field rules alike (``@validates_schema``:
  the per-grade minimums and ceilings, the plan in force and its year, the lead department
  and the items' departments, directed and undirected filters, two inspectors per visit, key
  items and 100 % ...), and return clean values. The operations of :mod:`.plans` and
  :mod:`.tasks` load every change through them (:func:`load_plan`, :func:`load_task`), so
  that the pages, the API, the CLI and the demo get the same per-field messages, as
  :class:`~inspection.core.errors.ValidationFailed` with dotted field keys
  (``grade_rules.A.ratio``, ``filters.regions``);
* the **API's argument schemas** (``PlanCreateSchema``, ``TaskUpdateSchema`` ...) check the
  shape and types of a request body before it reaches the operation.
"""
from __future__ import annotations

from typing import Any, Mapping

import marshmallow as ma
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..catalogue import operations as catalogue_ops
from ..catalogue.models import CheckItem, CheckItemVersion, InspectionMethod, ItemKind, ItemStatus
from ..core.fields import Ratio, Text, UtcDateTime, WholeNumber, load
from ..core.models import Department
from ..core.ratios import has_places, ratio_or_none
from ..directory.models import Region
from ..directory.reference import EMPLOYER_TYPES, INDUSTRIES
from ..extensions import db
from .models import DEFAULT_GRADE_RULES, AnnualPlan, PlanStatus, Task, TaskStatus, TaskType
from .queries import pinned_items, plan_in_force
from .rules import (FILTER_KEYS, FLAGS, GENERAL_TASK_RATIO_CEILING, GRADES, IN_FORCE,
                    KEY_TASK_RATIO_CEILING, MAX_FREQUENCY, MAX_INSPECTORS_PER_VISIT,
                    MAX_YEARLY_CAP, MIN_INSPECTORS_PER_VISIT, NAME_MAX, TEXT_MAX, YEAR_RANGE,
                    percent, ratio_text)

_INDUSTRY_CODES = {code for code, _zh, _en in INDUSTRIES}
_TYPE_CODES = {code for code, _zh, _en in EMPLOYER_TYPES}
_METHODS = {m.value for m in InspectionMethod}


class _Errors:
    """The messages a schema validator finds, raised at once as one ValidationError."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise ma.ValidationError(self.fields)


def _whole(message, **kwargs) -> ma.fields.Integer:
    """An optional whole number; unreadable input gets ``message`` (a lazy string)."""
    return WholeNumber(load_default=None, allow_none=True,
                       error_messages={"invalid": message}, **kwargs)


def _ids(value: Any) -> list:
    """One id or several (a form sends one as a scalar)."""
    if value is None or value == "":
        return []
    if isinstance(value, (str, int)):
        return [value]
    return list(value)


def _unique_ints(values: list, field: str, message, errors: _Errors) -> list[int]:
    """The ids as whole numbers the database can hold (:class:`WholeNumber`), each once, in
    order; ``message(value)`` for one that is not."""
    numbers: list[int] = []
    whole = WholeNumber()
    for raw in values:
        try:
            number = whole.deserialize(raw)
        except ma.ValidationError:
            number = None
        if number is None:
            errors.add(field, message(raw))
        elif number not in numbers:
            numbers.append(number)
    return numbers


# ----------------------------------------------------------------------------- plans
class _GradeRuleSchema(ma.Schema):
    """One grade's rule: the plan's ratio and times a year, never below seed 004's."""

    class Meta:
        unknown = ma.EXCLUDE

    ratio = Ratio(load_default=None, allow_none=True)
    frequency = WholeNumber(load_default=None, allow_none=True)

    def __init__(self, grade: str, **kwargs):
        super().__init__(**kwargs)
        self.grade = grade
        self.error_messages = {**self.error_messages,
                               "type": _("Grade %(g)s: give a ratio and a frequency.", g=grade)}
        self.fields["ratio"].error_messages["invalid"] = _(
            "Grade %(g)s: enter the ratio as a number.", g=grade)
        self.fields["frequency"].error_messages["invalid"] = _(
            "Grade %(g)s: enter the times a year as a whole number.", g=grade)

    @ma.validates_schema(skip_on_field_errors=False)
    def _minimums(self, data: dict, **_kwargs) -> None:
        grade, errors = self.grade, _Errors()
        minimum = DEFAULT_GRADE_RULES[grade]
        floor, min_freq = ratio_or_none(minimum["ratio"]), int(minimum["frequency"])
        ratio, frequency = data.get("ratio"), data.get("frequency")
        if "ratio" in data:
            if ratio is None:
                errors.add("ratio", _("Grade %(g)s: enter the ratio as a number.", g=grade))
            elif not has_places(ratio):
                errors.add("ratio", _("Grade %(g)s: at most two decimals in percent.", g=grade))
            elif ratio < floor:
                errors.add("ratio", _(
                    "Grade %(g)s: at least %(min)s. The ratios of seed 004 are minimums: a plan "
                    "may check more, never less.", g=grade, min=percent(floor)))
            elif ratio > GENERAL_TASK_RATIO_CEILING:
                errors.add("ratio", _(
                    "Grade %(g)s: at most %(max)s, or no task of general items could meet it.",
                    g=grade, max=percent(GENERAL_TASK_RATIO_CEILING)))
        if "frequency" in data:
            if frequency is None:
                errors.add("frequency", _(
                    "Grade %(g)s: enter the times a year as a whole number.", g=grade))
            elif frequency < min_freq:
                errors.add("frequency", _(
                    "Grade %(g)s: at least %(n)d times a year (a minimum of seed 004).",
                    g=grade, n=min_freq))
            elif frequency > MAX_FREQUENCY:
                errors.add("frequency", _("Grade %(g)s: at most %(n)d times a year.",
                                          g=grade, n=MAX_FREQUENCY))
        errors.raise_if_any()

    @ma.post_load
    def _stored(self, data: dict, **_kwargs) -> dict:
        return {"ratio": ratio_text(data["ratio"]), "frequency": data["frequency"]}


def _grade_rule(grade: str) -> ma.fields.Nested:
    message = _l("Grade %(g)s: give a ratio and a frequency.", g=grade)
    return ma.fields.Nested(lambda: _GradeRuleSchema(grade), required=True,
                            error_messages={"type": message, "required": message,
                                            "null": message})


class _GradeRulesSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    error_messages = {"type": _l("Give a ratio and a frequency for each grade A to D.")}

    A = _grade_rule("A")
    B = _grade_rule("B")
    C = _grade_rule("C")
    D = _grade_rule("D")


class PlanSchema(ma.Schema):
    """A plan's content, every rule checked (the year apart: :class:`NewPlanSchema`)."""

    class Meta:
        unknown = ma.EXCLUDE

    title = Text(not_blank=True, max_length=NAME_MAX)
    scope = Text(not_blank=True, max_length=TEXT_MAX)
    inspector_requirements = Text(max_length=TEXT_MAX)
    schedule = Text(max_length=TEXT_MAX)
    procedure = Text(max_length=TEXT_MAX)
    change_note = Text(max_length=TEXT_MAX)
    yearly_cap = _whole(_l("Enter a whole number."))
    grade_rules = ma.fields.Nested(_GradeRulesSchema, required=True, error_messages={
        m: _l("Give a ratio and a frequency for each grade A to D.")
        for m in ("type", "required", "null")})

    @ma.validates_schema(skip_on_field_errors=False, pass_original=True)
    def _rules(self, data: dict, original: Any, **_kwargs) -> None:
        errors = _Errors()
        if "yearly_cap" in data:
            cap = data["yearly_cap"]
            if cap is None:
                errors.add("yearly_cap", _("Enter a whole number."))
            elif not 1 <= cap <= MAX_YEARLY_CAP:
                errors.add("yearly_cap", _("Between 1 and %(n)d random checks a year.",
                                           n=MAX_YEARLY_CAP))
        raw = original.get("grade_rules") if isinstance(original, Mapping) else None
        if isinstance(raw, Mapping):
            unknown = sorted(set(map(str, raw)) - set(GRADES))
            if unknown:
                errors.add("grade_rules", _("Unknown grade: %(grades)s",
                                            grades=", ".join(unknown)))
        errors.raise_if_any()


class NewPlanSchema(PlanSchema):
    """A year's first plan: its content and the year."""

    year = _whole(_l("Enter the year, e.g. 2026."))

    @ma.validates("year")
    def _year(self, year: int | None, **_kwargs) -> None:
        if year is None:
            raise ma.ValidationError(_("Enter the year, e.g. 2026."))
        if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
            raise ma.ValidationError(_("Between %(a)d and %(b)d.", a=YEAR_RANGE[0],
                                       b=YEAR_RANGE[1]))


_PLAN_ORDER = ("year", "title", "scope", "inspector_requirements", "schedule", "procedure",
               "change_note", "yearly_cap", "grade_rules")


def load_plan(values: Mapping[str, Any], new: bool = False) -> dict[str, Any]:
    """A plan's content (with the year when ``new``) as clean values, or ValidationFailed."""
    return load(NewPlanSchema() if new else PlanSchema(), values, order=_PLAN_ORDER)


# ----------------------------------------------------------------------------- tasks
class TaskSchema(ma.Schema):
    """A task's content, every rule checked against the database (the plan in force, the
    departments, the items and their current versions). Loads to clean values with objects:
    ``plan``, ``lead``, ``departments`` (the lead first) and ``versions`` (the pins), in place
    of the ids. ``task`` is the task being edited: its kept items keep their pin, and a draft
    may stay on the superseded revision it names (it moves to the one in force)."""

    class Meta:
        unknown = ma.EXCLUDE

    name = Text(not_blank=True, max_length=NAME_MAX)
    description = Text(max_length=TEXT_MAX)
    plan_id = _whole(_l("Choose the annual plan."))
    lead_department_id = _whole(_l("Choose the lead department."))
    department_ids = ma.fields.Raw(load_default=None, allow_none=True)
    item_ids = ma.fields.Raw(load_default=None, allow_none=True)
    task_type = Text()
    filters = ma.fields.Raw(load_default=None, allow_none=True)
    method = Text()
    window_start = ma.fields.Date(load_default=None, allow_none=True,
                                  error_messages={"invalid": _l("Enter a date.")})
    window_end = ma.fields.Date(load_default=None, allow_none=True,
                                error_messages={"invalid": _l("Enter a date.")})
    announced = ma.fields.Raw(load_default=True, allow_none=True)
    inspectors_per_visit = _whole(_l("Enter a whole number."))
    grade_ratios = ma.fields.Raw(load_default=None, allow_none=True)

    def __init__(self, task: Task | None = None, **kwargs):
        super().__init__(**kwargs)
        self.task = task
        self.resolved: dict[str, Any] = {}

    @ma.validates_schema(skip_on_field_errors=False)
    def _rules(self, data: dict, **_kwargs) -> None:
        errors = _Errors()
        plan = self._plan(data, errors)
        departments = self._departments(data, errors)
        versions = self._items(data, departments, errors)
        key_item = any(v.kind == ItemKind.KEY.value for v in versions)

        task_type = data.get("task_type") or TaskType.UNDIRECTED.value
        if task_type not in {t.value for t in TaskType}:
            errors.add("task_type", _("Choose directed or undirected."))
        self.resolved["task_type"] = task_type
        self.resolved["filters"] = _filters(task_type, data.get("filters"), errors)

        if "method" in data and data["method"] not in _METHODS:
            errors.add("method", _("Choose a method of inspection."))

        start, end = data.get("window_start"), data.get("window_end")
        for key, day in (("window_start", start), ("window_end", end)):
            if day is None and key in data:
                errors.add(key, _("Enter a date."))
        if start and end and start > end:
            errors.add("window_end", _("The end cannot be before the start."))
        if plan is not None:
            for key, day in (("window_start", start), ("window_end", end)):
                if day and day.year != plan.year:
                    errors.add(key, _("Within the plan's year %(year)d.", year=plan.year))

        announced = data.get("announced", True)
        if isinstance(announced, str):
            announced = announced.strip().lower() in ("1", "true", "yes", "y", "on")
        self.resolved["announced"] = bool(announced)

        if "inspectors_per_visit" in data:
            per_visit = data["inspectors_per_visit"]
            if per_visit is None:
                errors.add("inspectors_per_visit", _("Enter a whole number."))
            elif per_visit < MIN_INSPECTORS_PER_VISIT:
                errors.add("inspectors_per_visit", _(
                    "At least %(n)d inspectors per visit (Administrative Penalty Law art. 42; "
                    "Regulations on Labour Security Supervision art. 16).",
                    n=MIN_INSPECTORS_PER_VISIT))
            elif per_visit > MAX_INSPECTORS_PER_VISIT:
                errors.add("inspectors_per_visit",
                           _("At most %(n)d.", n=MAX_INSPECTORS_PER_VISIT))

        raw_ratios = data.get("grade_ratios")
        if raw_ratios is None:
            raw_ratios = {}
        if plan is not None and isinstance(raw_ratios, Mapping):
            # A grade left out (or blank) takes the plan's ratio.
            raw_ratios = {**{g: r["ratio"] for g, r in plan.grade_rules.items()},
                          **{g: v for g, v in raw_ratios.items() if v not in (None, "")}}
        self.resolved["grade_ratios"] = _ratios(raw_ratios, plan, key_item, errors)
        errors.raise_if_any()

    def _plan(self, data: dict, errors: _Errors) -> AnnualPlan | None:
        """The plan in force for the year of the plan named."""
        plan, plan_id = None, data.get("plan_id")
        if "plan_id" not in data:
            pass  # unreadable: the field says so
        elif plan_id is None:
            errors.add("plan_id", _("Choose the annual plan."))
        else:
            chosen = db.session.get(AnnualPlan, plan_id)
            if chosen is None:
                errors.add("plan_id", _("No such annual plan."))
            else:
                plan = plan_in_force(chosen.year)
                if plan is None:
                    errors.add("plan_id", _("The plan for %(year)d is not approved yet.",
                                            year=chosen.year))
                elif chosen.id != plan.id and (self.task is None
                                               or self.task.plan_id != chosen.id):
                    errors.add("plan_id", _("This revision is not in force; choose revision "
                                            "%(n)d.", n=plan.revision))
                    plan = None
        self.resolved["plan"] = plan
        return plan

    def _departments(self, data: dict, errors: _Errors) -> list[Department]:
        """The participating departments, the lead always among them (first)."""
        lead, lead_id = None, data.get("lead_department_id")
        if "lead_department_id" not in data:
            pass  # unreadable: the field says so
        elif lead_id is None:
            errors.add("lead_department_id", _("Choose the lead department."))
        else:
            lead = db.session.get(Department, lead_id)
            if lead is None or not lead.active:
                errors.add("lead_department_id", _("No such department."))
                lead = None
        dept_ids = _unique_ints(_ids(data.get("department_ids")), "department_ids",
                                lambda v: _("Not a department: %(v)s", v=v), errors)
        departments = {d.id: d for d in db.session.scalars(
            select(Department).where(Department.id.in_(dept_ids)))} if dept_ids else {}
        missing = [str(i) for i in dept_ids if i not in departments or not departments[i].active]
        if missing:
            errors.add("department_ids", _("No such department: %(ids)s",
                                           ids=", ".join(missing)))
        if lead is not None and lead.id not in departments:
            departments[lead.id] = lead
        self.resolved["lead"] = lead
        self.resolved["departments"] = sorted(departments.values(),
                                              key=lambda d: (d.id != lead_id, d.code))
        return self.resolved["departments"]

    def _items(self, data: dict, departments: list[Department],
               errors: _Errors) -> list[CheckItemVersion]:
        """Active items, pinned to the version current now (kept items keep their pin); each
        item's department takes part."""
        item_ids = _unique_ints(_ids(data.get("item_ids")), "item_ids",
                                lambda v: _("Not a check item: %(v)s", v=v), errors)
        task = self.task
        kept = {ti.item_version.item_id: ti.item_version for ti in task.items} if task else {}
        versions: list[CheckItemVersion] = []
        if not item_ids:
            errors.add("item_ids", _("Choose at least one check item."))
        else:
            items = {i.id: i for i in db.session.scalars(
                select(CheckItem).where(CheckItem.id.in_(item_ids)))}
            unknown = [str(i) for i in item_ids if i not in items]
            if unknown:
                errors.add("item_ids", _("No such check item: %(ids)s", ids=", ".join(unknown)))
            new_ids = [i for i in item_ids if i in items and i not in kept]
            retired = [items[i].code for i in new_ids
                       if items[i].status != ItemStatus.ACTIVE.value]
            if retired:
                errors.add("item_ids", _("Retired items cannot go into a task: %(codes)s",
                                         codes=", ".join(retired)))
            current = {v.item_id: v for v in catalogue_ops.current_versions(
                [i for i in new_ids if items[i].status == ItemStatus.ACTIVE.value])}
            versions = [kept[i] if i in kept else current[i] for i in item_ids
                        if i in kept or i in current]
            taking_part = {d.id for d in departments}
            absent = sorted({v.department.name for v in versions
                             if v.department_id not in taking_part})
            if absent and not errors.fields.get("department_ids"):
                errors.add("department_ids", _(
                    "The department responsible for each item must take part: add %(names)s.",
                    names=", ".join(absent)))
        self.resolved["versions"] = versions
        return versions

    @ma.post_load
    def _clean(self, data: dict, **_kwargs) -> dict[str, Any]:
        clean = {k: v for k, v in data.items() if k not in (
            "plan_id", "lead_department_id", "department_ids", "item_ids")}
        return {**clean, **self.resolved}


def _filters(task_type: str, raw: Any, errors: _Errors) -> dict[str, list[str]]:
    """A directed task's filters (at least one); an undirected task keeps none."""
    if task_type != TaskType.DIRECTED.value:
        return {}
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        errors.add("filters", _("The filters are not readable."))
        return {}
    unknown_keys = sorted(set(map(str, raw)) - set(FILTER_KEYS))
    if unknown_keys:
        errors.add("filters", _("Unknown filter: %(keys)s", keys=", ".join(unknown_keys)))
    clean: dict[str, list[str]] = {}
    errors_before = sum(len(v) for v in errors.fields.values())
    for key, allowed in (("regions", None), ("industries", _INDUSTRY_CODES),
                         ("employer_types", _TYPE_CODES), ("grades", set(GRADES)),
                         ("flags", set(FLAGS))):
        values = sorted({str(v).strip() for v in _ids(raw.get(key)) if str(v).strip()})
        if key == "industries" or key == "grades":
            values = sorted({v.upper() for v in values})
        if key == "regions" and values:
            allowed = set(db.session.scalars(select(Region.code)
                                             .where(Region.code.in_(values))))
        bad = [v for v in values if allowed is not None and v not in allowed]
        if bad:
            errors.add(f"filters.{key}", _("Unknown value: %(values)s", values=", ".join(bad)))
        if values:
            clean[key] = values
    if not clean and sum(len(v) for v in errors.fields.values()) == errors_before:
        errors.add("filters", _("A directed task needs at least one filter (region, industry, "
                                "type of employer, grade or flag)."))
    return clean


def _ratios(raw: Any, plan: AnnualPlan | None, key_item: bool,
            errors: _Errors) -> dict[str, str]:
    """The task's ratio per grade: at least the plan's, at most 0.50 (1.00 with a key item)."""
    if not isinstance(raw, Mapping):
        errors.add("grade_ratios", _("Give a ratio for each grade A to D."))
        return {}
    unknown = sorted(set(map(str, raw)) - set(GRADES))
    if unknown:
        errors.add("grade_ratios", _("Unknown grade: %(grades)s", grades=", ".join(unknown)))
    ceiling = KEY_TASK_RATIO_CEILING if key_item else GENERAL_TASK_RATIO_CEILING
    clean: dict[str, str] = {}
    for grade in GRADES:
        field = f"grade_ratios.{grade}"
        ratio = ratio_or_none(raw.get(grade))
        if ratio is None:
            errors.add(field, _("Grade %(g)s: enter the ratio as a number.", g=grade))
            continue
        if not has_places(ratio):
            errors.add(field, _("Grade %(g)s: at most two decimals in percent.", g=grade))
            continue
        if plan is not None:
            floor = ratio_or_none(plan.grade_rules[grade]["ratio"])
            if ratio < floor:
                errors.add(field, _("Grade %(g)s: at least %(min)s, the plan's ratio.",
                                    g=grade, min=percent(floor)))
                continue
        if ratio > ceiling:
            if key_item:
                errors.add(field, _("Grade %(g)s: at most 100%%.", g=grade))
            else:
                errors.add(field, _(
                    "Grade %(g)s: at most %(max)s without a key item; only a task with a key "
                    "item may go up to 100%%.", g=grade, max=percent(ceiling)))
            continue
        clean[grade] = ratio_text(ratio)
    return clean


_TASK_ORDER = ("name", "description", "plan_id", "lead_department_id", "department_ids",
               "item_ids", "task_type", "filters", "method", "window_start", "window_end",
               "announced", "inspectors_per_visit", "grade_ratios")


def load_task(values: Mapping[str, Any], task: Task | None = None) -> dict[str, Any]:
    """A task's content as clean values (see :class:`TaskSchema`), or ValidationFailed."""
    return load(TaskSchema(task=task), values, order=_TASK_ORDER)


_note = {"validate": ma.validate.Length(max=TEXT_MAX)}
_GRADE_RULES_DOC = {"description": 'Per risk grade: {"A": {"ratio": "0.01", "frequency": 1}, '
                                   '...}; the defaults of seed 004 are minimums'}
_RATIOS_DOC = {"description": 'Per risk grade: {"A": "0.01", ...}; default the plan\'s; '
                              'between the plan\'s ratio and 0.50 (1.00 with a key item)'}
_FILTERS_DOC = {"description": 'Directed tasks: {"regions": [...], "industries": [...], '
                               '"employer_types": [...], "grades": [...], "flags": '
                               '["complaints", "abnormal", "serious_violation"]}'}


# ----------------------------------------------------------------------------- API: plans
class _PlanFields(ma.Schema):
    title = ma.fields.String()
    scope = ma.fields.String()
    inspector_requirements = ma.fields.String()
    grade_rules = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Dict(),
                                 metadata=_GRADE_RULES_DOC)
    yearly_cap = WholeNumber(metadata={
        "description": "Random checks of one employer a year, at most (seed 001 第十一条)"})
    schedule = ma.fields.String()
    procedure = ma.fields.String()
    change_note = ma.fields.String(**_note)


class PlanCreateSchema(_PlanFields):
    year = WholeNumber(required=True)
    title = ma.fields.String(required=True)


class PlanUpdateSchema(_PlanFields):
    """Fields left out keep their value."""


class PlanQuerySchema(ma.Schema):
    year = WholeNumber(load_default=None)
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


# ----------------------------------------------------------------------------- API: tasks
class _TaskFields(ma.Schema):
    plan_id = WholeNumber(metadata={"description": "The plan in force for the year"})
    name = ma.fields.String()
    description = ma.fields.String()
    lead_department_id = WholeNumber()
    department_ids = ma.fields.List(WholeNumber(), metadata={
        "description": "Participating departments; the lead is added when missing"})
    item_ids = ma.fields.List(WholeNumber(), metadata={
        "description": "Check items (ids); each is pinned to its current version when added"})
    task_type = ma.fields.String(validate=ma.validate.OneOf(["undirected", "directed"]))
    filters = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
                             metadata=_FILTERS_DOC)
    method = ma.fields.String(metadata={"description": "on_site, written, online, third_party"})
    window_start = ma.fields.Date()
    window_end = ma.fields.Date()
    announced = ma.fields.Boolean(metadata={"description": "False: no advance notice"})
    inspectors_per_visit = WholeNumber(metadata={"description": "At least 2"})
    grade_ratios = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(),
                                  metadata=_RATIOS_DOC)


class TaskCreateSchema(_TaskFields):
    plan_id = WholeNumber(required=True)
    name = ma.fields.String(required=True)
    lead_department_id = WholeNumber(required=True)
    item_ids = ma.fields.List(WholeNumber(), required=True)
    method = ma.fields.String(required=True)
    window_start = ma.fields.Date(required=True)
    window_end = ma.fields.Date(required=True)
    inspectors_per_visit = WholeNumber(load_default=2)


class TaskUpdateSchema(_TaskFields):
    """Fields left out keep their value."""


class TaskQuerySchema(ma.Schema):
    status = ma.fields.String(load_default=None,
                              validate=ma.validate.OneOf([s.value for s in TaskStatus]))
    year = WholeNumber(load_default=None)
    plan_id = WholeNumber(load_default=None)
    page = WholeNumber(load_default=1, validate=ma.validate.Range(min=1))
    per_page = WholeNumber(load_default=50, validate=ma.validate.Range(min=1, max=200))


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
    created_at = UtcDateTime()
    created_by_id = ma.fields.Integer(allow_none=True)
    submitted_at = UtcDateTime(allow_none=True)
    approved_at = UtcDateTime(allow_none=True)
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
    created_at = UtcDateTime()
    created_by_id = ma.fields.Integer(allow_none=True)
    submitted_at = UtcDateTime(allow_none=True)
    approved_at = UtcDateTime(allow_none=True)
    approved_by_id = ma.fields.Integer(allow_none=True)
    cancelled_at = UtcDateTime(allow_none=True)
    cancel_reason = ma.fields.String(allow_none=True)


class TaskPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TaskDumpSchema))
    page = ma.fields.Integer()
    pages = ma.fields.Integer()
    total = ma.fields.Integer()


class TaskMatchingSchema(ma.Schema):
    count = ma.fields.Integer(metadata={"description": "Active employers the filters match now"})
