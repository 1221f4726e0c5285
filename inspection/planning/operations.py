"""Annual plans (年度抽查计划) and tasks (抽查任务): the operations views, API, CLI, the
draw and tests call. Each change validates, changes, writes the audit trail and commits, all
or nothing; a refused change raises :class:`ValidationFailed` naming every bad field.

Annual plans
------------
States: ``draft`` → ``submitted`` (office) → ``approved`` (approver) → ``published`` (with the
day it was made public). A rejection sends a submitted plan back to ``draft`` with a note. Only
drafts are edited. A plan that has been approved is never changed again: :func:`revise_plan`
copies it into a new ``draft`` revision (``revision + 1``, ``previous_id`` → the approved one)
that goes through submit and approve again. The approved revision stays **in force** until the
new one is approved; only then does it become ``superseded``. :func:`plan_in_force` answers
which revision that is (at most one per year is approved or published).

Per-grade rules (seed 004 第六条 and the bureau's rules): the defaults
(:data:`~.models.DEFAULT_GRADE_RULES`: A 1 %/once, B 3 %/once, C 10 %/twice, D 20 %/three
times) are **minimums**. A plan may set a higher ratio or frequency, never a lower one, so that
a low-risk grade cannot be quietly left unchecked. A plan's ratio may not exceed
:data:`GENERAL_TASK_RATIO_CEILING` either, else a task of general items could never meet it.
``yearly_cap`` is the number of random checks one employer may get in a year (seed 001
第十一条: "原则上不超过2次"; default 2).

Tasks
-----
States: ``draft`` → ``submitted`` → ``approved`` (approval freezes the task: nothing is edited
afterwards) → ``targets_drawn`` → ``teams_drawn`` → ``closed`` (the draw moves it on);
``cancelled`` with a reason, from any state before the target draw. A rejection sends a
submitted task back to ``draft`` with a note. Only drafts are edited.

Rules checked on every save, again on submission and again on approval:

* the plan is the one **in force** for its year (a draft of a superseded revision moves to the
  revision in force); the date window lies inside the plan's year, start ≤ end;
* the lead department always takes part: when it is missing from the participating
  departments it is **added** (one department: a departmental task; more: a joint task);
  every item's responsible department takes part too;
* check items are active; each is **pinned** to its current version when it is added
  (:class:`~.models.TaskItem`), and stays pinned whatever later edits of the catalogue do;
* at least :data:`MIN_INSPECTORS_PER_VISIT` (2) inspectors per visit (行政处罚法 art. 42;
  劳动保障监察条例 art. 16);
* **ratios per grade**: the floor is the plan's ratio for the grade (a task checks at least
  as much as the plan requires). The ceiling is 1.00 (100 %) when the task includes a **key**
  item (seed 003: the draw then only fixes the order of visits), otherwise
  :data:`GENERAL_TASK_RATIO_CEILING` (0.50), so that a task of general items stays a sample;
* directed tasks need at least one filter; undirected ones have none (stored empty).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..catalogue import operations as catalogue_ops
from ..catalogue.models import CheckItem, CheckItemVersion, InspectionMethod, ItemKind, ItemStatus
from ..core import audit
from ..core.errors import Conflict, NotFound, ValidationFailed
from ..core.models import Department, User, utcnow
from ..core.timeutil import LOCAL
from ..directory.models import Employer, EmployerStatus, Region, RiskGrade
from ..directory.reference import EMPLOYER_TYPES, INDUSTRIES
from ..extensions import db
from .models import (DEFAULT_GRADE_RULES, AnnualPlan, PlanStatus, Task, TaskDepartment, TaskItem,
                     TaskStatus, TaskType)

GRADES = tuple(g.value for g in RiskGrade)
#: Ceiling of a task's ratio when none of its items is a key item (and of a plan's ratio).
GENERAL_TASK_RATIO_CEILING = Decimal("0.50")
#: Ceiling of a task's ratio when one of its items is a key item.
KEY_TASK_RATIO_CEILING = Decimal("1.00")
MIN_INSPECTORS_PER_VISIT = 2
MAX_INSPECTORS_PER_VISIT = 10
MAX_FREQUENCY = 12
MAX_YEARLY_CAP = 12
YEAR_RANGE = (2000, 2100)
NAME_MAX = 200
TEXT_MAX = 8000
#: Directed-task flags and the Employer columns they test (any flag set matches).
FLAGS = {"complaints": "flag_complaints", "abnormal": "flag_abnormal",
         "serious_violation": "flag_serious_violation"}
FILTER_KEYS = ("regions", "industries", "employer_types", "grades", "flags")
#: Plan states in which a plan is in force; task states before the target draw.
IN_FORCE = (PlanStatus.APPROVED.value, PlanStatus.PUBLISHED.value)
CANCELLABLE = (TaskStatus.DRAFT.value, TaskStatus.SUBMITTED.value, TaskStatus.APPROVED.value)

PLAN_FIELDS = ("title", "scope", "inspector_requirements", "grade_rules", "yearly_cap",
               "schedule", "procedure", "change_note")
TASK_FIELDS = ("name", "description", "lead_department_id", "department_ids", "item_ids",
               "task_type", "filters", "method", "window_start", "window_end", "announced",
               "inspectors_per_visit", "grade_ratios")


# =========================================================================== helpers
class _Errors:
    """Collects per-field messages; :meth:`raise_if_any` raises them all at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self) -> None:
        if self.fields:
            first = next(iter(self.fields.values()))[0]
            raise ValidationFailed(_("Please correct the marked fields: %(first)s", first=first),
                                   self.fields)


def local_today() -> date:
    return datetime.now(LOCAL).date()


def ratio_text(value: Decimal) -> str:
    """A ratio as stored: at least two decimals, at most four (0.1 -> "0.10", 1 -> "1.00")."""
    text = f"{Decimal(value).quantize(Decimal('0.0001')):f}".rstrip("0")
    whole, _dot, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def percent(value: Any) -> str:
    """"0.10" -> "10%"."""
    try:
        return catalogue_ops.percent(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def _parse_ratio(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or (isinstance(value, str) and not value.strip()):
        return None
    try:
        ratio = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return ratio if ratio.is_finite() else None


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _text(values: Mapping[str, Any], key: str) -> str:
    value = values.get(key)
    return "" if value is None else str(value).strip()


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _list(value: Any) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, (str, int)):
        return [value]
    return list(value)


def _audit_value(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return ratio_text(value)
    return value


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list]:
    return {key: [_audit_value(before.get(key)), _audit_value(after[key])] for key in after
            if before.get(key) != after[key]}


# =========================================================================== plans: reading
def get_plan(plan_id: int) -> AnnualPlan:
    plan = db.session.get(AnnualPlan, plan_id)
    if plan is None:
        raise NotFound(_("No such annual plan."))
    return plan


def list_plans(year: int | None = None, status: str | None = None):
    """The query behind the plans list: newest year first, newest revision first."""
    query = select(AnnualPlan).order_by(AnnualPlan.year.desc(), AnnualPlan.revision.desc())
    if year:
        query = query.where(AnnualPlan.year == year)
    if status:
        query = query.where(AnnualPlan.status == status)
    return query


def plan_in_force(year: int) -> AnnualPlan | None:
    """The approved or published revision of ``year``'s plan, or None. At most one is: approving
    a revision supersedes the one before."""
    return db.session.scalar(
        select(AnnualPlan).where(AnnualPlan.year == year, AnnualPlan.status.in_(IN_FORCE))
        .order_by(AnnualPlan.revision.desc()).limit(1))


def plans_in_force() -> list[AnnualPlan]:
    """Every year's plan in force, newest year first (for the task form)."""
    return list(db.session.scalars(select(AnnualPlan).where(AnnualPlan.status.in_(IN_FORCE))
                                   .order_by(AnnualPlan.year.desc())))


def open_revision(year: int) -> AnnualPlan | None:
    """The draft or submitted revision of ``year``'s plan, if any (at most one at a time)."""
    return db.session.scalar(select(AnnualPlan).where(
        AnnualPlan.year == year,
        AnnualPlan.status.in_((PlanStatus.DRAFT.value, PlanStatus.SUBMITTED.value))).limit(1))


def plan_revisions(year: int) -> list[AnnualPlan]:
    return list(db.session.scalars(select(AnnualPlan).where(AnnualPlan.year == year)
                                   .order_by(AnnualPlan.revision.desc())))


def history(object_type: str, object_id: int, limit: int = 100):
    """The audit entries of one plan or task, newest first."""
    return audit.search(object_type=object_type, object_id=str(object_id), limit=limit)


# =========================================================================== plans: validation
def default_grade_rules() -> dict[str, dict[str, Any]]:
    return {g: dict(rule) for g, rule in DEFAULT_GRADE_RULES.items()}


def _clean_grade_rules(raw: Any, errors: _Errors) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, Mapping):
        errors.add("grade_rules", _("Give a ratio and a frequency for each grade A to D."))
        return {}
    clean: dict[str, dict[str, Any]] = {}
    unknown = sorted(set(map(str, raw)) - set(GRADES))
    if unknown:
        errors.add("grade_rules", _("Unknown grade: %(grades)s", grades=", ".join(unknown)))
    for grade in GRADES:
        rule = raw.get(grade)
        minimum = DEFAULT_GRADE_RULES[grade]
        floor, min_freq = Decimal(minimum["ratio"]), int(minimum["frequency"])
        if not isinstance(rule, Mapping):
            errors.add(f"grade_rules.{grade}",
                       _("Grade %(g)s: give a ratio and a frequency.", g=grade))
            continue
        ratio = _parse_ratio(rule.get("ratio"))
        if ratio is None:
            errors.add(f"grade_rules.{grade}.ratio",
                       _("Grade %(g)s: enter the ratio as a number.", g=grade))
        elif ratio != ratio.quantize(Decimal("0.0001")):
            errors.add(f"grade_rules.{grade}.ratio",
                       _("Grade %(g)s: at most two decimals in percent.", g=grade))
        elif ratio < floor:
            errors.add(f"grade_rules.{grade}.ratio", _(
                "Grade %(g)s: at least %(min)s. The ratios of seed 004 are minimums: a plan "
                "may check more, never less.", g=grade, min=percent(floor)))
        elif ratio > GENERAL_TASK_RATIO_CEILING:
            errors.add(f"grade_rules.{grade}.ratio", _(
                "Grade %(g)s: at most %(max)s, or no task of general items could meet it.",
                g=grade, max=percent(GENERAL_TASK_RATIO_CEILING)))
        frequency = _int(rule.get("frequency"))
        if frequency is None:
            errors.add(f"grade_rules.{grade}.frequency",
                       _("Grade %(g)s: enter the times a year as a whole number.", g=grade))
        elif frequency < min_freq:
            errors.add(f"grade_rules.{grade}.frequency", _(
                "Grade %(g)s: at least %(n)d times a year (a minimum of seed 004).",
                g=grade, n=min_freq))
        elif frequency > MAX_FREQUENCY:
            errors.add(f"grade_rules.{grade}.frequency",
                       _("Grade %(g)s: at most %(n)d times a year.", g=grade, n=MAX_FREQUENCY))
        if ratio is not None and frequency is not None:
            clean[grade] = {"ratio": ratio_text(ratio), "frequency": frequency}
    return clean


def _clean_plan(values: Mapping[str, Any]) -> dict[str, Any]:
    errors = _Errors()
    clean: dict[str, Any] = {}
    for key, limit, required in (("title", NAME_MAX, True), ("scope", TEXT_MAX, True),
                                 ("inspector_requirements", TEXT_MAX, False),
                                 ("schedule", TEXT_MAX, False), ("procedure", TEXT_MAX, False),
                                 ("change_note", TEXT_MAX, False)):
        text = _text(values, key)
        if required and not text:
            errors.add(key, _("This field is required."))
        elif len(text) > limit:
            errors.add(key, _("At most %(n)d characters.", n=limit))
        clean[key] = text
    cap = _int(values.get("yearly_cap"))
    if cap is None:
        errors.add("yearly_cap", _("Enter a whole number."))
    elif not 1 <= cap <= MAX_YEARLY_CAP:
        errors.add("yearly_cap", _("Between 1 and %(n)d random checks a year.", n=MAX_YEARLY_CAP))
    clean["yearly_cap"] = cap
    clean["grade_rules"] = _clean_grade_rules(values.get("grade_rules"), errors)
    errors.raise_if_any()
    return clean


def _check_year(value: Any, errors: _Errors) -> int | None:
    year = _int(value)
    if year is None:
        errors.add("year", _("Enter the year, e.g. 2026."))
    elif not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        errors.add("year", _("Between %(a)d and %(b)d.", a=YEAR_RANGE[0], b=YEAR_RANGE[1]))
    return year


def plan_values(plan: AnnualPlan) -> dict[str, Any]:
    """A plan's content in the shape operations take (for forms and comparisons)."""
    return {"title": plan.title, "scope": plan.scope,
            "inspector_requirements": plan.inspector_requirements,
            "grade_rules": {g: dict(r) for g, r in (plan.grade_rules or {}).items()},
            "yearly_cap": plan.yearly_cap, "schedule": plan.schedule,
            "procedure": plan.procedure, "change_note": plan.change_note}


def _actor_id(actor: User | None) -> int | None:
    return actor.id if actor else None


# =========================================================================== plans: changes
def create_plan(values: Mapping[str, Any], actor: User | None = None) -> AnnualPlan:
    """Revision 1 of a year's plan, as a draft. ``grade_rules`` and ``yearly_cap`` default to
    the minimums of seed 004 and the cap of seed 001. A year has one plan: later changes are
    revisions (:func:`revise_plan`)."""
    errors = _Errors()
    year = _check_year(values.get("year"), errors)
    merged = {"grade_rules": default_grade_rules(), "yearly_cap": 2, **{
        k: v for k, v in values.items() if v is not None}}
    try:
        clean = _clean_plan(merged)
    except ValidationFailed as error:
        error.fields = {**errors.fields, **error.fields}
        raise
    errors.raise_if_any()
    if db.session.scalar(select(AnnualPlan.id).where(AnnualPlan.year == year).limit(1)):
        raise ValidationFailed(
            _("There is a plan for %(year)d already; revise it instead.", year=year),
            {"year": [_("There is a plan for this year already.")]})
    plan = AnnualPlan(year=year, revision=1, status=PlanStatus.DRAFT.value, created_at=utcnow(),
                      created_by_id=_actor_id(actor), **clean)
    db.session.add(plan)
    _flush_revision(year)
    audit.record("plan.create", "annual_plan", plan.id,
                 {"year": year, "revision": 1, "title": clean["title"],
                  "grade_rules": clean["grade_rules"], "yearly_cap": clean["yearly_cap"]},
                 actor=actor)
    db.session.commit()
    return plan


def update_plan(plan: AnnualPlan, values: Mapping[str, Any],
                actor: User | None = None) -> AnnualPlan:
    """Change a draft (keys left out keep their value). Records only what changed."""
    if plan.status != PlanStatus.DRAFT.value:
        raise Conflict(_("Only a draft plan can be edited; an approved plan is changed by a "
                         "new revision."))
    before = plan_values(plan)
    merged = {**before, **{k: v for k, v in values.items() if k in before}}
    clean = _clean_plan(merged)
    changes = _changes(before, clean)
    if not changes:
        return plan
    for key, value in clean.items():
        setattr(plan, key, value)
    audit.record("plan.update", "annual_plan", plan.id, {"changes": changes}, actor=actor)
    db.session.commit()
    return plan


def submit_plan(plan: AnnualPlan, actor: User | None = None) -> AnnualPlan:
    """Send a draft for approval (checked again in full)."""
    if plan.status != PlanStatus.DRAFT.value:
        raise Conflict(_("Only a draft plan can be submitted."))
    _clean_plan(plan_values(plan))
    if plan.revision > 1 and not plan.change_note.strip():
        raise ValidationFailed(_("Say what this revision changes and why."),
                               {"change_note": [_("A change note is required.")]})
    plan.status = PlanStatus.SUBMITTED.value
    plan.submitted_at = utcnow()
    audit.record("plan.submit", "annual_plan", plan.id,
                 {"year": plan.year, "revision": plan.revision}, actor=actor)
    db.session.commit()
    return plan


def approve_plan(plan: AnnualPlan, actor: User | None = None, note: str = "") -> AnnualPlan:
    """Approve a submitted plan. It comes into force; the revision that was in force for the
    year (if any) becomes superseded in the same transaction."""
    if plan.status != PlanStatus.SUBMITTED.value:
        raise Conflict(_("Only a submitted plan can be approved."))
    note = _note(note, required=False)
    previous = plan_in_force(plan.year)
    if previous is not None and previous.id != plan.id:
        previous.status = PlanStatus.SUPERSEDED.value
        audit.record("plan.supersede", "annual_plan", previous.id,
                     {"year": previous.year, "revision": previous.revision,
                      "superseded_by": plan.id}, actor=actor)
    plan.status = PlanStatus.APPROVED.value
    plan.approved_at = utcnow()
    plan.approved_by_id = _actor_id(actor)
    plan.review_note = note
    audit.record("plan.approve", "annual_plan", plan.id,
                 {"year": plan.year, "revision": plan.revision, "note": note,
                  "supersedes": previous.id if previous is not None else None}, actor=actor)
    db.session.commit()
    return plan


def reject_plan(plan: AnnualPlan, note: str, actor: User | None = None) -> AnnualPlan:
    """Send a submitted plan back to draft, saying why."""
    if plan.status != PlanStatus.SUBMITTED.value:
        raise Conflict(_("Only a submitted plan can be rejected."))
    note = _note(note, required=True)
    plan.status = PlanStatus.DRAFT.value
    plan.review_note = note
    audit.record("plan.reject", "annual_plan", plan.id,
                 {"year": plan.year, "revision": plan.revision, "note": note}, actor=actor)
    db.session.commit()
    return plan


def publish_plan(plan: AnnualPlan, published_on: date | None = None,
                 actor: User | None = None) -> AnnualPlan:
    """Record that the approved plan was made public on ``published_on`` (default today)."""
    if plan.status != PlanStatus.APPROVED.value:
        raise Conflict(_("Only an approved plan in force can be published."))
    published_on = _date(published_on) if published_on else local_today()
    if published_on is None:
        raise ValidationFailed(_("Enter the day of publication."),
                               {"published_on": [_("Enter a date.")]})
    plan.status = PlanStatus.PUBLISHED.value
    plan.published_on = published_on
    audit.record("plan.publish", "annual_plan", plan.id,
                 {"year": plan.year, "revision": plan.revision,
                  "published_on": published_on.isoformat()}, actor=actor)
    db.session.commit()
    return plan


def revise_plan(plan: AnnualPlan, change_note: str = "", actor: User | None = None) -> AnnualPlan:
    """Start a new revision of the plan in force: a draft copy (revision + 1) pointing to it.
    The plan in force stays in force until the new revision is approved."""
    if plan.status not in IN_FORCE:
        raise Conflict(_("Only the approved plan in force can be revised."))
    pending = open_revision(plan.year)
    if pending is not None:
        raise Conflict(_("Revision %(n)d of this plan is not yet approved; finish it first.",
                         n=pending.revision))
    note = _note(change_note, required=False)
    last = db.session.scalar(select(func.max(AnnualPlan.revision))
                             .where(AnnualPlan.year == plan.year)) or plan.revision
    values = plan_values(plan)
    values["change_note"] = note
    new = AnnualPlan(year=plan.year, revision=last + 1, previous_id=plan.id,
                     status=PlanStatus.DRAFT.value, created_at=utcnow(),
                     created_by_id=_actor_id(actor), **values)
    db.session.add(new)
    _flush_revision(plan.year)
    audit.record("plan.revise", "annual_plan", new.id,
                 {"year": plan.year, "revision": new.revision, "previous_id": plan.id,
                  "note": note}, actor=actor)
    db.session.commit()
    return new


def _flush_revision(year: int) -> None:
    """Insert a plan revision; another user saving the same (year, revision) at the same
    moment makes the unique constraint fail: answer 409, not 500."""
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("Someone else changed the plan for %(year)d at the same moment; "
                         "reload and try again.", year=year)) from None


def _note(note: str | None, required: bool, field: str = "note") -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationFailed(_("Give a note saying why."), {field: [_("A note is required.")]})
    if len(note) > TEXT_MAX:
        raise ValidationFailed(_("The note is too long."),
                               {field: [_("At most %(n)d characters.", n=TEXT_MAX)]})
    return note


# =========================================================================== tasks: reading
def get_task(task_id: int) -> Task:
    task = db.session.get(Task, task_id, options=[
        selectinload(Task.departments).selectinload(TaskDepartment.department),
        selectinload(Task.items).selectinload(TaskItem.item_version)
        .selectinload(CheckItemVersion.item)])
    if task is None:
        raise NotFound(_("No such task."))
    return task


def list_tasks(status: str | None = None, year: int | None = None,
               plan_id: int | None = None, q: str | None = None) -> Select:
    """The query behind the task list (not executed): newest first, filtered."""
    query = (select(Task).join(AnnualPlan, AnnualPlan.id == Task.plan_id)
             .options(selectinload(Task.lead_department), selectinload(Task.departments),
                      selectinload(Task.plan))
             .order_by(Task.window_start.desc(), Task.id.desc()))
    if status:
        query = query.where(Task.status == status)
    if year:
        query = query.where(AnnualPlan.year == year)
    if plan_id:
        query = query.where(Task.plan_id == plan_id)
    if q:
        query = query.where(Task.name.ilike(f"%{q.strip()}%"))
    return query


@dataclass(frozen=True)
class PinnedItem:
    """A task's item as pinned, and the catalogue's current version number of that item."""

    version: CheckItemVersion
    current_number: int

    @property
    def outdated(self) -> bool:
        return self.current_number > self.version.number


def pinned_items(task: Task) -> list[PinnedItem]:
    """The task's items by code, each with whether a newer version exists in the catalogue."""
    versions = [ti.item_version for ti in task.items]
    if not versions:
        return []
    numbers = dict(db.session.execute(
        select(CheckItemVersion.item_id, func.max(CheckItemVersion.number))
        .where(CheckItemVersion.item_id.in_({v.item_id for v in versions}))
        .group_by(CheckItemVersion.item_id)).all())
    return sorted((PinnedItem(v, numbers.get(v.item_id, v.number)) for v in versions),
                  key=lambda p: p.version.item.code)


def has_key_item(task: Task) -> bool:
    return any(ti.item_version.kind == ItemKind.KEY.value for ti in task.items)


def task_filters_query(task: Task) -> Select:
    """A select of the active :class:`Employer` rows the task may draw from, by credit code.

    Undirected: every active employer. Directed: within each filter any listed value matches
    (regions, industry sections, employer types, grades; for flags, any of the listed flags
    set); the filters given must all match. An empty filter does not restrict.
    """
    query = (select(Employer).where(Employer.status == EmployerStatus.ACTIVE.value)
             .order_by(Employer.credit_code))
    if task.task_type != TaskType.DIRECTED.value:
        return query
    filters = task.filters or {}
    for key, column in (("regions", Employer.region_code), ("industries", Employer.industry),
                        ("employer_types", Employer.employer_type),
                        ("grades", Employer.risk_grade)):
        wanted = filters.get(key) or []
        if wanted:
            query = query.where(column.in_(wanted))
    flags = [getattr(Employer, FLAGS[f]) for f in filters.get("flags") or [] if f in FLAGS]
    if flags:
        query = query.where(or_(*[flag.is_(True) for flag in flags]))
    return query


def count_matching(task: Task) -> int:
    """How many employers :func:`task_filters_query` finds now."""
    inner = task_filters_query(task).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(inner)) or 0


# =========================================================================== tasks: validation
_INDUSTRY_CODES = {code for code, _zh, _en in INDUSTRIES}
_TYPE_CODES = {code for code, _zh, _en in EMPLOYER_TYPES}
_METHODS = {m.value for m in InspectionMethod}


def _clean_filters(task_type: str, raw: Any, errors: _Errors) -> dict[str, list[str]]:
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
        values = sorted({str(v).strip() for v in _list(raw.get(key)) if str(v).strip()})
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


def _clean_task(values: Mapping[str, Any], task: Task | None) -> dict[str, Any]:
    """Check every field of a task; return clean values (the departments, plan and item
    versions as objects) or raise ValidationFailed naming each bad field."""
    errors = _Errors()
    clean: dict[str, Any] = {}
    for key, limit, required in (("name", NAME_MAX, True), ("description", TEXT_MAX, False)):
        text = _text(values, key)
        if required and not text:
            errors.add(key, _("This field is required."))
        elif len(text) > limit:
            errors.add(key, _("At most %(n)d characters.", n=limit))
        clean[key] = text

    # The plan: the one in force for its year.
    plan = None
    plan_id = _int(values.get("plan_id"))
    if plan_id is None:
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
            elif chosen.id != plan.id and (task is None or task.plan_id != chosen.id):
                errors.add("plan_id", _("This revision is not in force; choose revision "
                                        "%(n)d.", n=plan.revision))
                plan = None
    clean["plan"] = plan

    # Departments: the lead always takes part.
    lead = None
    lead_id = _int(values.get("lead_department_id"))
    if lead_id is None:
        errors.add("lead_department_id", _("Choose the lead department."))
    else:
        lead = db.session.get(Department, lead_id)
        if lead is None or not lead.active:
            errors.add("lead_department_id", _("No such department."))
            lead = None
    dept_ids = []
    for raw in _list(values.get("department_ids")):
        number = _int(raw)
        if number is None:
            errors.add("department_ids", _("Not a department: %(v)s", v=raw))
        elif number not in dept_ids:
            dept_ids.append(number)
    departments = {d.id: d for d in db.session.scalars(
        select(Department).where(Department.id.in_(dept_ids)))} if dept_ids else {}
    missing = [str(i) for i in dept_ids if i not in departments or not departments[i].active]
    if missing:
        errors.add("department_ids", _("No such department: %(ids)s", ids=", ".join(missing)))
    if lead is not None and lead.id not in departments:
        departments[lead.id] = lead
    clean["lead"] = lead
    clean["departments"] = sorted(departments.values(), key=lambda d: (d.id != lead_id, d.code))

    # Items: active, pinned to the version current now (kept items keep their pin).
    item_ids = []
    for raw in _list(values.get("item_ids")):
        number = _int(raw)
        if number is None:
            errors.add("item_ids", _("Not a check item: %(v)s", v=raw))
        elif number not in item_ids:
            item_ids.append(number)
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
        retired = [items[i].code for i in new_ids if items[i].status != ItemStatus.ACTIVE.value]
        if retired:
            errors.add("item_ids", _("Retired items cannot go into a task: %(codes)s",
                                     codes=", ".join(retired)))
        current = {v.item_id: v for v in catalogue_ops.current_versions(
            [i for i in new_ids if items[i].status == ItemStatus.ACTIVE.value])}
        versions = [kept[i] if i in kept else current[i] for i in item_ids
                    if i in kept or i in current]
        taking_part = {d.id for d in clean["departments"]}
        absent = sorted({v.department.name for v in versions
                         if v.department_id not in taking_part})
        if absent and not errors.fields.get("department_ids"):
            errors.add("department_ids", _(
                "The department responsible for each item must take part: add %(names)s.",
                names=", ".join(absent)))
    clean["versions"] = versions
    key_item = any(v.kind == ItemKind.KEY.value for v in versions)

    task_type = _text(values, "task_type") or TaskType.UNDIRECTED.value
    if task_type not in {t.value for t in TaskType}:
        errors.add("task_type", _("Choose directed or undirected."))
    clean["task_type"] = task_type
    clean["filters"] = _clean_filters(task_type, values.get("filters"), errors)

    method = _text(values, "method")
    if method not in _METHODS:
        errors.add("method", _("Choose a method of inspection."))
    clean["method"] = method

    start, end = _date(values.get("window_start")), _date(values.get("window_end"))
    if start is None:
        errors.add("window_start", _("Enter a date."))
    if end is None:
        errors.add("window_end", _("Enter a date."))
    if start and end and start > end:
        errors.add("window_end", _("The end cannot be before the start."))
    if plan is not None:
        for key, day in (("window_start", start), ("window_end", end)):
            if day and day.year != plan.year:
                errors.add(key, _("Within the plan's year %(year)d.", year=plan.year))
    clean["window_start"], clean["window_end"] = start, end

    announced = values.get("announced", True)
    if isinstance(announced, str):
        announced = announced.strip().lower() in ("1", "true", "yes", "y", "on")
    clean["announced"] = bool(announced)

    per_visit = _int(values.get("inspectors_per_visit"))
    if per_visit is None:
        errors.add("inspectors_per_visit", _("Enter a whole number."))
    elif per_visit < MIN_INSPECTORS_PER_VISIT:
        errors.add("inspectors_per_visit", _(
            "At least %(n)d inspectors per visit (Administrative Penalty Law art. 42; "
            "Regulations on Labour Security Supervision art. 16).",
            n=MIN_INSPECTORS_PER_VISIT))
    elif per_visit > MAX_INSPECTORS_PER_VISIT:
        errors.add("inspectors_per_visit", _("At most %(n)d.", n=MAX_INSPECTORS_PER_VISIT))
    clean["inspectors_per_visit"] = per_visit

    raw_ratios = values.get("grade_ratios")
    if raw_ratios is None:
        raw_ratios = {}
    if plan is not None and isinstance(raw_ratios, Mapping):
        # A grade left out (or blank) takes the plan's ratio.
        raw_ratios = {**{g: r["ratio"] for g, r in plan.grade_rules.items()},
                      **{g: v for g, v in raw_ratios.items() if v not in (None, "")}}
    clean["grade_ratios"] = _clean_ratios(raw_ratios, plan, key_item, errors)
    errors.raise_if_any()
    return clean


def _clean_ratios(raw: Any, plan: AnnualPlan | None, key_item: bool,
                  errors: _Errors) -> dict[str, str]:
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
        ratio = _parse_ratio(raw.get(grade))
        if ratio is None:
            errors.add(field, _("Grade %(g)s: enter the ratio as a number.", g=grade))
            continue
        if ratio != ratio.quantize(Decimal("0.0001")):
            errors.add(field, _("Grade %(g)s: at most two decimals in percent.", g=grade))
            continue
        if plan is not None:
            floor = Decimal(plan.grade_rules[grade]["ratio"])
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


def task_values(task: Task) -> dict[str, Any]:
    """A task's content in the shape operations take (for forms and comparisons)."""
    return {"plan_id": task.plan_id, "name": task.name, "description": task.description,
            "lead_department_id": task.lead_department_id,
            "department_ids": [td.department_id for td in task.departments],
            "item_ids": [ti.item_version.item_id for ti in task.items],
            "task_type": task.task_type, "filters": dict(task.filters or {}),
            "method": task.method, "window_start": task.window_start,
            "window_end": task.window_end, "announced": task.announced,
            "inspectors_per_visit": task.inspectors_per_visit,
            "grade_ratios": dict(task.grade_ratios or {})}


def _snapshot(task: Task) -> dict[str, Any]:
    """What the audit trail compares: codes and version numbers rather than ids."""
    values = task_values(task)
    values["departments"] = sorted(td.department.code for td in task.departments)
    values["items"] = sorted(f"{ti.item_version.item.code} v{ti.item_version.number}"
                             for ti in task.items)
    for key in ("department_ids", "item_ids"):
        values.pop(key)
    return values


def _apply(task: Task, clean: dict[str, Any]) -> None:
    task.plan = clean["plan"]
    for key in ("name", "description", "task_type", "filters", "method", "window_start",
                "window_end", "announced", "inspectors_per_visit", "grade_ratios"):
        setattr(task, key, clean[key])
    task.lead_department = clean["lead"]
    wanted = {d.id: d for d in clean["departments"]}
    task.departments = [td for td in task.departments if td.department_id in wanted] + [
        TaskDepartment(department_id=d.id, department=d) for d in clean["departments"]
        if d.id not in {td.department_id for td in task.departments}]
    for td in task.departments:
        td.is_lead = td.department_id == clean["lead"].id
    version_ids = {v.id for v in clean["versions"]}
    have = {ti.item_version_id for ti in task.items}
    task.items = [ti for ti in task.items if ti.item_version_id in version_ids] + [
        TaskItem(item_version_id=v.id, item_version=v) for v in clean["versions"]
        if v.id not in have]


# =========================================================================== tasks: changes
def create_task(values: Mapping[str, Any], actor: User | None = None) -> Task:
    """A new draft task. ``grade_ratios`` default to the plan's; items are pinned to their
    current versions."""
    clean = _clean_task(values, None)
    task = Task(status=TaskStatus.DRAFT.value, created_at=utcnow(),
                created_by_id=_actor_id(actor))
    db.session.add(task)
    _apply(task, clean)
    db.session.flush()
    audit.record("task.create", "task", task.id, {
        k: _audit_value(v) for k, v in _snapshot(task).items()}, actor=actor)
    db.session.commit()
    return task


def update_task(task: Task, values: Mapping[str, Any], actor: User | None = None) -> Task:
    """Change a draft task (keys left out keep their value). Items kept stay pinned to their
    version; items added are pinned to the current one."""
    if task.status != TaskStatus.DRAFT.value:
        raise Conflict(_("Only a draft task can be edited; an approved task is frozen."))
    before = _snapshot(task)
    merged = {**task_values(task), **{k: v for k, v in values.items() if k in TASK_FIELDS
                                      or k == "plan_id"}}
    clean = _clean_task(merged, task)
    _apply(task, clean)
    db.session.flush()
    changes = _changes(before, _snapshot(task))
    if changes:
        audit.record("task.update", "task", task.id, {"changes": changes}, actor=actor)
    db.session.commit()
    return task


def _recheck(task: Task) -> None:
    """Check a task in full again (the plan may have been revised, items retired ...)."""
    clean = _clean_task(task_values(task), task)
    if clean["plan"].id != task.plan_id:
        before = task.plan_id
        task.plan = clean["plan"]
        audit.record("task.replan", "task", task.id,
                     {"plan_id": [before, clean["plan"].id]})


def submit_task(task: Task, actor: User | None = None) -> Task:
    """Send a draft for approval (checked again in full)."""
    if task.status != TaskStatus.DRAFT.value:
        raise Conflict(_("Only a draft task can be submitted."))
    _recheck(task)
    task.status = TaskStatus.SUBMITTED.value
    task.submitted_at = utcnow()
    audit.record("task.submit", "task", task.id, {"name": task.name}, actor=actor)
    db.session.commit()
    return task


def approve_task(task: Task, actor: User | None = None, note: str = "") -> Task:
    """Approve a submitted task: from now on it is frozen (only cancelled, with a reason)."""
    if task.status == TaskStatus.DRAFT.value:
        raise Conflict(_("A draft task must be submitted before it is approved."))
    if task.status != TaskStatus.SUBMITTED.value:
        raise Conflict(_("Only a submitted task can be approved."))
    note = _note(note, required=False)
    _recheck(task)
    task.status = TaskStatus.APPROVED.value
    task.approved_at = utcnow()
    task.approved_by_id = _actor_id(actor)
    task.review_note = note
    audit.record("task.approve", "task", task.id, {"name": task.name, "note": note,
                                                   "plan_id": task.plan_id}, actor=actor)
    db.session.commit()
    return task


def reject_task(task: Task, note: str, actor: User | None = None) -> Task:
    """Send a submitted task back to draft, saying why."""
    if task.status != TaskStatus.SUBMITTED.value:
        raise Conflict(_("Only a submitted task can be rejected."))
    note = _note(note, required=True)
    task.status = TaskStatus.DRAFT.value
    task.review_note = note
    audit.record("task.reject", "task", task.id, {"name": task.name, "note": note}, actor=actor)
    db.session.commit()
    return task


def cancel_task(task: Task, reason: str, actor: User | None = None) -> Task:
    """Cancel a task before its target draw, with a reason (kept on record)."""
    if task.status not in CANCELLABLE:
        if task.status == TaskStatus.CANCELLED.value:
            raise Conflict(_("The task is cancelled already."))
        raise Conflict(_("The targets of this task have been drawn: it can no longer be "
                         "cancelled."))
    reason = _note(reason, required=True, field="reason")
    previous = task.status
    task.status = TaskStatus.CANCELLED.value
    task.cancelled_at = utcnow()
    task.cancel_reason = reason
    audit.record("task.cancel", "task", task.id,
                 {"name": task.name, "reason": reason, "status": [previous, task.status]},
                 actor=actor)
    db.session.commit()
    return task


def task_years() -> list[int]:
    """Years that have a plan, newest first (for filters)."""
    return list(db.session.scalars(select(AnnualPlan.year).distinct()
                                   .order_by(AnnualPlan.year.desc())))


def departments_of(task: Task) -> list[Department]:
    return [td.department for td in sorted(task.departments, key=lambda td: not td.is_lead)]

