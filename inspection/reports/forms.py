"""The reports' forms: buttons with a CSRF token; their values are checked by the load
schemas of :mod:`.schemas`."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField


class CloseForm(FlaskForm):
    note = TextAreaField()


class ReportForm(FlaskForm):
    format = HiddenField()
