"""The working-day calendar in the JSON API: which years are known, and entering a year
(the same JSON as the import file, see ``docs/workdays.md``)."""
from __future__ import annotations

from collections import defaultdict

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import select

from .openapi import Blueprint

from ..extensions import db
from . import calendar_ops, workdays
from .access import OFFICE_READERS, roles
from .fields import UtcDateTime, WholeNumber
from .models import CalendarDay, Role
from .workdays import DayEntry

blp = Blueprint("calendar_api", __name__, url_prefix="/api/v1/calendar",
                description="The working-day calendar: known years, entering a year")


class CalendarDayLoadSchema(ma.Schema):
    date = ma.fields.Date(required=True)
    name = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))


class CalendarYearLoadSchema(ma.Schema):
    """A year from the State Council's notice: only the days that differ from the weekend
    rule. Cross-field rules (dates in the year, workdays on weekends, no date twice, at least
    one holiday) answer 422 with the problems."""

    year = WholeNumber(required=True, validate=ma.validate.Range(
        min=workdays.MIN_YEAR, max=workdays.MAX_YEAR))
    source = ma.fields.String(load_default="", validate=ma.validate.Length(max=200),
                              metadata={"description": "The notice the dates come from"})
    holidays = ma.fields.List(ma.fields.Nested(CalendarDayLoadSchema), required=True)
    workdays = ma.fields.List(ma.fields.Nested(CalendarDayLoadSchema), load_default=list,
                              metadata={"description": "Adjusted working Saturdays and Sundays"})


class CalendarDayDumpSchema(ma.Schema):
    date = ma.fields.Date(attribute="day")
    is_workday = ma.fields.Boolean()
    name = ma.fields.String()


class CalendarYearDumpSchema(ma.Schema):
    year = ma.fields.Integer()
    source = ma.fields.String(metadata={"description": "bureau or library"})
    reference = ma.fields.String(metadata={"description": "The notice, or the library"})
    entered_by = ma.fields.String(allow_none=True)
    entered_at = UtcDateTime(allow_none=True)
    holidays = ma.fields.Integer(allow_none=True)
    workdays = ma.fields.Integer(allow_none=True)
    overrides_library = ma.fields.Boolean()
    days = ma.fields.List(ma.fields.Nested(CalendarDayDumpSchema),
                          metadata={"description": "The listed days of a bureau year"})


def _years(only: int | None = None) -> list[dict]:
    years = [dict(y) for y in workdays.known_years() if only is None or y["year"] == only]
    bureau = [y["year"] for y in years if y["source"] == workdays.BUREAU]
    days: dict[int, list[CalendarDay]] = defaultdict(list)
    if bureau:
        for day in db.session.scalars(select(CalendarDay).where(CalendarDay.year.in_(bureau))
                                      .order_by(CalendarDay.day)):
            days[day.year].append(day)
    for y in years:
        y["days"] = days.get(y["year"], [])
    return years


@blp.route("/years")
class CalendarYears(MethodView):
    @roles(*OFFICE_READERS)
    @blp.response(200, CalendarYearDumpSchema(many=True))
    def get(self):
        """Every year with a calendar: entered by the bureau (with its days) or from the
        library's built-in table. A deadline in any other year cannot be computed."""
        return _years()

    @roles(Role.ADMIN)
    @blp.arguments(CalendarYearLoadSchema)
    @blp.response(201, CalendarYearDumpSchema)
    @blp.alt_response(200, schema=CalendarYearDumpSchema, description="An entry replaced")
    def post(self, args):
        """Enter or replace the bureau's calendar of a year (audited)."""
        replaced = any(y["year"] == args["year"] and y["source"] == workdays.BUREAU
                       for y in workdays.known_years())
        days = [DayEntry(d["date"], False, d["name"]) for d in args["holidays"]] + \
            [DayEntry(d["date"], True, d["name"]) for d in args["workdays"]]
        calendar_ops.enter_year(args["year"], args["source"], days,
                                current_user._get_current_object(),
                                original=request.get_data(), filename="api.json")
        return _years(args["year"])[0], 200 if replaced else 201
