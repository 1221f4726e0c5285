"""Pages of the archive (docs/archive.md): archive a closed task (a job: the user goes to its
progress page), download the case file (office and approvers), keep it longer. Thin: the
work is in :mod:`.operations`."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField

from ...core.access import roles
from ...core.errors import DomainError, NotFound
from ...core.fields import load
from ...core.models import Role
from . import operations as ops
from .schemas import RetentionSchema
from ...reports.views import job_page

bp = Blueprint("archive", __name__)

ARCHIVERS = (Role.OFFICE,)
DOWNLOADERS = (Role.OFFICE, Role.APPROVER)


class ArchiveForm(FlaskForm):
    pass


class RetentionForm(FlaskForm):
    years = StringField()
    reason = StringField()


def _actor():
    return current_user._get_current_object()


def _task_page(task_id: int):
    return redirect(url_for("planning.task", task_id=task_id) + "#archive")


@bp.post("/archive/tasks/<int:task_id>")
@roles(*ARCHIVERS)
def archive_task(task_id: int):
    if not ArchiveForm().validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return _task_page(task_id)
    try:
        job = ops.submit_archive(task_id, actor=_actor())
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        flash(error.message, "error")
        return _task_page(task_id)

    return redirect(job_page(job))


@bp.get("/archive/tasks/<int:task_id>/case-file.zip")
@roles(*DOWNLOADERS)
def download(task_id: int):
    row, stream = ops.open_archive(task_id)
    return send_file(stream, mimetype=ops.CONTENT_TYPE, as_attachment=True,
                     download_name=row.file_name, etag=row.sha256)


@bp.post("/archive/tasks/<int:task_id>/retention")
@roles(*ARCHIVERS)
def retention(task_id: int):
    form = RetentionForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return _task_page(task_id)
    try:
        clean = load(RetentionSchema(), {"years": form.years.data or "",
                                         "reason": form.reason.data or ""})
        ops.set_retention(task_id, clean["years"], clean["reason"], actor=_actor())
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        flash(error.message + "".join(f" {m}" for ms in (error.fields or {}).values()
                                      for m in ms), "error")
        return _task_page(task_id)
    flash(_("The case file is kept longer."), "success")
    return _task_page(task_id)
