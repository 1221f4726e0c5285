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
from sqlalchemy import (String, TextClause, and_, bindparam, column, func, literal_column,
                        select, text, true)
from sqlalchemy.engine.interfaces import BindTyping
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
from ..fieldwork.results import enabled_codes, shown_label
from ..fieldwork.visits import task_links
from ..planning.models import Task, TaskItem
from .followup.public import follow_links
from .handling.public import as_json as handling_json
from .handling.public import published_handling
from . import search_index
from .models import (Decision, Determination, Objection, ObjectionStatus, Publication,
                     PublicNameGram)
from .schemas import KEY, ObjectionInSchema

PER_PAGE = 20
MAX_PAGE = 100_000
#: A search counts its results this many pages beyond the one shown, no further (an exact
#: count of a common name would read every published result on every request).
COUNT_PAGES = 5


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



#: One instance for every request (a schema keeps no state between loads; making one
#: copies its fields, which costs more than the rest of reading the query).
_QUERY_SCHEMA = ResultsQuerySchema()


def load_query(args) -> dict[str, Any]:
    """The checked filters of the results page; :class:`ValidationFailed` (422) with field
    messages when a value is not valid."""
    try:
        return _QUERY_SCHEMA.load(args)
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
    """(code, label) of the bureau's categories, in the order of the seed, in the page's
    language (the legal wording in Chinese)."""
    return [(code, shown_label(code)) for code in enabled_codes()]


def fact_labels() -> dict[str, Any]:
    """The labels of a result's facts (``templates/public/_facts.html``) in the request's
    language: once per page rather than once per row."""
    from ..core.i18n import current_language

    return {"credit_code": _("Unified social credit code"), "category": _("Result category"),
            "task": _("Task"), "checked": _("Items checked"), "determined": _("Determined on"),
            "published": _("Publication date"), "department": _("Lead department"),
            "objection": _("Objection"), "en": current_language() == "en"}


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


def _link_columns() -> tuple:
    """:func:`.followup.public.link_columns`, with SQLite told to find a visit's follow-up
    by the index of ``visit.follows_id``: that column is empty for nearly every visit, so
    its statistics say the index narrows nothing, and SQLite would rather walk every visit
    (for each row of the page) than look the visit's id up in it."""
    published = VisitStatus.PUBLISHED.value
    earlier, later = aliased(Visit), aliased(Visit)
    return (select(earlier.number).where(earlier.id == Visit.follows_id,
                                         earlier.status == published)
            .correlate(Visit).scalar_subquery().label("follows_number"),
            _FOLLOWED_BY_SQLITE.label("followed_by_number")
            if db.engine.dialect.name == "sqlite" else
            select(func.min(later.number)).where(later.follows_id == Visit.id,
                                                 later.status == published)
            .correlate(Visit).scalar_subquery().label("followed_by_number"))


#: The published follow-up of ``visit`` (the query's visit table), by the index (SQLite).
_FOLLOWED_BY_SQLITE = literal_column(
    "(SELECT min(later.number) FROM visit AS later INDEXED BY ix_visit_follows_id "
    f"WHERE later.follows_id = visit.id AND later.status = '{VisitStatus.PUBLISHED.value}')",
    String)


def _published(gram: str | None = None):
    """The published results: one row per visit, its current approved determination, the
    one that determination corrects (if any), the employer and the publication. With
    ``gram``: only the results whose employer's name has that bigram, read from the search
    index (:mod:`.search_index`) in the order of the page."""
    original = aliased(Determination)
    query = select(Visit.id, Visit.number, Visit.year, Employer.credit_code,
                   Employer.name.label("employer"), Determination.result_category,
                   Determination.decided_at, Publication.published_at,
                   Publication.period_end, original.result_category.label("original_category"),
                   original.decided_at.label("original_decided_at"), *_link_columns())
    if gram is not None:
        query = (query.select_from(PublicNameGram)
                 .join(Visit, Visit.id == PublicNameGram.visit_id)
                 .where(PublicNameGram.gram == gram))
    return (query
            .join(Employer, Employer.id == Visit.employer_id)
            .join(Publication, and_(Publication.visit_id == Visit.id,
                                    Publication.status == "published"))
            .join(Determination, and_(Determination.visit_id == Visit.id,
                                      Determination.status == Decision.APPROVED.value,
                                      Determination.superseded_at.is_(None)))
            .outerjoin(original, original.id == Determination.corrects_id)
            .where(Visit.status == VisitStatus.PUBLISHED.value))


def _could_be_code(q: str) -> bool:
    """Whether ``q`` may be a unified social credit code (18 letters and digits)."""
    return len(q) == 18 and q.isascii() and q.isalnum()


def _pattern(q: str) -> str:
    """``q`` as a ``LIKE ... ESCAPE '/'`` pattern for "contains" (its wildcards literal)."""
    return "%" + q.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


#: The filters other than the name, each with its condition on a bound value.
_CONDITIONS = {
    "year": lambda: Visit.year == bindparam("year"),
    "task": lambda: select(VisitTask.id).where(
        VisitTask.visit_id == Visit.id, VisitTask.task_id == bindparam("task"))
    .correlate(Visit).exists(),
    "category": lambda: Determination.result_category == bindparam("category"),
    "department": lambda: _lead_department() == bindparam("department"),
}


def _matching(way: str, present: tuple[str, ...]):
    """The query of the results matching the filters ``present`` (their values bound:
    ``gram``, ``pattern``, ``code``, ``year`` ...), its order (newest publication first) and
    its visit id column. ``way``: ``gram`` reads the search index (a name query of two
    characters or more: the rows of its most selective bigram in the page's order, each
    checked against the whole query), ``gram_or_code`` the same and the results of the
    employer whose credit code the query may be, ``scan`` every published result (no name
    query, or one character)."""
    name = Employer.name.ilike(bindparam("pattern"), escape="/")
    gram = PublicNameGram
    if way == "gram" and db.engine.dialect.name == "postgresql":
        # PostgreSQL underestimates how many of a bigram's rows pass the checks, and would
        # join them all to sort them; a lateral subquery (kept apart by its OFFSET) makes it
        # walk the index in the page's order and stop when the page is full.
        query = _published().where(Visit.id == gram.visit_id, name)
    elif way == "gram":
        query = _published(bindparam("gram")).where(name)
    else:
        query = _published()
        code = Employer.credit_code == bindparam("code")
        if way == "gram_or_code":
            named = select(gram.visit_id).where(gram.gram == bindparam("gram"))
            coded = (select(Visit.id).join(Employer, Employer.id == Visit.employer_id)
                     .where(Employer.credit_code == bindparam("code")))
            query = query.where(Visit.id.in_(named.union(coded)), name | code)
        elif "q" in present:
            query = query.where(name | code)
    for key in present:
        if key in _CONDITIONS:
            query = query.where(_CONDITIONS[key]())
    if way != "gram":
        return query, (Publication.published_at.desc(), Visit.id.desc()), Visit.id
    order = (gram.published_at.desc(), gram.visit_id.desc())
    if db.engine.dialect.name != "postgresql":
        return query, order, Visit.id
    found = query.correlate(gram).offset(0).lateral("found")
    return (select(*found.c).select_from(gram).join(found, true())
            .where(gram.gram == bindparam("gram")), order, found.c.id)


#: Per database kind and use (the search's way and filters, the details ...): statements
#: compiled once (:func:`_prepared`).
_statements: dict[tuple, Any] = {}


def _prepared(query) -> TextClause:
    """``query`` compiled once for the database into a text statement (its constants bound,
    the rest left to bind): executing it then builds and keys no expression, which for a
    statement of this size costs more than the database takes to answer it."""
    dialect = type(db.engine.dialect)(paramstyle="named")
    # Values are bound as they come (no "::TYPE" cast after each, as the psycopg dialect
    # writes by default: a text statement would not read ":name::TYPE" as a value).
    dialect.bind_typing = BindTyping.NONE
    compiled = query.compile(dialect=dialect)
    sql, lists = compiled.string, []
    for name, bind in compiled.binds.items():
        if bind.expanding:                      # a list of values: IN :name
            sql = sql.replace(f"(__[POSTCOMPILE_{name}])", f":{name}")
            lists.append(bindparam(name, expanding=True))
    constants = {key: value for key, value in compiled.params.items()
                 if value is not None and not isinstance(value, list)}
    return (text(sql).bindparams(*lists).bindparams(**constants)
            .columns(*[column(c.key, c.type) for c in query.selected_columns]))


def _search_statements(way: str, present: tuple[str, ...]) -> tuple[TextClause, TextClause]:
    key = (db.engine.dialect.name, way, present)
    found = _statements.get(key)
    if found is None:
        query, order, visit_id = _matching(way, present)
        count = select(func.count().label("n")).select_from(
            query.with_only_columns(visit_id).limit(bindparam("cap")).subquery())
        page = query.order_by(*order).limit(bindparam("size")).offset(bindparam("skip"))
        found = _statements[key] = (_prepared(count), _prepared(page))
    return found


def _detail_statements() -> tuple[TextClause, TextClause]:
    """The statements of :func:`_details` (:func:`_prepared`, once per database kind)."""
    key = (db.engine.dialect.name, "details")
    found = _statements.get(key)
    if found is None:
        ids = bindparam("ids", expanding=True)
        # A rectification follow-up serves the tasks of the visit it follows (it was not
        # drawn: fieldwork.visits.task_links). Each task with its items, in their order.
        links = task_links(ids)
        tasks = (select(links.c.visit_id, VisitTask.id.label("link"), Task.id, Task.name,
                        Task.lead_department_id, Department.name.label("dept"),
                        CheckItem.code, CheckItemVersion.name.label("item"),
                        CheckItemVersion.name_en)
                 .join(VisitTask, VisitTask.visit_id == links.c.link_id)
                 .join(Task, Task.id == VisitTask.task_id)
                 .join(Department, Department.id == Task.lead_department_id)
                 .outerjoin(TaskItem, TaskItem.task_id == VisitTask.task_id)
                 .outerjoin(CheckItemVersion, CheckItemVersion.id == TaskItem.item_version_id)
                 .outerjoin(CheckItem, CheckItem.id == CheckItemVersion.item_id)
                 .order_by(links.c.visit_id, VisitTask.id, TaskItem.id))
        objections = (select(Objection.visit_id, Objection.status, Objection.outcome,
                             Objection.decided_at)
                      .where(Objection.visit_id.in_(ids),
                             Objection.status != ObjectionStatus.OPEN.value,
                             Objection.decided_at.is_not(None))
                      .order_by(Objection.visit_id, Objection.decided_at, Objection.id))
        found = _statements[key] = (_prepared(tasks), _prepared(objections))
    return found


def _details(ids: list[int]) -> tuple[dict, dict, dict]:
    """Tasks (with the lead department) and items, and decided objections of the visits
    ``ids``: one statement each."""
    tasks: dict[int, list[dict]] = {i: [] for i in ids}
    items: dict[int, list[dict]] = {i: [] for i in ids}
    objections: dict[int, list[dict]] = {i: [] for i in ids}
    if not ids:
        return tasks, items, objections
    with_items, decided = _detail_statements()
    links: set[tuple[int, int]] = set()
    seen: dict[int, set[str]] = {i: set() for i in ids}
    for row in db.session.connection().execute(with_items, {"ids": ids}):
        if (row.visit_id, row.link) not in links:
            links.add((row.visit_id, row.link))
            tasks[row.visit_id].append({"id": row.id, "name": row.name, "department": {
                "id": row.lead_department_id, "name": row.dept}})
        if row.code is not None and row.code not in seen[row.visit_id]:
            seen[row.visit_id].add(row.code)
            items[row.visit_id].append({"code": row.code, "name": row.item,
                                        "name_en": row.name_en or ""})
    labels = objection_outcome_labels()
    connection = db.session.connection()
    for visit_id, status, outcome, decided_at in connection.execute(decided, {"ids": ids}):
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
    "pages", "total", "total_exact", "per_page"}``. The count looks :data:`COUNT_PAGES`
    pages beyond the one asked for, no further: when there are more, ``total`` is that many
    and ``total_exact`` false ("more than"), and ``pages`` counts only those."""
    per_page = per_page or PER_PAGE
    q = filters.get("q")
    grams = search_index.grams(q) if q else []
    way = "scan" if not grams else "gram_or_code" if _could_be_code(q) else "gram"
    present = tuple(key for key in ("q", "year", "task", "category", "department")
                    if filters.get(key))
    values = {key: filters[key] for key in present if key != "q"}
    if q:
        values.update(pattern=_pattern(q), code=q.upper())
        if grams:
            values["gram"] = grams[0]
    count, rows = _search_statements(way, present)
    offset = (page - 1) * per_page
    cap = offset + COUNT_PAGES * per_page
    counted = db.session.connection().execute(count, dict(values, cap=cap + 1)).scalar_one()
    total = min(counted, cap)
    pages = max(1, -(-total // per_page))
    found = db.session.connection().execute(rows, dict(values, size=per_page, skip=offset)).all()
    return {"results": _rows(found), "page": page, "pages": pages, "total": total,
            "total_exact": counted <= cap, "per_page": per_page}


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


#: What changes when a result is published: the newest publication time and the last
#: publication made (a result once published stays published: it is corrected, never
#: withdrawn). Two scalar subqueries, each answered by its index alone.
_PUBLISHED_STAMP = text("SELECT (SELECT max(published_at) FROM publication), "
                        "(SELECT max(id) FROM publication)")
#: Per process: (database, stamp) -> (years, task ids) of the published results.
_choices: dict[tuple, tuple[list[int], list[int]]] = {}


def _task_names() -> TextClause:
    key = (db.engine.dialect.name, "task_names")
    if key not in _statements:
        _statements[key] = _prepared(
            select(Task.id, Task.name, Task.lead_department_id, Department.name.label("dept"))
            .join(Department, Department.id == Task.lead_department_id)
            .where(Task.id.in_(bindparam("ids", expanding=True))).order_by(Task.id.desc()))
    return _statements[key]


def filter_choices() -> dict[str, Any]:
    """The choices of the filter form: years, tasks and lead departments that have published
    results, and the bureau's categories. Which years and tasks have results is worked out
    again only when a result was published since (:data:`_PUBLISHED_STAMP`; the process
    keeps the last answer); the tasks' and departments' names are read each time (two
    statements)."""
    key = (str(db.engine.url), *db.session.connection().execute(_PUBLISHED_STAMP).one())
    found = _choices.get(key)
    if found is None:
        published = select(Visit.id).where(Visit.status == VisitStatus.PUBLISHED.value)
        years = list(db.session.scalars(select(Visit.year).where(
            Visit.status == VisitStatus.PUBLISHED.value).distinct()
            .order_by(Visit.year.desc())))
        task_ids = list(db.session.scalars(
            select(Task.id).where(select(VisitTask.id).where(
                VisitTask.task_id == Task.id, VisitTask.visit_id.in_(published))
                .correlate(Task).exists()).order_by(Task.id.desc())))
        _choices.clear()
        found = _choices[key] = (years, task_ids)
    years, task_ids = found
    tasks = db.session.connection().execute(_task_names(), {"ids": task_ids}).all() \
        if task_ids else []
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
