"""The core of the JSON API: the CSRF token for the PWA, the current user, the audit trail."""
from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from .openapi import Blueprint

from ..extensions import db
from . import audit, operations as ops
from .access import login_only, roles
from .models import Department, Role
from .schemas import (AuditEntryDumpSchema, AuditQuerySchema, CsrfTokenSchema,
                      DepartmentDumpSchema, MeSchema, MeUpdateSchema)

blp = Blueprint("core_api", __name__, url_prefix="/api/v1",
                description="Session, current user, departments and the audit trail")


@blp.route("/auth/csrf-token")
class CsrfToken(MethodView):
    @login_only
    @blp.response(200, CsrfTokenSchema)
    def get(self):
        """A fresh CSRF token for the session, to send in the X-CSRFToken header.

        The field app asks for one whenever it comes back online, before it sends its outbox:
        a stale token is replaced, never a reason to drop queued work."""
        return {"csrf_token": generate_csrf(), "header": "X-CSRFToken"}


@blp.route("/me")
class Me(MethodView):
    @login_only
    @blp.response(200, MeSchema)
    def get(self):
        """The signed-in user, with roles and department."""
        return current_user

    @login_only
    @blp.arguments(MeUpdateSchema)
    @blp.response(200, MeSchema)
    def patch(self, args):
        """Change the signed-in user's own preferences (the interface language)."""
        user = current_user._get_current_object()
        ops.set_locale(user, args["locale"])
        return user


@blp.route("/departments")
class Departments(MethodView):
    @login_only
    @blp.response(200, DepartmentDumpSchema(many=True))
    def get(self):
        """All departments of the bureau."""
        return db.session.scalars(select(Department).order_by(Department.code)).all()


@blp.route("/audit")
class AuditTrail(MethodView):
    @roles(Role.ADMIN, Role.SUPERVISOR)
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEntryDumpSchema(many=True))
    def get(self, args):
        """Audit entries, newest first; page back with ``before`` = the last ``seq`` seen."""
        return audit.search(**args)
