"""The job queue's JSON API under ``/api/v1/jobs``: a job's state (the progress page polls
it every second), retry, and the generic submission. Thin: :mod:`.operations`."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_login import current_user

from ..core.access import login_only
from ..core.fields import load
from ..core.openapi import Blueprint
from . import operations as ops
from .schemas import JobOutSchema, JobSubmitSchema

blp = Blueprint("jobs_api", __name__, url_prefix="/api/v1/jobs",
                description="The job queue: long work (exports, PDFs, reports, archives, "
                            "reminders) run by a worker, with its progress and its file")


def _user():
    return current_user._get_current_object()


@blp.route("")
class Jobs(MethodView):
    @login_only
    @blp.doc(requestBody={"required": True, "content": {"application/json": {
        "schema": JobSubmitSchema}}})
    @blp.response(201, JobOutSchema, description="Submitted: it waits for a worker.")
    @blp.alt_response(403, description="The caller's role may not start this kind.")
    @blp.alt_response(422, description="Unknown kind or bad params; see fields.")
    def post(self):
        """Start a job of a kind the caller's role may start."""
        args = load(JobSubmitSchema(), request.get_json(silent=True) or {})
        return ops.submit_as(args["kind"], args["params"], _user()), 201


@blp.route("/<int:job_id>")
class JobState(MethodView):
    @login_only
    @blp.response(200, JobOutSchema)
    @blp.alt_response(404, description="No such job, or not the caller's.")
    def get(self, job_id):
        """A job: its state, progress, why it failed, and its file's address when done.
        The caller's own jobs; the office and admin see all."""
        return ops.get_job(job_id, _user())


@blp.route("/<int:job_id>/retry")
class Retry(MethodView):
    @login_only
    @blp.response(200, JobOutSchema, description="Queued again.")
    @blp.alt_response(404, description="No such job, or not the caller's.")
    @blp.alt_response(409, description="The job has not failed.")
    def post(self, job_id):
        """Run a failed job again from the start."""
        return ops.retry(job_id, _user())
