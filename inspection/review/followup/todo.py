"""The follow-up visits on the office's to-do lists, the deadlines page and the reminders
(registered with :func:`inspection.review.todo.register_source`): a follow-up not yet made
is due on the last day of its window (``FOLLOW_UP_WORKDAYS`` working days after the order's
due date, seed 002 五(三)). One statement, whatever the number of follow-ups."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from ...extensions import db
from ...fieldwork.models import Visit
from .. import todo
from .operations import NOT_STARTED

FOLLOW_UP = "follow_up"
PAGE = "/review/follow-ups/"


def _follow_ups(today: date) -> list[todo.Item]:
    rows = db.session.execute(todo._visit_query(Visit.window_end, Visit.follows_id).where(
        Visit.follows_id.is_not(None), Visit.status.in_(NOT_STARTED)))
    return [todo._visit_item(FOLLOW_UP, row, PAGE, due=row.window_end) for row in rows]


def _title(item: todo.Item) -> str:
    return _("Make the follow-up visit %(number)s · %(employer)s", number=item.number,
             employer=item.employer)


def register() -> None:
    todo.register_source(todo.Source(FOLLOW_UP, lambda: _("Follow-up visit to make"), _title,
                                     _follow_ups))
