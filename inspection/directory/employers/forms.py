"""WTForms of the employers pages. Choices are filled by the views (labels follow the user's
language); the rules of the values live in :mod:`.operations`, not here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, HiddenField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, Optional, Regexp


class EmployerForm(FlaskForm):
    credit_code = StringField(_l("Credit code"), validators=[DataRequired(), Length(max=40)],
                              render_kw={"autocomplete": "off", "autocapitalize": "characters",
                                         "spellcheck": "false"})
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    employer_type = SelectField(_l("Employer type"), validators=[DataRequired()])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    region_code = SelectField(_l("Region (street / town)"), validators=[DataRequired()])
    industry = SelectField(_l("Industry (GB/T 4754 section)"), validators=[DataRequired()])
    legal_representative = StringField(_l("Legal representative"),
                                       validators=[Optional(), Length(max=50)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=30)],
                                render_kw={"inputmode": "tel"})
    employees = StringField(_l("Number of employees"), validators=[Optional(), Length(max=12)],
                            render_kw={"inputmode": "numeric"})
    risk_grade = SelectField(_l("Risk grade"), validators=[DataRequired()])
    flag_complaints = BooleanField(_l("Frequent complaints"))
    flag_abnormal = BooleanField(_l("On the abnormal-operation list"))
    flag_serious_violation = BooleanField(_l("Serious violation record"))
    status = SelectField(_l("Status"), validators=[DataRequired()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])


class EmployerNewForm(EmployerForm):
    override_reason = TextAreaField(
        _l("Reason for accepting a non-conforming code"), validators=[Optional(), Length(max=1000)],
        description=_l("Only for a legacy code that fails the GB 32100 check: say why it is "
                       "accepted. Leave empty otherwise."))


class EmployerEditForm(EmployerForm):
    version = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason for the change"), validators=[Optional(), Length(max=1000)],
                           description=_l("Required when the risk grade or a flag changes."))


class ConfirmForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class UploadForm(FlaskForm):
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()],
                     render_kw={"accept": ".csv,.xlsx"})


class ImportConfirmForm(FlaskForm):
    sha256 = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])
    filename = HiddenField(validators=[Optional(), Length(max=255)])
    only_valid = BooleanField(_l("Import only the valid rows and skip the others"))


class RegionForm(FlaskForm):
    code = StringField(_l("Region code"), validators=[DataRequired(), Length(max=12)],
                       description=_l("Nine or twelve digits, starting with the county code."))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    county_code = StringField(_l("County code"), validators=[DataRequired(), Length(max=6)])
    county_name = StringField(_l("County"), validators=[DataRequired(), Length(max=100)])


__all__ = ["ConfirmForm", "EmployerEditForm", "EmployerNewForm", "ImportConfirmForm",
           "RegionForm", "UploadForm"]
