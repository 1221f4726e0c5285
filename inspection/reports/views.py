"""Pages of the reports (docs/reports.md): closing a task, asking for a task's or a year's
summary report (a job: the user goes to its progress page), the list of years, and the
download of a report made. Thin: the work is in :mod:`.operations`."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core import storage
from ..core.access import roles
from ..core.errors import DomainError, NotFound
from ..core.fields import load
from ..core.models import Role
from . import operations as ops
from .forms import CloseForm, ReportForm
from .render import FORMATS
from .schemas import CloseSchema, FormatSchema

bp = Blueprint("reports", __name__)

CLOSERS = (Role.ADMIN, Role.OFFICE)
READERS = (Role.ADMIN, Role.OFFICE, Role.APPROVER, Role.SUPERVISOR)


def _actor():
    return current_user._get_current_object()


def job_page(job) -> str:
    """The job's progress page (inspection/jobs)."""
    try:
        return url_for("jobs.show", job_id=job.id)
    except Exception:  # noqa: BLE001  (the jobs pages not registered: their path)
        return f"/jobs/{job.id}"


def _task_page(task_id: int):
    return redirect(url_for("planning.task", task_id=task_id))


@bp.post("/reports/tasks/<int:task_id>/close")
@roles(*CLOSERS)
def close_task(task_id: int):
    form = CloseForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return _task_page(task_id)
    try:
        clean = load(CloseSchema(), {"note": form.note.data or ""})
        ops.close_task(task_id, actor=_actor(), note=clean["note"])
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        flash(error.message, "error")
        return _task_page(task_id)
    flash(_("The task is closed."), "success")
    return _task_page(task_id)


@bp.post("/reports/tasks/<int:task_id>/report")
@roles(*READERS)
def task_report(task_id: int):
    form = ReportForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return _task_page(task_id)
    try:
        clean = load(FormatSchema(), {"format": form.format.data or ""})
        job = ops.submit_report("task", task_id, clean["format"], actor=_actor())
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        flash(error.message, "error")
        return _task_page(task_id)
    return redirect(job_page(job))


@bp.get("/reports/")
@roles(*READERS)
def index():
    return render_template("reports/index.html", years=ops.years(), form=ReportForm())


@bp.post("/reports/years/<int:year>")
@roles(*READERS)
def year_report(year: int):
    form = ReportForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return redirect(url_for("reports.index"))
    try:
        clean = load(FormatSchema(), {"format": form.format.data or ""})
        job = ops.submit_report("year", year, clean["format"], actor=_actor())
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("reports.index"))
    return redirect(job_page(job))


@bp.get("/reports/files/<int:report_id>")
@roles(*READERS)
def download(report_id: int):
    row = ops.get_report(report_id)
    try:
        stream = storage.open_checked(ops.AREA, row.sha256)
    except storage.StoreError:
        raise NotFound(_("The report's file is missing from the store or damaged.")) from None
    name = ops.file_name(row.kind, row.task_id or row.year, row.format)
    return send_file(stream, mimetype=FORMATS[row.format], as_attachment=True,
                     download_name=name)
