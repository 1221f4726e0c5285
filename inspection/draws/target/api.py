"""The target draws' JSON API under ``/api/v1/draws``: list, read (with the record), preview
for a task, prepare, execute, cancel (a prepared draw only), verify. There is no way to edit
a drawn list: no PUT, PATCH or DELETE. Thin: the work is in :mod:`.operations`."""
from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user

from ...core.access import OFFICE_READERS, roles
from ...core.models import Role
from ...core.openapi import Blueprint
from ...extensions import db
from ..schemas import ExecuteSchema
from . import operations as target
from .schemas import (CancelSchema, DrawDetailDumpSchema, DrawDumpSchema, DrawQuerySchema,
                      PreparedDumpSchema, PrepareSchema, PreviewDumpSchema, VerifyDumpSchema)

blp = Blueprint("draws_api", __name__, url_prefix="/api/v1/draws",
                description="Target draws (随机抽取检查对象): commit, then execute once; "
                            "verifiable by anyone")

WRITERS = (Role.ADMIN, Role.OFFICE)


class Detail:
    """A draw with its results, for :class:`DrawDetailDumpSchema`."""

    def __init__(self, draw):
        self._draw = draw
        self.results = target.results(draw) if draw.record is not None else []

    def __getattr__(self, name):
        return getattr(self._draw, name)


def _actor():
    return current_user._get_current_object()


@blp.route("")
class Draws(MethodView):
    @roles(*OFFICE_READERS)
    @blp.arguments(DrawQuerySchema, location="query")
    @blp.response(200, DrawDumpSchema(many=True))
    def get(self, args):
        """Draws, newest first (target draws unless ``kind`` says otherwise)."""
        kind = None if args["kind"] == "all" else args["kind"]
        query = target.list_draws(kind=kind, status=args["status"], task_id=args["task_id"])
        return db.session.scalars(query.limit(500)).all()

    @roles(*WRITERS)
    @blp.arguments(PrepareSchema)
    @blp.response(201, PreparedDumpSchema)
    @blp.alt_response(404, description="No such task.")
    @blp.alt_response(409, description="The task cannot be drawn now (``fields.task`` says "
                                       "why).")
    def post(self, args):
        """Prepare a target draw (step 1): freeze the pools and publish the commitment.

        Parties that asked the server to ``generate`` their secret get it here, once."""
        prepared = target.prepare_target_draw(args["task_id"], args["mode"], args["sources"],
                                              args["secrets"], _actor())
        return {"draw": Detail(prepared.draw), "generated_secrets": prepared.generated}


@blp.route("/preview/<int:task_id>")
class Preview(MethodView):
    @roles(*OFFICE_READERS)
    @blp.response(200, PreviewDumpSchema)
    def get(self, task_id: int):
        """Pool sizes and counts per grade, the number left out by the yearly cap, the
        directory's confirmation, and what (if anything) blocks preparing."""
        return target.preview(task_id)


@blp.route("/<int:draw_id>")
class Draw(MethodView):
    @roles(*OFFICE_READERS)
    @blp.response(200, DrawDetailDumpSchema)
    def get(self, draw_id: int):
        """A draw with its commitment, its record once executed, and the drawn employers
        with their visits."""
        return Detail(target.get_target_draw(draw_id))


@blp.route("/<int:draw_id>/execute")
class Execute(MethodView):
    @roles(*WRITERS)
    @blp.arguments(ExecuteSchema)
    @blp.response(200, DrawDetailDumpSchema)
    @blp.alt_response(409, description="The draw was executed or cancelled already, or its "
                                       "task cannot be drawn now.")
    def post(self, args, draw_id: int):
        """Execute (step 2), once: the sources' published values and every party's secret.
        Creates or merges the visits. A second execution answers 409."""
        draw = target.execute_target_draw(draw_id, args["sources"], args["secrets"], _actor())
        return Detail(target.get_target_draw(draw.id))


@blp.route("/<int:draw_id>/cancel")
class Cancel(MethodView):
    @roles(*WRITERS)
    @blp.arguments(CancelSchema)
    @blp.response(200, DrawDumpSchema)
    @blp.alt_response(409, description="Only a prepared draw can be cancelled.")
    def post(self, args, draw_id: int):
        """Abandon a prepared draw (never an executed one); it stays on record."""
        return target.cancel_target_draw(draw_id, args["reason"], _actor())


@blp.route("/<int:draw_id>/verify")
class Verify(MethodView):
    @roles(*OFFICE_READERS)
    @blp.response(200, VerifyDumpSchema)
    def get(self, draw_id: int):
        """Re-check an executed draw from the stored record and pool files."""
        problems = target.verify_target_draw(target.get_target_draw(draw_id))
        return {"ok": not problems, "problems": problems}
