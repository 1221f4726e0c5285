"""The job pages: my jobs, one job's progress (a bar that updates), its file, retry, and the
generic submission of kinds that name roles. Thin: :mod:`.operations` does the work."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.access import login_only
from ..core.errors import DomainError
from ..core.fields import load
from ..core.limits import int_arg
from . import operations as ops
from .schemas import JobSubmitSchema

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def _user():
    return current_user._get_current_object()


@bp.get("/")
@login_only
def index():
    """My jobs, newest first (office and admin: everyone's with ``?all=1``)."""
    user = _user()
    everyone = request.args.get("all") == "1" and user.has_role(*ops.SEE_ALL)
    page = ops.list_jobs(user, everyone=everyone, before=int_arg("before"))
    return render_template("jobs/index.html", page=page, everyone=everyone,
                           may_see_all=user.has_role(*ops.SEE_ALL), label=ops.label)


@bp.post("/")
@login_only
def submit():
    """Start a job of a kind the user's role may start: ``kind`` and ``param.<name>``
    fields."""
    data = {"kind": request.form.get("kind", ""),
            "params": {k[6:]: v for k, v in request.form.items() if k.startswith("param.")}}
    try:
        args = load(JobSubmitSchema(), data)
        job = ops.submit_as(args["kind"], args["params"], _user())
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("jobs.index"))
    return redirect(url_for("jobs.detail", job_id=job.id))


@bp.get("/<int:job_id>")
@login_only
def detail(job_id: int):
    """One job: its progress bar (updated by static/js/job-progress.js), its file when done,
    why it failed and a retry button."""
    job = ops.get_job(job_id, _user())
    return render_template("jobs/detail.html", job=job, label=ops.label(job))


@bp.get("/<int:job_id>/download")
@login_only
def download(job_id: int):
    job = ops.get_job(job_id, _user())
    stream = ops.open_result(job)
    response = send_file(stream, as_attachment=True, download_name=job.result_filename,
                         mimetype=job.result_content_type or "application/octet-stream",
                         etag=job.result_sha256)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<int:job_id>/retry")
@login_only
def retry(job_id: int):
    try:
        ops.retry(job_id, _user())
        flash(_("The job was started again."), "success")
    except DomainError as error:
        flash(error.message, "error")
    return redirect(url_for("jobs.detail", job_id=job_id))
