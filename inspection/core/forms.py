"""WTForms for the account pages. Labels are lazy so they follow the user's language."""
from __future__ import annotations

from typing import Mapping

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, HiddenField, PasswordField, SelectField,
                     SelectMultipleField, StringField)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..extensions import db
from .errors import DomainError
from .models import Role


def show_errors(form, error: DomainError,
                fields: Mapping[str, str | None] | None = None) -> None:
    """Put a domain error's field messages on the form's fields and flash its message. The
    failed request changes nothing: whatever the operation had begun is rolled back.

    ``fields`` maps the error's field keys to the form's field names where they differ
    (``{"grade_rules.A.ratio": "ratio_A"}``; a dotted key not mapped goes to the field its
    first part maps to); a key mapped to None is left to the page to show."""
    db.session.rollback()
    fields = fields or {}
    for name, messages in error.fields.items():
        target = fields.get(name, name)
        if target is None:
            continue
        field = getattr(form, target, None)
        if field is None and "." in name:
            field = getattr(form, fields.get(name.split(".")[0]) or "", None)
        if field is not None:
            field.errors = list(field.errors) + [str(m) for m in messages]
    flash(error.message, "error")


ROLE_LABELS = {
    Role.ADMIN.value: _l("Administrator"),
    Role.OFFICE.value: _l("Office staff"),
    Role.APPROVER.value: _l("Approver"),
    Role.INSPECTOR.value: _l("Inspector"),
    Role.SUPERVISOR.value: _l("Supervisor"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)],
                                 render_kw={"autocomplete": "new-password"})
    repeat_password = PasswordField(_l("Repeat the new password"),
                                    validators=[DataRequired(), Length(max=200)],
                                    render_kw={"autocomplete": "new-password"})


class LanguageForm(FlaskForm):
    lang = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    department = SelectField(_l("Department"), coerce=int, validators=[DataRequired()])
    roles = MultiCheckboxField(_l("Roles"), choices=list(ROLE_LABELS.items()),
                               validators=[DataRequired()])
    password = PasswordField(_l("Initial password"), validators=[Optional(), Length(max=200)],
                             description=_l("Leave empty to generate one. "
                                            "The user must change it at first sign-in."))


POSITION_CHOICES = [("", _l("No position")), ("head", _l("Head")),
                    ("deputy_head", _l("Deputy head")),
                    ("principal_head", _l("Principal head"))]


class UserEditForm(FlaskForm):
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    department = SelectField(_l("Department"), coerce=int, validators=[DataRequired()])
    position = SelectField(_l("Position in the department"), choices=POSITION_CHOICES,
                           validators=[Optional()],
                           description=_l("The bureau's settings say which positions approve "
                                          "determinations, exceptions, corrections and "
                                          "substitutions."))
    email = StringField(_l("E-mail for reminders"), validators=[Optional(), Length(max=200)])
    roles = MultiCheckboxField(_l("Roles"), choices=list(ROLE_LABELS.items()),
                               validators=[DataRequired()])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[Optional(), Length(max=200)],
                             description=_l("Leave empty to generate one."))


class ActiveForm(FlaskForm):
    active = BooleanField()


class DepartmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)])


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    actor = StringField(_l("Actor"), validators=[Optional(), Length(max=64)])
    action = StringField(_l("Action"), validators=[Optional(), Length(max=64)])
    object_type = StringField(_l("Object type"), validators=[Optional(), Length(max=64)])
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=64)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
