"""Office pages of the catalogue: list, detail with version history, old versions, create,
edit (a new version), retire / reinstate, publish. Thin: the work is in :mod:`.operations`."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..core.access import OFFICE_READERS, roles
from ..core.errors import DomainError
from ..core.forms import show_errors
from ..core.models import Department, Role, User
from ..core.ratios import from_percent
from ..directory.reference import EMPLOYER_TYPES
from ..extensions import db
from . import operations as ops
from .forms import (EXTRA_ROWS, KIND_LABELS, METHOD_LABELS, STATUS_LABELS, FilterForm, ItemForm,
                    PublishForm, ReinstateForm, RetireForm)
from .models import CheckItemVersion, ItemStatus

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")

EDITORS = (Role.ADMIN, Role.OFFICE)
PUBLISHERS = (Role.ADMIN, Role.APPROVER)


@bp.context_processor
def _labels():
    return {"method_labels": METHOD_LABELS, "kind_labels": KIND_LABELS,
            "status_labels": STATUS_LABELS, "type_label": _type_label,
            "percent": ops.percent}


def _zh() -> bool:
    return str(get_locale() or "zh_CN").startswith("zh")


def _type_label(code: str) -> str:
    for row_code, zh, en in EMPLOYER_TYPES:
        if row_code == code:
            return zh if _zh() else en
    return code


def _department_choices(current_id: int | None = None):
    rows = db.session.scalars(select(Department).where(
        Department.active | (Department.id == (current_id or 0))).order_by(Department.code))
    return [(d.id, d.name) for d in rows]


# ----------------------------------------------------------------------------- reading
@bp.get("/")
@roles(*OFFICE_READERS)
def index():
    form = FilterForm(request.args)
    form.department_id.choices = [("", _("All"))] + [
        (str(i), n) for i, n in _department_choices()]
    args = form.data if form.validate() else {}
    dept = args.get("department_id")
    query = ops.list_current(status=args.get("status") or None, kind=args.get("kind") or None,
                             method=args.get("method") or None, q=args.get("q") or None,
                             department_id=int(dept) if dept and str(dept).isdigit() else None)
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("catalogue/index.html", form=form, page=page,
                           last=ops.last_publication(), pending=ops.pending_changes())


@bp.get("/<int:item_id>")
@roles(*OFFICE_READERS)
def detail(item_id: int):
    item = ops.get_item(item_id)
    return render_template("catalogue/detail.html", item=item, version=item.current,
                           authors=_authors(item.versions),
                           publications=ops.item_publications(item),
                           retire_form=RetireForm(), reinstate_form=ReinstateForm())


@bp.get("/<int:item_id>/versions/<int:number>")
@roles(*OFFICE_READERS)
def version(item_id: int, number: int):
    item = ops.get_item(item_id)
    shown = ops.get_version_number(item, number)
    return render_template("catalogue/version.html", item=item, version=shown,
                           authors=_authors([shown]))


@bp.get("/publications/<int:publication_id>")
@roles(*OFFICE_READERS)
def publication(publication_id: int):
    pub = ops.get_publication(publication_id)
    return render_template("catalogue/publication.html", pub=pub,
                           versions=ops.publication_versions(pub),
                           actor=db.session.get(User, pub.actor_id) if pub.actor_id else None)


def _authors(versions: list[CheckItemVersion]) -> dict[int, str]:
    ids = {v.created_by_id for v in versions if v.created_by_id}
    if not ids:
        return {}
    return {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


# ----------------------------------------------------------------------------- editing
def _setup(form: ItemForm, current_department: int | None = None) -> None:
    form.department_id.choices = _department_choices(current_department)
    form.target_types.choices = [(code, zh if _zh() else en) for code, zh, en in EMPLOYER_TYPES]


def _fill(form: ItemForm, version: CheckItemVersion) -> None:
    """Put a version's content in the form (GET of the edit page)."""
    values = ops.version_values(version)
    for key in ("name", "name_en", "legal_basis", "content", "department_id", "target_types",
                "method", "kind", "frequency"):
        getattr(form, key).data = values[key]
    form.ratio.data = ops.percent(values["ratio"]).rstrip("%")
    while len(form.questions.entries):
        form.questions.pop_entry()
    for n, q in enumerate(values["questions"], start=1):
        form.questions.append_entry({"order": n, **q})
    for _i in range(EXTRA_ROWS):
        form.questions.append_entry()


def _questions(form: ItemForm) -> list[dict]:
    """The filled rows in the order asked: by the order number, a row moved to a place going
    before the row that was there."""
    rows = []
    for index, entry in enumerate(form.questions.entries):
        data = entry.form.data
        if data.get("remove"):
            continue
        q = {key: (data.get(key) or "").strip() for key in ("text", "legal_basis",
                                                           "evidence_hint")}
        if not any(q.values()):
            continue
        natural = index + 1
        order = data.get("order") if data.get("order") is not None else natural
        rows.append(((order, order == natural, index), q))
    rows.sort(key=lambda row: row[0])
    return [q for _key, q in rows]


def _values(form: ItemForm) -> dict:
    return {"code": form.code.data, "name": form.name.data, "name_en": form.name_en.data,
            "legal_basis": form.legal_basis.data, "content": form.content.data,
            "department_id": form.department_id.data, "target_types": form.target_types.data,
            "method": form.method.data, "kind": form.kind.data,
            "ratio": from_percent(form.ratio.data),
            "frequency": form.frequency.data, "questions": _questions(form)}


def _more_rows(form: ItemForm) -> None:
    for _i in range(EXTRA_ROWS):
        form.questions.append_entry()


@bp.route("/new", methods=["GET", "POST"])
@roles(*EDITORS)
def new():
    form = ItemForm()
    _setup(form)
    status, question_errors = 200, []
    if request.method == "GET":
        form.target_types.data = [code for code, _zh, _en in EMPLOYER_TYPES[:6]]
    elif form.validate_on_submit():
        if form.more_rows.data:
            _more_rows(form)
        else:
            try:
                item = ops.create_item(_values(form), actor=current_user._get_current_object(),
                                       change_note=form.change_note.data or "")
            except DomainError as error:
                show_errors(form, error, {"questions": None})
                question_errors = list(error.fields.get("questions", []))
                status = error.status
            else:
                flash(_("Check item %(code)s created.", code=item.code), "success")
                return redirect(url_for("catalogue.detail", item_id=item.id))
    else:
        status = 400
    return render_template("catalogue/form.html", form=form, item=None,
                           question_errors=question_errors), status


@bp.route("/<int:item_id>/edit", methods=["GET", "POST"])
@roles(*EDITORS)
def edit(item_id: int):
    item = ops.get_item(item_id)
    if item.status != ItemStatus.ACTIVE.value:
        flash(_("A retired item cannot be edited; reinstate it first."), "error")
        return redirect(url_for("catalogue.detail", item_id=item.id))
    form = ItemForm()
    _setup(form, item.current.department_id)
    status, question_errors = 200, []
    if request.method == "GET":
        _fill(form, item.current)
    elif form.validate_on_submit():
        if form.more_rows.data:
            _more_rows(form)
        else:
            before = item.current.id
            values = _values(form)
            values.pop("code")
            try:
                version = ops.revise_item(item, values, form.change_note.data or "",
                                          actor=current_user._get_current_object())
            except DomainError as error:
                show_errors(form, error, {"questions": None})
                question_errors = list(error.fields.get("questions", []))
                status = error.status
            else:
                if version.id == before:
                    flash(_("Nothing changed: no new version was made."), "info")
                else:
                    flash(_("Version %(n)d of %(code)s saved.", n=version.number,
                            code=item.code), "success")
                return redirect(url_for("catalogue.detail", item_id=item.id))
    else:
        status = 400
    return render_template("catalogue/form.html", form=form, item=item,
                           question_errors=question_errors), status


@bp.post("/<int:item_id>/retire")
@roles(*EDITORS)
def retire(item_id: int):
    item = ops.get_item(item_id)
    form = RetireForm()
    if form.validate_on_submit():
        try:
            ops.retire_item(item, form.reason.data, actor=current_user._get_current_object())
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Check item %(code)s retired.", code=item.code), "success")
    else:
        flash(_("Give the reason for retiring the item."), "error")
    return redirect(url_for("catalogue.detail", item_id=item.id))


@bp.post("/<int:item_id>/reinstate")
@roles(*EDITORS)
def reinstate(item_id: int):
    item = ops.get_item(item_id)
    form = ReinstateForm()
    if form.validate_on_submit():
        try:
            ops.reinstate_item(item, form.reason.data or "",
                               actor=current_user._get_current_object())
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Check item %(code)s reinstated.", code=item.code), "success")
    else:
        flash(_("The form has expired. Please try again."), "error")
    return redirect(url_for("catalogue.detail", item_id=item.id))


@bp.route("/publish", methods=["GET", "POST"])
@roles(*PUBLISHERS)
def publish():
    form = PublishForm()
    status = 200
    if request.method == "GET":
        form.published_on.data = ops.local_today()
    elif form.validate_on_submit():
        try:
            pub = ops.publish(form.published_on.data, actor=current_user._get_current_object(),
                              note=form.note.data or "")
        except DomainError as error:
            show_errors(form, error)
            status = error.status
        else:
            flash(_("The list of check items is published, public from %(day)s.",
                    day=pub.published_on.isoformat()), "success")
            return redirect(url_for("catalogue.index"))
    else:
        status = 400
    return render_template("catalogue/publish.html", form=form, last=ops.last_publication(),
                           pending=ops.pending_changes(),
                           active=ops.current_versions()), status

