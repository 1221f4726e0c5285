"""The bureau's working-day calendar: which years are known, and entering a year from the
State Council's notice (:mod:`.workdays`, :mod:`.calendar_ops`). Office readers see it;
only an administrator enters a year."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from ..extensions import db
from . import calendar_ops, workdays
from .access import OFFICE_READERS, roles
from .errors import DomainError, ValidationFailed
from .forms import show_errors
from .models import CalendarDay, CalendarYear, Role
from .timeutil import LOCAL

bp = Blueprint("calendar", __name__)

#: Largest import file or pasted text read (a year's notice is a few kilobytes).
MAX_BYTES = 256 * 1024


class CalendarForm(FlaskForm):
    file = FileField(_l("Calendar file (CSV or JSON)"), validators=[
        Optional(), FileAllowed(["csv", "json", "txt"], _l("Only CSV and JSON files can be read."))])
    text = TextAreaField(_l("Or paste the calendar"), validators=[Optional(),
                                                                  Length(max=MAX_BYTES)],
                         render_kw={"rows": 10, "spellcheck": "false"},
                         description=_l("The same CSV or JSON as the file; see the format "
                                        "below."))


def _read(form: CalendarForm) -> tuple[str, str, bytes]:
    """The submitted text, its file name and its bytes, or ValidationFailed."""
    upload = form.file.data
    if upload and getattr(upload, "filename", ""):
        data = upload.read(MAX_BYTES + 1)
        name = upload.filename
    elif (form.text.data or "").strip():
        data = form.text.data.encode("utf-8")
        name = ""
    else:
        message = _("Choose a file or paste the calendar.")
        raise ValidationFailed(message, fields={"file": [message]})
    if len(data) > MAX_BYTES:
        message = _("The file is too large for a year's calendar.")
        raise ValidationFailed(message, fields={"file": [message]})
    try:
        return data.decode("utf-8-sig"), name, data
    except UnicodeDecodeError:
        message = _("The file is not UTF-8 text.")
        raise ValidationFailed(message, fields={"file": [message]}) from None


def _page(form: CalendarForm, status: int = 200):
    years = workdays.known_years()
    bureau = [y["year"] for y in years if y["source"] == workdays.BUREAU]
    days: dict[int, list[CalendarDay]] = defaultdict(list)
    if bureau:
        for day in db.session.scalars(select(CalendarDay).where(CalendarDay.year.in_(bureau))
                                      .order_by(CalendarDay.day)):
            days[day.year].append(day)
    this_year = datetime.now(LOCAL).year
    known = {y["year"] for y in years}
    missing = [y for y in (this_year, this_year + 1) if y not in known]
    return render_template("core/calendar.html", form=form, years=list(reversed(years)),
                           days=days, missing=missing,
                           library_version=workdays.library_version()), status


@bp.get("/admin/calendar")
@roles(*OFFICE_READERS)
def index():
    return _page(CalendarForm())


@bp.post("/admin/calendar")
@roles(Role.ADMIN)
def enter():
    form = CalendarForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        text, name, data = _read(form)
        year, source, days = workdays.parse_calendar(text, name)
        replaced = db.session.get(CalendarYear, year) is not None
        calendar_ops.enter_year(year, source, days, current_user._get_current_object(),
                                original=data, filename=name)
    except DomainError as error:
        show_errors(form, error)
        return _page(form, error.status)
    if replaced:
        flash(_("The calendar of %(year)d was replaced.", year=year), "success")
    else:
        flash(_("The calendar of %(year)d was entered.", year=year), "success")
    return redirect(url_for("calendar.index", _anchor=f"year-{year}"))
