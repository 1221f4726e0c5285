"""The public portal (一公开): what anyone may read without an account. Thin: :mod:`.queries`
reads, :mod:`.schemas` checks the queries and writes the JSON.

    GET /public/                          home: the bureau, this year's plan, open and
                                          finished tasks, latest results and draws, search
    GET /public/catalogue[.json]          the item list as published (?publication= a past one)
    GET /public/catalogue/<code>[.json]   one item: every published version, legal bases
    GET /public/plans[.json]              the published annual plans
    GET /public/plans/<id>[.json]         one plan with the year's tasks
    GET /public/tasks[.json]              public tasks (?state=open|finished|cancelled, ?year=)
    GET /public/tasks/<id>[.json]         one task: items, departments, dates, method, draws
    GET /public/draws[.json]              every draw from its preparation (commitment hash)
    GET /public/results.csv               the published results as CSV (the results filters)

The results pages themselves (``/public/results``, its JSON, one result) are the review's
(:mod:`inspection.review.public_views`), the record of a draw is the draws'
(:mod:`inspection.draws.public_views`). Every list has pages (``?page=``, 422 when not a whole
number from 1). A page for a visitor who is not signed in is made without anything of theirs
(no session, no CSRF token: ``g.shared_page``), so the portal sets no cookie but the language.
"""
from __future__ import annotations

import csv
import io
import json
from typing import Any, Callable

from flask import Blueprint, Response, abort, g, render_template, request, url_for
from flask_babel import gettext as _

from ..catalogue.forms import KIND_LABELS, METHOD_LABELS
from ..core import caching
from ..core.access import public
from ..core.errors import ValidationFailed
from ..core.fields import load
from ..directory.employers.labels import FLAGS as FLAG_LABELS
from ..directory.employers.labels import GRADES as GRADE_LABELS
from ..directory.employers.labels import pick
from ..directory.reference import EMPLOYER_TYPES, INDUSTRIES
from ..planning.forms import GRADES, TASK_STATUS_LABELS, TYPE_LABELS
from ..planning.rules import percent
from . import queries, schemas

bp = Blueprint("portal", __name__, url_prefix="/public")

#: Rows the home page shows of each list.
HOME_ROWS = 5
#: Rows per page of the CSV of results.
CSV_ROWS = 1000


@bp.before_request
def _shared():
    """A visitor who is not signed in gets the page made for everyone: no session, hence no
    cookie but the language and no CSRF token (the portal has no form that posts but the
    language switch, which asks no token of them)."""
    if caching.shared():
        g.shared_page = True


@bp.context_processor
def _labels():
    return {"method_labels": METHOD_LABELS, "kind_labels": KIND_LABELS,
            "task_status_labels": TASK_STATUS_LABELS, "type_labels": TYPE_LABELS,
            "percent": percent, "grades": GRADES, "filter_label": _filter_label,
            "type_label": lambda code: pick(EMPLOYER_TYPES, code),
            "state_labels": _state_labels(), "draw_labels": _draw_labels()}


def _state_labels() -> dict[str, str]:
    return {"open": _("Under way"), "finished": _("Finished"), "cancelled": _("Cancelled")}


def _draw_labels() -> dict[str, str]:
    return {"target": _("Employers"), "team": _("Inspectors"), "prepared": _("Committed"),
            "executed": _("Executed"), "cancelled": _("Cancelled")}


_FLAG_KEYS = {"complaints": "flag_complaints", "abnormal": "flag_abnormal",
              "serious_violation": "flag_serious_violation"}


def _filter_label(key: str, code: str, regions: dict[str, str]) -> str:
    if key == "regions":
        return regions.get(code, code)
    if key == "industries":
        return f"{code} {pick(INDUSTRIES, code)}"
    if key == "employer_types":
        return pick(EMPLOYER_TYPES, code)
    if key == "grades":
        return pick(GRADE_LABELS, code)
    if key == "flags":
        return pick(FLAG_LABELS, _FLAG_KEYS.get(code, code))
    return code


# --- answers ----------------------------------------------------------------------------------

def _json(body: Any, status: int = 200) -> Response:
    """JSON as UTF-8 text (Chinese readable as is), like ``/public/results.json``."""
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
                    + "\n", status=status, mimetype="application/json")


def _json_error(error: ValidationFailed) -> Response:
    return _json({"error": {"code": error.code, "status": error.status,
                            "message": error.message, "fields": error.fields}}, error.status)


def _query(schema) -> dict[str, Any]:
    return load(schema, request.args.to_dict())


def _list(template: str, schema, read: Callable[[dict], Any], **context):
    """A list page: its query checked (422 with the fields on the page), then read."""
    try:
        args = _query(schema)
    except ValidationFailed as error:
        return render_template(template, page=None, errors=error.fields, args=request.args,
                               message=error.message, **context), error.status
    return render_template(template, page=read(args), errors={}, args=request.args,
                           **context)


def _list_json(schema, read: Callable[[dict], Any], dump: Callable[[Any], dict]) -> Response:
    try:
        args = _query(schema)
    except ValidationFailed as error:
        return _json_error(error)
    return _json(dump(read(args)))


# --- home -------------------------------------------------------------------------------------

@bp.get("/")
@public
def home():
    """The front door: the bureau, this year's plan, open and finished tasks, the latest
    results and draws, and the search of the results."""
    from ..review import public as results

    year = queries.today().year
    return render_template(
        "portal/home.html", plan=queries.plan_of_year(year), year=year,
        open_tasks=queries.tasks(1, state="open", per_page=HOME_ROWS),
        finished_tasks=queries.tasks(1, state="finished", per_page=HOME_ROWS),
        results=results.search({}, 1, per_page=HOME_ROWS),
        draws=queries.draws(1, per_page=HOME_ROWS),
        publication=next(iter(queries.publications()), None))


# --- catalogue --------------------------------------------------------------------------------

def _catalogue(args):
    found = queries.catalogue(args["page"], args.get("publication"))
    if found is None and args.get("publication"):
        abort(404)
    return found


@bp.get("/catalogue")
@public
def catalogue():
    """The catalogue of check items as published: the list in force, or a past one."""
    return _list("portal/catalogue.html", schemas.CatalogueQuerySchema(), _catalogue)


@bp.get("/catalogue.json")
@public
def catalogue_json():
    def dump(page):
        if page is None:
            return {"publication": None, "items": [], "publications": [], "page": 1,
                    "pages": 1, "total": 0, "per_page": queries.PER_PAGE}
        return schemas.catalogue_json(page)
    return _list_json(schemas.CatalogueQuerySchema(), _catalogue, dump)


def _item(key: str) -> dict[str, Any]:
    found = queries.catalogue_item(key)
    if found is None:
        abort(404)
    return found


@bp.get("/catalogue/<key>.json")
@public
def catalogue_item_json(key: str):
    return _json(schemas.item_json(_item(key)))


@bp.get("/catalogue/<key>")
@public
def catalogue_item(key: str):
    """One item: every version a publication made public, with its legal basis."""
    return render_template("portal/item.html", found=_item(key))


# --- plans ------------------------------------------------------------------------------------

@bp.get("/plans")
@public
def plans():
    return _list("portal/plans.html", schemas.PageQuerySchema(),
                 lambda args: queries.plans(args["page"]))


@bp.get("/plans.json")
@public
def plans_json():
    return _list_json(schemas.PageQuerySchema(), lambda args: queries.plans(args["page"]),
                      schemas.plans_json)


def _plan(plan_id: int):
    plan = queries.plan(plan_id)
    if plan is None:
        abort(404)
    return plan


@bp.get("/plans/<int:plan_id>")
@public
def plan(plan_id: int):
    """One published plan, with the year's tasks (in pages)."""
    found = _plan(plan_id)
    return _list("portal/plan.html", schemas.PageQuerySchema(),
                 lambda args: queries.tasks(args["page"], year=found.year), plan=found)


@bp.get("/plans/<int:plan_id>.json")
@public
def plan_json(plan_id: int):
    found = _plan(plan_id)
    return _list_json(schemas.PageQuerySchema(),
                      lambda args: queries.tasks(args["page"], year=found.year),
                      lambda page: schemas.plan_json(found, page))


# --- tasks ------------------------------------------------------------------------------------

def _tasks(args):
    return queries.tasks(args["page"], state=args.get("state"), year=args.get("year"))


@bp.get("/tasks")
@public
def tasks():
    return _list("portal/tasks.html", schemas.TaskQuerySchema(), _tasks,
                 years=queries.task_years())


@bp.get("/tasks.json")
@public
def tasks_json():
    return _list_json(schemas.TaskQuerySchema(), _tasks, schemas.tasks_json)


def _task(task_id: int) -> dict[str, Any]:
    found = queries.task(task_id)
    if found is None:
        abort(404)
    return found


@bp.get("/tasks/<int:task_id>")
@public
def task(task_id: int):
    """One task: items, departments, dates, method and notice, and its draws."""
    return render_template("portal/task.html", found=_task(task_id))


@bp.get("/tasks/<int:task_id>.json")
@public
def task_json(task_id: int):
    return _json(schemas.task_json(_task(task_id)))


# --- draws ------------------------------------------------------------------------------------

def _draws(args):
    return queries.draws(args["page"], kind=args.get("kind"), status=args.get("status"),
                         task_id=args.get("task"), year=args.get("year"))


@bp.get("/draws")
@public
def draws():
    """Every draw from the moment it is prepared: its commitment is public from then on."""
    return _list("portal/draws.html", schemas.DrawQuerySchema(), _draws,
                 counts=queries.draw_counts())


@bp.get("/draws.json")
@public
def draws_json():
    return _list_json(schemas.DrawQuerySchema(), _draws, schemas.draws_json)


# --- results as CSV ---------------------------------------------------------------------------

#: The columns of the CSV of results (English keys, as in the JSON).
CSV_COLUMNS = ("visit", "year", "credit_code", "employer", "tasks", "items", "result_category",
               "result_label", "determined_on", "published_on", "department", "corrected_on",
               "original_category", "objections", "url")


def _csv_row(row: dict[str, Any]) -> list[Any]:
    corrected = row["corrected"]
    return [row["visit"], row["year"], row["credit_code"], row["employer"],
            "；".join(t["name"] for t in row["tasks"]),
            "；".join(f'{i["code"]} {i["name"]}' for i in row["items"]),
            row["result_category"], row["result_label"],
            row["determined_on"].isoformat() if row["determined_on"] else "",
            row["published_on"].isoformat() if row["published_on"] else "",
            row["department"]["name"] if row["department"] else "",
            corrected["on"].isoformat() if corrected and corrected["on"] else "",
            corrected["original_category"] if corrected else "",
            "；".join(f'{o["reviewed_on"].isoformat() if o["reviewed_on"] else ""} '
                     f'{o["status_label"]}' for o in row["objections"]),
            url_for("public_results.show", number=row["visit"], _external=True)]


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) is kept
    as text by a leading apostrophe (OWASP "CSV injection")."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@bp.get("/results.csv")
@public
def results_csv():
    """The published results as CSV, with the filters of the results page, 1,000 rows a
    page (``Link: <...>; rel="next"`` names the next). UTF-8 with a byte order mark, which
    Excel needs to read it as UTF-8."""
    from ..review import public as results

    try:
        filters = results.load_query(request.args)
    except ValidationFailed as error:
        return _json_error(error)
    page = results.search(filters, filters["page"], per_page=CSV_ROWS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in page["results"]:
        writer.writerow([_cell(v) for v in _csv_row(row)])
    headers = {"Content-Disposition": 'attachment; filename="results.csv"'}
    if page["total_exact"]:         # else more than counted (review.public.search)
        headers["X-Total-Count"] = str(page["total"])
    if page["page"] < page["pages"]:
        query = {**request.args.to_dict(), "page": page["page"] + 1}
        headers["Link"] = f'<{url_for("portal.results_csv", _external=True, **query)}>; ' \
                          'rel="next"'
    return Response("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8",
                    headers=headers)
