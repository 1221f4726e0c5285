"""The public results pages (公示): no account. Thin: :mod:`.public` reads, and
:func:`.operations.submit_objection` takes an objection.

    GET  /public/results                     the results page (search, filters, pages)
    GET  /public/results.json                the same, machine-readable
    GET  /public/results/<number>            one result with its history (+ objection form)
    POST /public/results/<number>/objection  an objection during the publication period

The objection form is a Flask-WTF form: CSRF applies to these public routes as to every
other (the global CSRFProtect); its input is checked by
:class:`.public.PublicObjectionSchema`. A hidden random key makes a double submit answer the
first receipt; the operation counts submissions per client address (behind the trusted
proxies ``request.remote_addr`` is the client's, see ``core/security.py``).
"""
from __future__ import annotations

import json
import secrets

from flask import Blueprint, Response, flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField

from ..core.access import public
from ..core.errors import DomainError, TooManyAttempts, ValidationFailed
from ..core.forms import show_errors
from . import operations as ops
from . import public as reader

bp = Blueprint("public_results", __name__, url_prefix="/public")


class ObjectionForm(FlaskForm):
    """Rendering and CSRF only: the values are checked by the marshmallow schema."""

    credit_code = StringField(
        _l("Unified social credit code of the employer"),
        description=_l("The 18 characters of the code, as on the business licence."),
        render_kw={"maxlength": 18, "autocomplete": "off", "autocapitalize": "characters",
                   "spellcheck": "false", "required": True})
    contact = StringField(
        _l("How to reach you"),
        description=_l("A name and a phone number or e-mail address for the review. It is "
                       "not published."),
        render_kw={"maxlength": 200, "required": True})
    text = TextAreaField(
        _l("Your objection"),
        description=_l("What is wrong with the result, and why. It is not published."),
        render_kw={"rows": 6, "maxlength": 4000, "required": True})
    key = HiddenField()


def _new_key() -> str:
    return secrets.token_urlsafe(24)


def _json(body: dict, status: int = 200) -> Response:
    """JSON as UTF-8 text (Chinese readable as is, not as \\u escapes)."""
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n",
                    status=status, mimetype="application/json")


def _json_error(error: ValidationFailed) -> Response:
    return _json({"error": {"code": error.code, "status": error.status,
                            "message": error.message, "fields": error.fields}}, error.status)


@bp.get("/results")
@public
def results():
    """The published results: search by employer name or credit code, filters, pages."""
    status, errors, page = 200, {}, None
    try:
        filters = reader.load_query(request.args)
    except ValidationFailed as error:
        status, errors = error.status, error.fields
        flash(error.message, "error")
    else:
        page = reader.search(filters, filters["page"])
    return render_template("public/results.html", page=page, errors=errors,
                           args=request.args, choices=reader.filter_choices(),
                           facts=reader.fact_labels()), status


@bp.get("/results.json")
@public
def results_json():
    """The same as the results page, as JSON: ``{"results", "page", "pages", "total",
    "total_exact", "per_page"}`` (``total_exact`` false: there are more than ``total``, and
    more pages than ``pages``); a value that is not valid answers 422 with the fields."""
    try:
        filters = reader.load_query(request.args)
    except ValidationFailed as error:
        return _json_error(error)
    page = reader.search(filters, filters["page"])
    return _json({"results": [reader.as_json(r) for r in page["results"]],
                  "page": page["page"], "pages": page["pages"], "total": page["total"],
                  "total_exact": page["total_exact"], "per_page": page["per_page"]})


def _page(row, form, status: int = 200, headers=None):
    open_ = reader.objections_open(row, ops.today())
    return render_template("public/result.html", row=row, form=form if open_ else None,
                           objections_open=open_, facts=reader.fact_labels()), status, \
        headers or {}


@bp.get("/results/<number>")
@public
def show(number: str):
    """One published result with its history; during the publication period, the form to
    object."""
    row = reader.result(number)
    return _page(row, ObjectionForm(formdata=None, key=_new_key()))


@bp.post("/results/<number>/objection")
@public
def objection(number: str):
    """An objection from the public page: the receipt, or the form again with what is
    wrong (nothing is stored then)."""
    row = reader.result(number)
    form = ObjectionForm()
    if not form.key.data:
        form.key.data = _new_key()
    if not reader.objections_open(row, ops.today()):
        flash(_("The publication period ended on %(day)s; objections are no longer taken "
                "here.", day=row["period_end"].isoformat()), "error")
        return _page(row, None, 409)
    try:
        values = reader.load_objection(request.form)
        taken = ops.submit_objection(number, values["credit_code"], values["contact"],
                                     values["text"], source="public",
                                     client_address=request.remote_addr,
                                     request_key=values["key"])
    except TooManyAttempts as error:
        show_errors(form, error)
        return _page(row, None, 429,
                     {"Retry-After": str(getattr(error, "retry_after", 3600) or 3600)})
    except DomainError as error:
        show_errors(form, error)
        return _page(row, form, error.status)
    return render_template("public/objection_receipt.html", row=row, objection=taken)
