"""The employers directory in the JSON API: list (the page's filters, keyset pages), get by
credit code, create, update. Every write goes through :mod:`.operations`."""
from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from flask_login import current_user

from ...core.access import OFFICE_READERS, roles
from ...core.models import Role
from ...core.openapi import Blueprint
from . import operations as ops
from .schemas import (EmployerCreateSchema, EmployerDumpSchema, EmployerPageSchema,
                      EmployerQuerySchema, EmployerUpdateSchema)

blp = Blueprint("employers_api", __name__, url_prefix="/api/v1/employers",
                description="The employers directory (检查对象名录库)")


@blp.route("")
class Employers(MethodView):
    @roles(*OFFICE_READERS)
    @blp.arguments(EmployerQuerySchema, location="query")
    @blp.response(200, EmployerPageSchema)
    def get(self, args):
        """Employers matching the filters, in id order; page on with ``after=next_after``."""
        filters = ops.Filters.from_args({k: v for k, v in args.items()
                                         if k not in ("after", "before", "limit")})
        page = ops.search(filters, after=args.get("after"), before=args.get("before"),
                          limit=args["limit"])
        return page

    @roles(Role.ADMIN, Role.OFFICE)
    @blp.arguments(EmployerCreateSchema)
    @blp.response(201, EmployerDumpSchema)
    @blp.alt_response(409, description="An employer with this credit code exists already.")
    def post(self, data):
        """Add an employer. An invalid credit code is refused (422) with the reasons, unless
        ``override_reason`` accepts it as a legacy code."""
        reason = data.pop("override_reason", None)
        return ops.create_employer(data, actor=current_user._get_current_object(),
                                   override_reason=reason)


@blp.route("/<code>")
class EmployerItem(MethodView):
    @roles(*OFFICE_READERS)
    @blp.response(200, EmployerDumpSchema)
    def get(self, code):
        """One employer by credit code."""
        # Made without the schema (a row, not an ORM object): ``employer_json`` answers what
        # EmployerDumpSchema, which documents it, would (a test holds the two equal).
        return jsonify(ops.employer_json(code))

    @roles(Role.ADMIN, Role.OFFICE)
    @blp.arguments(EmployerUpdateSchema)
    @blp.response(200, EmployerDumpSchema)
    @blp.alt_response(409, description="Someone else changed the employer since ``version``.")
    def patch(self, data, code):
        """Change some fields; ``version`` is required (409 when stale), ``reason`` is required
        when the risk grade or a flag changes."""
        employer = ops.get_by_code(code)
        version = data.pop("version")
        reason = data.pop("reason", None)
        return ops.update_employer(employer, data, version=version, reason=reason,
                                   actor=current_user._get_current_object())
