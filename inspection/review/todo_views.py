"""Pages of deadlines and messages: ``/deadlines`` (the bureau's deadlines by task and
department, for the office, approvers, supervisors and administrators) and ``/inbox`` (a
user's messages, the reminders among them). Thin: the work is in :mod:`.todo` and
:mod:`.reminders`."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from ..core.access import login_only, roles
from ..core.fields import WholeNumber
from ..core.models import Role
from ..extensions import db
from . import reminders, todo

bp = Blueprint("todo", __name__)

#: Who reads the deadlines page (the supervisor read-only, like everyone here).
DEADLINE_READERS = (Role.OFFICE, Role.APPROVER, Role.SUPERVISOR, Role.ADMIN)


class DeadlineFilterSchema(Schema):
    """The filters of the deadlines page (query string)."""

    class Meta:
        unknown = EXCLUDE

    state = fields.String(validate=validate.OneOf(todo.STATES), load_default=None)
    department = WholeNumber(load_default=None)


class InboxActionSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    #: "open": go on to the message's link after marking it read.
    then = fields.String(validate=validate.OneOf(("open", "inbox")), load_default="inbox")


def _user():
    return current_user._get_current_object()


@bp.app_context_processor
def inbox_helpers():
    def unread_messages() -> int:
        """The signed-in user's unread messages (one COUNT, only when a page asks)."""
        if not current_user.is_authenticated:
            return 0
        return reminders.unread_count(_user())
    return {"unread_messages": unread_messages}


@bp.get("/deadlines")
@roles(*DEADLINE_READERS)
def deadlines():
    try:
        args = DeadlineFilterSchema().load(request.args.to_dict())
    except ValidationError:
        flash(_("Unknown filter; showing everything."), "error")
        args = {"state": None, "department": None}
    data = todo.deadlines(state=args["state"], department_id=args["department"])
    return render_template("review/deadlines.html", data=data, state=args["state"],
                           department=args["department"], states=todo.state_labels(),
                           badges=todo.state_badges(), kinds=todo.kind_labels(),
                           calendar_page=todo.CALENDAR_PAGE)


@bp.get("/inbox")
@login_only
def inbox():
    page = db.paginate(reminders.inbox_query(_user()), per_page=reminders.PER_PAGE,
                       error_out=False)
    return render_template("review/inbox.html", page=page,
                           unread=reminders.unread_count(_user()))


def _same_site(link: str) -> str | None:
    parts = urlsplit(link or "")
    if link and link.startswith("/") and not link.startswith("//") and not parts.netloc:
        return link
    return None


@bp.post("/inbox/<int:notification_id>/read")
@login_only
def inbox_read(notification_id: int):
    try:
        args = InboxActionSchema().load(request.form.to_dict())
    except ValidationError:
        args = {"then": "inbox"}
    row = reminders.mark_read(_user(), notification_id)  # NotFound: the error page
    target = _same_site(row.link) if args["then"] == "open" else None
    return redirect(target or url_for("todo.inbox"))


@bp.post("/inbox/read-all")
@login_only
def inbox_read_all():
    count = reminders.mark_all_read(_user())
    flash(_("%(count)d messages marked as read.", count=count), "success")
    return redirect(url_for("todo.inbox"))
