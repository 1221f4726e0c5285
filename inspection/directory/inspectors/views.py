"""Office pages of the inspectors directory. Thin: the work is done in :mod:`.operations` and
:mod:`.importer`."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...core.access import OFFICE_READERS, roles
from ...core.errors import DomainError, NotFound
from ...core.models import Department, Role
from ...core.forms import show_errors
from ...extensions import db
from .. import history
from ..models import ImportBatch, Inspector, Region
from . import importer, labels, operations as ops
from .forms import (ConfirmForm, ConflictForm, EndConflictForm, FilterForm, ImportConfirmForm,
                    InspectorForm, UploadForm)

bp = Blueprint("inspectors", __name__, url_prefix="/inspectors")

WRITERS = (Role.ADMIN, Role.OFFICE)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.context_processor
def helpers():
    lang = str(get_locale() or "zh_CN")
    today = ops.today()
    tables = {"cert_kind": labels.CERT_KINDS, "status": labels.STATUSES, "pool": labels.POOLS,
              "tags": labels.SUGGESTED_TAGS}

    def show_value(field: str, value) -> str:
        """A value of a history row as people read it (names, not codes)."""
        if value in (None, "", []):
            return "—"
        if field in tables:
            values = value if isinstance(value, list) else [value]
            return ", ".join(labels.name(tables[field], str(v), lang) for v in values)
        if field == "home_region_code":
            region = db.session.get(Region, value)
            return region.name if region else str(value)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)

    return {
        "show_value": show_value,
        "labels": labels,
        "lang": lang,
        "today": today,
        "why_not_drawable": lambda i: ops.why_not_drawable(i, today),
        "expiring_soon": lambda i: ops.expiring_soon(i, today),
        "label": lambda table, code: labels.name(getattr(labels, table), code, lang),
        "column_labels": dict(
            {c.key: (c.zh if lang.startswith("zh") else c.en) for c in importer.COLUMNS},
            home_region_code=importer.LABELS["home_region"] if lang.startswith("zh")
            else "Home region",
            conflict=_("Conflict of interest")),
    }


def _departments():
    return db.session.scalars(select(Department).where(Department.active)
                              .order_by(Department.code)).all()


def _regions():
    return db.session.scalars(select(Region).where(Region.active).order_by(Region.code)).all()


def _actor():
    return current_user._get_current_object()


def _filter_form() -> FilterForm:
    form = FilterForm(request.args)
    form.fill_choices(_departments())
    form.validate()
    return form


@bp.get("/")
@roles(*OFFICE_READERS)
def index():
    form = _filter_form()
    query = ops.search(**form.filters()).options(selectinload(Inspector.user))
    page = db.paginate(query, per_page=50, error_out=False)
    export_args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("directory/inspectors/index.html", form=form, page=page,
                           state=ops.confirmation_state(), confirm_form=ConfirmForm(),
                           export_args=export_args)


@bp.get("/export.xlsx")
@roles(*OFFICE_READERS)
def export():
    form = _filter_form()
    data = importer.export_xlsx(ops.search(**form.filters()))
    stamp = ops.today().strftime("%Y%m%d")
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=inspectors-{stamp}.xlsx"})


@bp.get("/template.<fmt>")
@roles(*OFFICE_READERS)
def template(fmt: str):
    if fmt == "xlsx":
        return Response(importer.template_xlsx(), mimetype=XLSX, headers={
            "Content-Disposition": "attachment; filename=inspectors-template.xlsx"})
    if fmt == "csv":
        return Response(importer.template_csv(), mimetype="text/csv; charset=utf-8", headers={
            "Content-Disposition": "attachment; filename=inspectors-template.csv"})
    raise NotFound(_("No such template."))


@bp.post("/confirm")
@roles(*WRITERS)
def confirm():
    form = ConfirmForm()
    if form.validate_on_submit():
        row = ops.confirm_current(_actor(), form.note.data or "")
        flash(_("The inspectors directory is confirmed current (%(n)d inspectors).",
                n=row.row_count), "success")
    else:
        flash(_("The form has expired. Please try again."), "error")
    return redirect(url_for("inspectors.index"))


@bp.route("/new", methods=["GET", "POST"])
@roles(*WRITERS)
def new():
    form = InspectorForm()
    form.fill_choices(_departments(), _regions())
    if request.method == "GET":
        form.department.data = current_user.department_id
        form.status.data = "available"
        form.pool.data = "staff"
    status = 200
    if form.validate_on_submit():
        try:
            inspector = ops.create_inspector(form.values(), actor=_actor(),
                                             reason=form.reason.data or None)
        except DomainError as error:
            show_errors(form, error)
            status = error.status
        else:
            flash(_("Inspector %(name)s added.", name=inspector.name), "success")
            return redirect(url_for("inspectors.detail", inspector_id=inspector.id))
    elif request.method == "POST":
        status = 422 if form.errors else 400
    return render_template("directory/inspectors/form.html", form=form, inspector=None), status


@bp.get("/<int:inspector_id>")
@roles(*OFFICE_READERS)
def detail(inspector_id: int):
    inspector = ops.get_inspector(inspector_id, with_conflicts=True)
    conflict_form = ConflictForm()
    conflict_form.fill_choices()
    return render_template("directory/inspectors/detail.html", inspector=inspector,
                           conflict_form=conflict_form, end_form=EndConflictForm(),
                           history=history.history(ops.SUBJECT, inspector.id))


def _edit_form(inspector: Inspector) -> InspectorForm:
    if request.method == "GET":
        known = set(labels.codes(labels.SUGGESTED_TAGS))
        # Not obj=inspector: WTForms prefers an object's attribute over a keyword, and the
        # model's department / home_region / tags are not what these fields hold.
        form = InspectorForm(data={
            "name": inspector.name, "department": inspector.department_id,
            "cert_kind": inspector.cert_kind, "cert_number": inspector.cert_number,
            "cert_expires": inspector.cert_expires, "status": inspector.status,
            "pool": inspector.pool, "tags": [t for t in inspector.tags if t in known],
            "extra_tags": ", ".join(t for t in inspector.tags if t not in known),
            "qualifications": inspector.qualifications,
            "home_region": inspector.home_region_code or "", "phone": inspector.phone,
            "username": inspector.user.username if inspector.user else "",
            "notes": inspector.notes, "version": inspector.version})
    else:
        form = InspectorForm()
    form.fill_choices(_departments(), _regions())
    return form


@bp.route("/<int:inspector_id>/edit", methods=["GET", "POST"])
@roles(*WRITERS)
def edit(inspector_id: int):
    inspector = ops.get_inspector(inspector_id)
    form = _edit_form(inspector)
    status = 200
    if form.validate_on_submit():
        try:
            ops.update_inspector(inspector, form.values(), form.version.data, actor=_actor(),
                                 reason=form.reason.data or None)
        except DomainError as error:
            show_errors(form, error)
            status = error.status
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("inspectors.detail", inspector_id=inspector.id))
    elif request.method == "POST":
        status = 422 if form.errors else 400
    return render_template("directory/inspectors/form.html", form=form,
                           inspector=inspector), status


@bp.post("/<int:inspector_id>/conflicts")
@roles(*WRITERS)
def conflict_new(inspector_id: int):
    inspector = ops.get_inspector(inspector_id)
    form = ConflictForm()
    form.fill_choices()
    status = 200
    if form.validate_on_submit():
        try:
            conflict = ops.declare_conflict(inspector, form.credit_code.data, form.relation.data,
                                            form.note.data, actor=_actor())
        except DomainError as error:
            show_errors(form, error)
            if "employer" in error.fields:
                form.credit_code.errors = list(form.credit_code.errors) + \
                    list(error.fields["employer"])
            status = error.status
        else:
            flash(_("Conflict with %(name)s declared: %(inspector)s will not be drawn for it.",
                    name=conflict.employer.name, inspector=inspector.name), "success")
            return redirect(url_for("inspectors.detail", inspector_id=inspector.id))
    else:
        status = 422 if form.errors else 400
        flash(_("Please correct the marked fields."), "error")
    return render_template("directory/inspectors/detail.html", inspector=inspector,
                           conflict_form=form, end_form=EndConflictForm(),
                           history=history.history(ops.SUBJECT, inspector.id)), status


@bp.post("/<int:inspector_id>/conflicts/<int:conflict_id>/end")
@roles(*WRITERS)
def conflict_end(inspector_id: int, conflict_id: int):
    inspector = ops.get_inspector(inspector_id)
    conflict = ops.get_conflict(inspector, conflict_id)
    form = EndConflictForm()
    if not form.validate_on_submit():
        flash(_("Say why the conflict ends."), "error")
        return redirect(url_for("inspectors.detail", inspector_id=inspector.id))
    try:
        ops.end_conflict(conflict, form.reason.data, actor=_actor())
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("The conflict has ended; it stays on record."), "success")
    return redirect(url_for("inspectors.detail", inspector_id=inspector.id))


def _recent_batches():
    return db.session.scalars(select(ImportBatch).where(ImportBatch.kind == importer.KIND)
                              .order_by(ImportBatch.id.desc()).limit(10)).all()


@bp.route("/import", methods=["GET", "POST"])
@roles(*WRITERS)
def import_page():
    """Upload a file and see the preview; nothing is written until it is confirmed."""
    form = UploadForm()
    result = confirm_form = None
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        data, filename = upload.read(), upload.filename or ""
        try:
            sha = importer.store_upload(data, filename)
            result = importer.preview(data, filename)
        except DomainError as error:
            show_errors(form, error)
            status = error.status
        else:
            confirm_form = ImportConfirmForm(sha256=sha, filename=filename,
                                             only_valid=False)
    elif request.method == "POST":
        status = 422 if form.errors else 400
    return render_template("directory/inspectors/import.html", form=form, result=result,
                           confirm_form=confirm_form, batches=_recent_batches()), status


@bp.post("/import/confirm")
@roles(*WRITERS)
def import_confirm():
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please upload the file again."), "error")
        return redirect(url_for("inspectors.import_page"))
    try:
        batch, result = importer.import_stored(form.sha256.data, form.filename.data,
                                               only_valid=form.only_valid.data, actor=_actor())
    except DomainError as error:
        flash(error.message, "error")
        return render_template("directory/inspectors/import.html", form=UploadForm(),
                               result=None, confirm_form=None,
                               batches=_recent_batches()), error.status
    flash(_("Imported: %(c)d added, %(u)d changed, %(s)d unchanged, %(i)d rows skipped.",
            c=batch.created, u=batch.updated, s=batch.unchanged, i=batch.rows_invalid),
          "success")
    return redirect(url_for("inspectors.import_page"))
