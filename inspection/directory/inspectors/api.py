"""JSON API of the inspectors directory: office readers read, admin and office write."""
from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ...core.access import OFFICE_READERS, roles
from ...core.models import Role
from ...core.openapi import Blueprint
from ...extensions import db
from ..models import Inspector
from . import operations as ops
from .schemas import (ConflictCreateSchema, ConflictDumpSchema, ConflictEndSchema,
                      InspectorCreateSchema, InspectorDumpSchema, InspectorPageSchema,
                      InspectorPatchSchema, InspectorQuerySchema)

blp = Blueprint("inspectors_api", __name__, url_prefix="/api/v1/inspectors",
                description="The inspectors directory (执法检查人员名录库)")

WRITERS = (Role.ADMIN, Role.OFFICE)


def _actor():
    return current_user._get_current_object()


@blp.route("")
class Inspectors(MethodView):
    @roles(*OFFICE_READERS)
    @blp.arguments(InspectorQuerySchema, location="query")
    @blp.response(200, InspectorPageSchema)
    def get(self, args):
        """Inspectors, filtered, by name; ``drawable`` and ``expiring`` judge by today."""
        page, per_page = args.pop("page"), args.pop("per_page")
        query = ops.search(**args).options(selectinload(Inspector.conflicts),
                                           selectinload(Inspector.user))
        result = db.paginate(query, page=page, per_page=per_page, error_out=False)
        return {"items": result.items, "total": result.total, "page": result.page,
                "per_page": per_page, "pages": result.pages}

    @roles(*WRITERS)
    @blp.arguments(InspectorCreateSchema)
    @blp.response(201, InspectorDumpSchema)
    def post(self, args):
        """Add an inspector."""
        reason = args.pop("reason", None)
        return ops.create_inspector(args, actor=_actor(), reason=reason)


@blp.route("/<int:inspector_id>")
class InspectorItem(MethodView):
    @roles(*OFFICE_READERS)
    @blp.response(200, InspectorDumpSchema)
    def get(self, inspector_id):
        """One inspector, with why they cannot be drawn today (if so)."""
        return ops.get_inspector(inspector_id)

    @roles(*WRITERS)
    @blp.arguments(InspectorPatchSchema)
    @blp.response(200, InspectorDumpSchema)
    @blp.alt_response(409, description="Someone else changed the inspector since ``version``.")
    def patch(self, args, inspector_id):
        """Change an inspector; send the ``version`` you read (409 when it is stale)."""
        inspector = ops.get_inspector(inspector_id)
        version, reason = args.pop("version"), args.pop("reason", None)
        return ops.update_inspector(inspector, args, version, actor=_actor(), reason=reason)


@blp.route("/<int:inspector_id>/conflicts")
class Conflicts(MethodView):
    @roles(*OFFICE_READERS)
    @blp.response(200, ConflictDumpSchema(many=True))
    def get(self, inspector_id):
        """Declared conflicts of interest, ended ones included."""
        return ops.get_inspector(inspector_id, with_conflicts=True).conflicts

    @roles(*WRITERS)
    @blp.arguments(ConflictCreateSchema)
    @blp.response(201, ConflictDumpSchema)
    @blp.alt_response(409, description="A conflict with this employer is declared already.")
    def post(self, args, inspector_id):
        """Declare a conflict of interest with an employer (by id or credit code)."""
        inspector = ops.get_inspector(inspector_id)
        employer = args.get("employer_id") or args.get("credit_code")
        return ops.declare_conflict(inspector, employer, args["relation"], args["note"],
                                    actor=_actor())


@blp.route("/<int:inspector_id>/conflicts/<int:conflict_id>/end")
class ConflictEnd(MethodView):
    @roles(*WRITERS)
    @blp.arguments(ConflictEndSchema)
    @blp.response(200, ConflictDumpSchema)
    @blp.alt_response(409, description="The conflict has ended already.")
    def post(self, args, inspector_id, conflict_id):
        """End a conflict; it stays on record with when and why it ended."""
        inspector = ops.get_inspector(inspector_id)
        return ops.end_conflict(ops.get_conflict(inspector, conflict_id), args["reason"],
                                actor=_actor())
