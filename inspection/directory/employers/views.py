"""Office pages of the employers directory: list, detail with history, create, edit,
confirm current, import (upload, preview, confirm), export, regions. Thin: the work is done in
:mod:`.operations` and :mod:`.importer`."""
from __future__ import annotations

from io import BytesIO

from flask import (Blueprint, current_app, flash, redirect, render_template, request,
                   send_file, url_for)
from flask_babel import gettext as _
from flask_login import current_user

from ...core import audit
from ...core.access import OFFICE_READERS, roles
from ...core.limits import int_arg
from ...core.errors import DomainError
from ...core.forms import show_errors
from ...core.models import Role
from ...extensions import db
from ..reference import EMPLOYER_TYPES, INDUSTRIES
from ...jobs.operations import submit as submit_job
from . import export_job, importer, operations as ops
from .forms import (ConfirmForm, EmployerEditForm, EmployerNewForm, ImportConfirmForm, RegionForm,
                    UploadForm)
from .labels import FLAGS, GRADES, STATUSES, choices, current_lang

bp = Blueprint("employers", __name__, url_prefix="/employers")
READ = roles(*OFFICE_READERS)
WRITE = roles(Role.ADMIN, Role.OFFICE)


def _region_choices() -> list[tuple[str, str]]:
    return [(r.code, f"{r.name}（{r.code}）") for r in ops.list_regions() if r.active]


def _industry_choices() -> list[tuple[str, str]]:
    return [(code, f"{code} {label}") for code, label in choices(INDUSTRIES)]


def _fill_choices(form) -> None:
    blank = [("", _("Choose…"))]
    form.employer_type.choices = blank + choices(EMPLOYER_TYPES)
    form.region_code.choices = blank + _region_choices()
    form.industry.choices = blank + _industry_choices()
    form.risk_grade.choices = choices(GRADES)
    form.status.choices = choices(STATUSES)


def _values(form) -> dict:
    keys = ("name", "employer_type", "address", "region_code", "industry",
            "legal_representative", "contact_phone", "employees", "risk_grade",
            "flag_complaints", "flag_abnormal", "flag_serious_violation", "status", "notes")
    return {k: getattr(form, k).data for k in keys}


def _labels(regions: bool = True) -> dict:
    """Lookup tables for the templates (code -> label in the user's language); the regions'
    names only where a page lists employers of several regions (``regions``)."""
    return {"types": dict(choices(EMPLOYER_TYPES)), "industries": dict(choices(INDUSTRIES)),
            "grades": dict(choices(GRADES)), "statuses": dict(choices(STATUSES)),
            "flags": dict(choices(FLAGS)),
            **({"regions": ops.region_names()} if regions else {})}


# --- the list ----------------------------------------------------------------------------
@bp.get("/")
@READ
def index():
    filters = ops.Filters.from_args(request.args)
    page = ops.search(filters, after=int_arg("after"), before=int_arg("before"), rows=True)
    conf = ops.confirmation_state()
    regions = ops.region_rows()
    return render_template(
        "directory/employers/index.html", page=page, filters=filters, args=filters.args(),
        confirmation=conf, pending=conf.pending if conf else None,
        confirm_form=ConfirmForm(), type_choices=choices(EMPLOYER_TYPES),
        industry_choices=_industry_choices(),
        region_choices=[(code, f"{name}（{code}）") for code, name, active in regions
                        if active],
        grade_choices=choices(GRADES), status_choices=choices(STATUSES),
        flag_choices=choices(FLAGS), **_labels(regions=False),
        regions={code: name for code, name, _active in regions})


@bp.route("/export.xlsx", methods=["GET", "POST"])
@READ
def export():
    """The list's current filter as XLSX, made by a job (docs/jobs.md): POST submits it
    and shows its progress page; GET asks to confirm (an old bookmark of the export)."""
    filters = ops.Filters.from_args(request.values)
    lang = current_lang()
    if request.method == "GET":
        return render_template(
            "jobs/start.html", title=_("Export the employers directory"),
            label=_("Employers directory export (XLSX)"),
            text=_("%(n)s employers match the current filter. The file is made by a job: "
                   "you see its progress and download it when it is done.",
                   n="{:,}".format(export_job.count(filters))),
            action=url_for("employers.export"), fields=filters.args(),
            back=url_for("employers.index", **filters.args()))
    audit.record("employer.export", "employer", None, {"filters": filters.args()})
    job = submit_job(export_job.KIND, {**filters.args(), "lang": lang},
                     current_user._get_current_object())
    return redirect(url_for("jobs.detail", job_id=job.id))


@bp.post("/confirm")
@WRITE
def confirm():
    form = ConfirmForm()
    if form.validate_on_submit():
        conf = ops.confirm_current(current_user._get_current_object(), form.note.data or "")
        flash(_("The directory is confirmed current: %(n)d employers.", n=conf.row_count),
              "success")
    else:
        flash(_("The form has expired. Please try again."), "error")
    return redirect(url_for("employers.index"))


# --- one employer ------------------------------------------------------------------------
@bp.route("/new", methods=["GET", "POST"])
@WRITE
def new():
    form = EmployerNewForm(risk_grade="B", status="active")
    _fill_choices(form)
    status = 200
    if form.validate_on_submit():
        try:
            employer = ops.create_employer(
                {"credit_code": form.credit_code.data, **_values(form)},
                actor=current_user._get_current_object(),
                override_reason=form.override_reason.data)
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
            status = error.status
        else:
            flash(_("Employer %(name)s added.", name=employer.name), "success")
            return redirect(url_for("employers.detail", employer_id=employer.id))
    elif request.method == "POST":
        status = 400
    return render_template("directory/employers/form.html", form=form, employer=None,
                           current=None), status


@bp.get("/<int:employer_id>")
@READ
def detail(employer_id: int):
    employer = ops.employer_row(employer_id)
    # Visits and results come from review through a hook: the directory imports none of it.
    visits = current_app.extensions.get("employer_history")
    return render_template("directory/employers/detail.html", employer=employer,
                           history=ops.history(employer),
                           visit_history=visits(employer) if visits else None,
                           **_labels(regions=False))


@bp.route("/<int:employer_id>/edit", methods=["GET", "POST"])
@WRITE
def edit(employer_id: int):
    employer = ops.get_employer(employer_id)
    if request.method == "GET":
        form = EmployerEditForm(obj=employer)
        form.employees.data = "" if employer.employees is None else str(employer.employees)
    else:
        form = EmployerEditForm()
    form.credit_code.data = employer.credit_code  # the key does not change here
    _fill_choices(form)
    status, current = 200, None
    if form.validate_on_submit():
        try:
            ops.update_employer(employer, _values(form), version=form.version.data,
                                reason=form.reason.data,
                                actor=current_user._get_current_object())
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
            status = error.status
            if status == 409:  # keep what the user typed; show what is stored now
                current = employer
                form.version.data = str(employer.version)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("employers.detail", employer_id=employer.id))
    elif request.method == "POST":
        status = 400
    return render_template("directory/employers/form.html", form=form, employer=employer,
                           current=current, **_labels()), status


# --- import ------------------------------------------------------------------------------
@bp.route("/import", methods=["GET", "POST"])
@WRITE
def import_upload():
    form = UploadForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            sha = importer.store_upload(upload.stream)
            stream, kind = importer.open_stored(sha)
            with stream:
                report = importer.preview(stream, kind, lang=current_lang(), sha256=sha)
        except DomainError as error:
            show_errors(form, error)
            status = error.status
        else:
            report.filename = upload.filename or kind
            confirm_form = ImportConfirmForm(sha256=sha, filename=report.filename)
            return render_template("directory/employers/import.html", form=form,
                                   report=report, confirm_form=confirm_form)
    elif request.method == "POST":
        status = 400
    return render_template("directory/employers/import.html", form=form, report=None,
                           confirm_form=None), status


@bp.post("/import/confirm")
@WRITE
def import_confirm():
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please upload the file again."), "error")
        return redirect(url_for("employers.import_upload"))
    sha = form.sha256.data
    try:
        stream, kind = importer.open_stored(sha)
        with stream:
            report = importer.run_import(stream, kind, actor=current_user._get_current_object(),
                                         only_valid=form.only_valid.data, sha256=sha,
                                         lang=current_lang())
    except importer.ImportRejected as error:
        flash(error.message, "error")
        error.report.filename = form.filename.data or kind
        return render_template("directory/employers/import.html", form=UploadForm(),
                               report=error.report, confirm_form=form), 422
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("employers.import_upload"))
    flash(_("Import #%(n)d done: %(created)d created, %(updated)d updated, %(unchanged)d "
            "unchanged, %(skipped)d rows skipped.", n=report.batch_id, created=report.created,
            updated=report.updated, unchanged=report.unchanged, skipped=report.rows_invalid),
          "success")
    return redirect(url_for("employers.index"))


@bp.get("/import/template.xlsx")
@WRITE
def template_xlsx():
    return send_file(BytesIO(importer.template_xlsx(current_lang())), as_attachment=True,
                     download_name="employers-template.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/import/template.csv")
@WRITE
def template_csv():
    return send_file(BytesIO(importer.template_csv(current_lang())), as_attachment=True,
                     download_name="employers-template.csv", mimetype="text/csv")


# --- regions -----------------------------------------------------------------------------
@bp.get("/regions")
@READ
def regions():
    return render_template("directory/employers/regions.html", regions=ops.list_regions(),
                           form=RegionForm())


@bp.post("/regions")
@WRITE
def region_create():
    form = RegionForm()
    status = 400
    if form.validate_on_submit():
        try:
            region = ops.create_region(form.code.data, form.name.data, form.county_code.data,
                                       form.county_name.data,
                                       actor=current_user._get_current_object())
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
            status = error.status
        else:
            flash(_("Region %(name)s added.", name=region.name), "success")
            return redirect(url_for("employers.regions"))
    return render_template("directory/employers/regions.html", regions=ops.list_regions(),
                           form=form), status
