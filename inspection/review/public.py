"""What the public reads of the results (公示, DOMAIN.md "After the visit"): the results page
(``/public/results``, HTML and JSON), one result with its history, and the published result
the QR check of a sealed record shows (:func:`published_result`).

Only the bureau's result is public: the current approved determination (not superseded) of a
visit whose status is ``published``. Nothing of a visit before that (the on-site category, a
proposal, a rejected or withheld result) and never personal data: no names of inspectors or
representatives, no signatures, photos, notes or findings, no contact data or text of an
objection. A row says: credit code, employer name, task name(s), the items checked, the
result category, the determination and publication dates, the lead department, whether and
when the result was corrected (the original category stays on record), and the outcome of
each objection once its review is decided.

Every reader loads what it shows in a fixed number of statements, whatever the number of
rows (a test counts them): the page (with the current and corrected determinations, the
employer and the publication joined), a count, then one statement each for the rows' tasks,
items, decided objections and handling decisions (:mod:`.handling.public`).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, ValidationError, fields, pre_load, validate
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from ..catalogue.models import CheckItem, CheckItemVersion
from ..config import CATEGORY_CODES
from ..core.errors import NotFound, ValidationFailed
from ..core.fields import WholeNumber, flat_errors
from ..core.schemas import FilterQuerySchema
from ..core.models import Department
from ..core.timeutil import to_local
from ..directory.models import Employer
from ..extensions import db
from ..fieldwork.models import RESULT_LABELS, Visit, VisitStatus, VisitTask
from ..fieldwork.results import enabled_codes
from ..fieldwork.visits import task_links
from ..planning.models import Task, TaskItem
from .followup.public import follow_links, link_columns
from .handling.public import as_json as handling_json
from .handling.public import published_handling
from .models import Decision, Determination, Objection, ObjectionStatus, Publication
from .schemas import KEY, ObjectionInSchema

PER_PAGE = 20
MAX_PAGE = 100_000


# --- input ------------------------------------------------------------------------------------

class ResultsQuerySchema(FilterQuerySchema):
    """The query of the results page (HTML and JSON alike). Empty values mean "any"."""

    q = fields.String(load_default=None, validate=validate.Length(
        max=100, error=_l("At most %(n)d characters.", n=100)))
    year = WholeNumber(load_default=None, validate=validate.Range(
        min=2000, max=2100, error=_l("A year between 2000 and 2100.")),
        error_messages={"invalid": _l("A year between 2000 and 2100.")})
    task = WholeNumber(load_default=None, validate=validate.Range(
        min=1, max=2**31 - 1, error=_l("Choose a task from the list.")),
        error_messages={"invalid": _l("Choose a task from the list.")})
    category = fields.String(load_default=None, validate=validate.OneOf(
        CATEGORY_CODES, error=_l("Choose a result category from the list.")))
    department = WholeNumber(load_default=None, validate=validate.Range(
        min=1, max=2**31 - 1, error=_l("Choose a department from the list.")),
        error_messages={"invalid": _l("Choose a department from the list.")})
    page = WholeNumber(load_default=1, validate=validate.Range(
        min=1, max=MAX_PAGE, error=_l("A page number from 1.")),
        error_messages={"invalid": _l("A page number from 1.")})



def load_query(args) -> dict[str, Any]:
    """The checked filters of the results page; :class:`ValidationFailed` (422) with field
    messages when a value is not valid."""
    try:
        return ResultsQuerySchema().load(args)
    except ValidationError as error:
        raise ValidationFailed(_("Some search values are not valid; see the fields."),
                               fields=flat_errors(error.messages)) from None


class PublicObjectionSchema(ObjectionInSchema):
    """An objection from the public result page: the visit comes from the address; the
    messages are the public's, in their language."""

    class Meta:
        unknown = EXCLUDE

    visit = fields.String(load_default=None)
    credit_code = fields.String(required=True, validate=validate.Length(
        equal=18, error=_l("The unified social credit code has 18 characters.")),
        error_messages={"required": _l("Required.")})
    contact = fields.String(required=True, validate=validate.Length(
        min=1, max=200, error=_l("Required, at most %(n)d characters.", n=200)),
        error_messages={"required": _l("Required.")})
    text = fields.String(required=True, validate=validate.Length(
        min=1, max=4000, error=_l("Required, at most %(n)d characters.", n=4000)),
        error_messages={"required": _l("Required.")})
    key = fields.String(load_default=None, allow_none=True, validate=KEY)

    @pre_load
    def _trim(self, data, **_kw):
        return {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}


def load_objection(form) -> dict[str, Any]:
    try:
        return PublicObjectionSchema().load(form)
    except ValidationError as error:
        raise ValidationFailed(_("Some values are not valid."),
                               fields=flat_errors(error.messages)) from None


# --- labels -----------------------------------------------------------------------------------

def category_choices() -> list[tuple[str, str]]:
    """(code, label) of the bureau's categories, in the order of the seed."""
    return [(code, RESULT_LABELS[code]) for code in enabled_codes()]


def objection_outcome_labels() -> dict[str, str]:
    return {ObjectionStatus.UPHELD.value: _("Reviewed: the result stands"),
            ObjectionStatus.CORRECTED.value: _("Reviewed: the result was found wrong and "
                                               "is corrected")}


# --- queries ----------------------------------------------------------------------------------

def _local_date(value) -> date | None:
    local = to_local(value)
    return local.date() if local else None


def _lead_department():
    """The lead department of the visit's first task (correlated to :class:`Visit`)."""
    return (select(Task.lead_department_id).join(VisitTask, VisitTask.task_id == Task.id)
            .where(VisitTask.visit_id == Visit.id).order_by(VisitTask.id).limit(1)
            .correlate(Visit).scalar_subquery())


def _published():
    """The published results: one row per visit, its current approved determination, the
    one that determination corrects (if any), the employer and the publication."""
    original = aliased(Determination)
    return (select(Visit.id, Visit.number, Visit.year, Employer.credit_code,
                   Employer.name.label("employer"), Determination.result_category,
                   Determination.decided_at, Publication.published_at,
                   Publication.period_end, original.result_category.label("original_category"),
                   original.decided_at.label("original_decided_at"), *link_columns())
            .join(Employer, Employer.id == Visit.employer_id)
            .join(Publication, and_(Publication.visit_id == Visit.id,
                                    Publication.status == "published"))
            .join(Determination, and_(Determination.visit_id == Visit.id,
                                      Determination.status == Decision.APPROVED.value,
                                      Determination.superseded_at.is_(None)))
            .outerjoin(original, original.id == Determination.corrects_id)
            .where(Visit.status == VisitStatus.PUBLISHED.value))


def _filtered(filters: dict[str, Any]):
    query = _published()
    q = filters.get("q")
    if q:
        query = query.where(Employer.name.icontains(q, autoescape=True)
                            | (Employer.credit_code == q.upper()))
    if filters.get("year"):
        query = query.where(Visit.year == filters["year"])
    if filters.get("task"):
        query = query.where(select(VisitTask.id).where(
            VisitTask.visit_id == Visit.id, VisitTask.task_id == filters["task"])
            .correlate(Visit).exists())
    if filters.get("category"):
        query = query.where(Determination.result_category == filters["category"])
    if filters.get("department"):
        query = query.where(_lead_department() == filters["department"])
    return query


def _details(ids: list[int]) -> tuple[dict, dict, dict]:
    """Tasks (with the lead department), items and decided objections of the visits ``ids``:
    one statement each."""
    tasks: dict[int, list[dict]] = {i: [] for i in ids}
    items: dict[int, list[dict]] = {i: [] for i in ids}
    objections: dict[int, list[dict]] = {i: [] for i in ids}
    if not ids:
        return tasks, items, objections
    # A rectification follow-up serves the tasks of the visit it follows (it was not drawn:
    # fieldwork.visits.task_links).
    links = task_links(ids)
    for visit_id, task_id, name, dept_id, dept_name in db.session.execute(
            select(links.c.visit_id, Task.id, Task.name, Task.lead_department_id,
                   Department.name)
            .join(VisitTask, VisitTask.visit_id == links.c.link_id)
            .join(Task, Task.id == VisitTask.task_id)
            .join(Department, Department.id == Task.lead_department_id)
            .order_by(links.c.visit_id, VisitTask.id)):
        tasks[visit_id].append({"id": task_id, "name": name,
                                "department": {"id": dept_id, "name": dept_name}})
    seen: dict[int, set[str]] = {i: set() for i in ids}
    for visit_id, code, name, name_en in db.session.execute(
            select(links.c.visit_id, CheckItem.code, CheckItemVersion.name,
                   CheckItemVersion.name_en)
            .join(VisitTask, VisitTask.visit_id == links.c.link_id)
            .join(TaskItem, TaskItem.task_id == VisitTask.task_id)
            .join(CheckItemVersion, CheckItemVersion.id == TaskItem.item_version_id)
            .join(CheckItem, CheckItem.id == CheckItemVersion.item_id)
            .order_by(links.c.visit_id, VisitTask.id, TaskItem.id)):
        if code not in seen[visit_id]:
            seen[visit_id].add(code)
            items[visit_id].append({"code": code, "name": name, "name_en": name_en or ""})
    labels = objection_outcome_labels()
    for visit_id, status, outcome, decided_at in db.session.execute(
            select(Objection.visit_id, Objection.status, Objection.outcome,
                   Objection.decided_at)
            .where(Objection.visit_id.in_(ids),
                   Objection.status != ObjectionStatus.OPEN.value,
                   Objection.decided_at.is_not(None))
            .order_by(Objection.visit_id, Objection.decided_at, Objection.id)):
        objections[visit_id].append({"reviewed_on": _local_date(decided_at), "status": status,
                                     "status_label": labels.get(status, status),
                                     "outcome": outcome})
    return tasks, items, objections


def _rows(found) -> list[dict[str, Any]]:
    found = list(found)
    tasks, items, objections = _details([r.id for r in found])
    handling = published_handling([r.id for r in found])
    rows = []
    for r in found:
        visit_tasks = tasks[r.id]
        lead = visit_tasks[0]["department"] if visit_tasks else None
        corrected = None
        if r.original_category is not None:
            corrected = {"on": _local_date(r.decided_at),
                         "original_category": r.original_category,
                         "original_label": RESULT_LABELS.get(r.original_category,
                                                             r.original_category)}
        rows.append({
            "visit": r.number, "year": r.year, "credit_code": r.credit_code,
            "employer": r.employer,
            "tasks": [{"id": t["id"], "name": t["name"]} for t in visit_tasks],
            "items": items[r.id],
            "result_category": r.result_category,
            "result_label": RESULT_LABELS.get(r.result_category, r.result_category),
            "determined_on": _local_date(r.decided_at),
            "published_on": _local_date(r.published_at),
            "period_end": r.period_end,
            "department": lead,
            "corrected": corrected,
            "objections": objections[r.id],
            "handling": handling[r.id],
            "follow_up": follow_links(r),
        })
    return rows


def search(filters: dict[str, Any], page: int = 1, per_page: int | None = None
           ) -> dict[str, Any]:
    """One page of published results, newest publication first: ``{"results", "page",
    "pages", "total", "per_page"}``."""
    per_page = per_page or PER_PAGE
    query = _filtered(filters)
    total = db.session.scalar(select(func.count()).select_from(
        query.with_only_columns(Visit.id).subquery()))
    pages = max(1, -(-total // per_page))
    found = db.session.execute(query.order_by(Publication.published_at.desc(), Visit.id.desc())
                               .limit(per_page).offset((page - 1) * per_page)).all()
    return {"results": _rows(found), "page": page, "pages": pages, "total": total,
            "per_page": per_page}


def _one(number: str):
    return db.session.execute(_published().where(Visit.number == (number or "").strip())
                              ).first()


def result(number: str) -> dict[str, Any]:
    """One published result with its history (the original and each correction; the
    outcome of each reviewed objection). :class:`NotFound` when the visit does not exist or
    its result is not published."""
    found = _one(number)
    if found is None:
        raise NotFound(_("No published result has this number."))
    row = _rows([found])[0]
    history = db.session.execute(
        select(Determination.result_category, Determination.decided_at,
               Determination.superseded_at, Determination.corrects_id)
        .where(Determination.visit_id == found.id,
               Determination.status == Decision.APPROVED.value)
        .order_by(Determination.id)).all()
    row["history"] = [{"result_category": h.result_category,
                       "result_label": RESULT_LABELS.get(h.result_category, h.result_category),
                       "decided_on": _local_date(h.decided_at),
                       "corrected_on": _local_date(h.superseded_at),
                       "is_correction": h.corrects_id is not None,
                       "current": h.superseded_at is None} for h in history]
    return row


def objections_open(row: dict[str, Any], today: date) -> bool:
    """Whether objections are taken from the public page: during the publication period."""
    return row.get("period_end") is None or today <= row["period_end"]


def filter_choices() -> dict[str, Any]:
    """The choices of the filter form: years, tasks and lead departments that have published
    results, and the bureau's categories (three statements)."""
    published = select(Visit.id).where(Visit.status == VisitStatus.PUBLISHED.value)
    years = db.session.scalars(select(Visit.year).where(
        Visit.status == VisitStatus.PUBLISHED.value).distinct().order_by(Visit.year.desc())
    ).all()
    tasks = db.session.execute(
        select(Task.id, Task.name, Task.lead_department_id, Department.name.label("dept"))
        .join(Department, Department.id == Task.lead_department_id)
        .where(select(VisitTask.id).where(VisitTask.task_id == Task.id,
                                          VisitTask.visit_id.in_(published))
               .correlate(Task).exists())
        .order_by(Task.id.desc())).all()
    departments = sorted({(t.lead_department_id, t.dept) for t in tasks}, key=lambda d: d[1])
    return {"years": [(y, str(y)) for y in years], "tasks": [(t.id, t.name) for t in tasks],
            "departments": departments, "categories": category_choices()}


def published_result(visit: Visit) -> dict[str, Any] | None:
    """The bureau's published result of ``visit`` for the QR check of its sealed record, or
    None while it is not published: ``{"result_category", "result_label", "corrected",
    "url"}``."""
    if visit.status != VisitStatus.PUBLISHED.value:
        return None
    found = db.session.execute(_published().where(Visit.id == visit.id)).first()
    if found is None:
        return None
    corrected = None
    if found.original_category is not None:
        corrected = {"on": _local_date(found.decided_at),
                     "original_category": found.original_category,
                     "original_label": RESULT_LABELS.get(found.original_category,
                                                         found.original_category)}
    return {"result_category": found.result_category,
            "result_label": RESULT_LABELS.get(found.result_category, found.result_category),
            "published_on": _local_date(found.published_at), "corrected": corrected,
            "url": url_for("public_results.show", number=found.number)}


# --- JSON -------------------------------------------------------------------------------------

def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def as_json(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the JSON of ``/public/results.json`` (codes and labels, ISO dates)."""
    corrected = row["corrected"]
    return {
        "visit": row["visit"], "year": row["year"],
        "credit_code": row["credit_code"], "employer": row["employer"],
        "tasks": row["tasks"],
        "items": [{"code": i["code"], "name": i["name"], "name_en": i["name_en"]}
                  for i in row["items"]],
        "result_category": row["result_category"], "result_label": row["result_label"],
        "determined_on": _iso(row["determined_on"]), "published_on": _iso(row["published_on"]),
        "department": row["department"],
        "corrected": None if corrected is None else {
            "on": _iso(corrected["on"]), "original_category": corrected["original_category"],
            "original_label": corrected["original_label"]},
        "objections": [{"reviewed_on": _iso(o["reviewed_on"]), "status": o["status"],
                        "status_label": o["status_label"], "outcome": o["outcome"]}
                       for o in row["objections"]],
        "handling": handling_json(row.get("handling") or []),
        "follow_up": row.get("follow_up"),
        "url": url_for("public_results.show", number=row["visit"], _external=True),
    }
