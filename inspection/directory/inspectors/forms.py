"""WTForms of the inspectors pages. Choices are filled per request (labels follow the locale)."""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ...core.forms import MultiCheckboxField
from . import labels


def _lang() -> str:
    return str(get_locale() or "zh_CN")


class InspectorForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=50)])
    department = SelectField(_l("Department"), coerce=int, validators=[DataRequired()])
    cert_kind = SelectField(_l("Certificate kind"), validators=[DataRequired()])
    cert_number = StringField(_l("Certificate number"), validators=[DataRequired(),
                                                                    Length(max=50)])
    cert_expires = DateField(_l("Certificate valid until"), validators=[DataRequired()])
    status = SelectField(_l("Status"), validators=[DataRequired()])
    pool = SelectField(_l("Inspector pool"), validators=[DataRequired()])
    tags = MultiCheckboxField(_l("Specialities"), validators=[Optional()])
    extra_tags = StringField(_l("Other specialities"), validators=[Optional(), Length(max=300)],
                             description=_l("Free tags, separated by commas."))
    qualifications = TextAreaField(_l("Qualifications"), validators=[Optional(),
                                                                     Length(max=2000)])
    home_region = SelectField(_l("Home region"), validators=[Optional()])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    username = StringField(_l("Linked user account"), validators=[Optional(), Length(max=64)],
                           description=_l("The user name of the inspector's own account, "
                                          "if they have one."))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    reason = StringField(_l("Reason for the change"), validators=[Optional(), Length(max=500)])
    version = HiddenField()

    def fill_choices(self, departments, regions) -> None:
        lang = _lang()
        self.department.choices = [(d.id, d.name) for d in departments]
        self.cert_kind.choices = labels.choices(labels.CERT_KINDS, lang)
        self.status.choices = labels.choices(labels.STATUSES, lang)
        self.pool.choices = labels.choices(labels.POOLS, lang)
        self.tags.choices = labels.choices(labels.SUGGESTED_TAGS, lang)
        self.home_region.choices = [("", "—")] + [(r.code, r.name) for r in regions]

    def values(self) -> dict:
        """The values for :func:`operations.clean`."""
        return {
            "name": self.name.data, "department": self.department.data,
            "cert_kind": self.cert_kind.data, "cert_number": self.cert_number.data,
            "cert_expires": self.cert_expires.data, "status": self.status.data,
            "pool": self.pool.data,
            "tags": list(self.tags.data or []) + [self.extra_tags.data or ""],
            "qualifications": self.qualifications.data or "",
            "home_region": self.home_region.data or "", "phone": self.phone.data or "",
            "username": self.username.data or "", "notes": self.notes.data or "",
        }


class ConflictForm(FlaskForm):
    credit_code = StringField(_l("Employer's credit code"),
                              validators=[DataRequired(), Length(max=18)])
    relation = SelectField(_l("Relation"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=2000)],
                         description=_l("Who, since when, and how it was declared."))

    def fill_choices(self) -> None:
        self.relation.choices = labels.choices(labels.RELATIONS, _lang())


class EndConflictForm(FlaskForm):
    reason = StringField(_l("Why it ends"), validators=[DataRequired(), Length(max=2000)])


class ConfirmForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class UploadForm(FlaskForm):
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()])


class ImportConfirmForm(FlaskForm):
    sha256 = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])
    filename = HiddenField(validators=[DataRequired(), Length(max=255)])
    only_valid = BooleanField(_l("Import only the valid rows and skip the others"))


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(_l("Name or certificate number"), validators=[Optional(), Length(max=50)])
    department = SelectField(_l("Department"), validators=[Optional()])
    status = SelectField(_l("Status"), validators=[Optional()])
    pool = SelectField(_l("Inspector pool"), validators=[Optional()])
    tag = StringField(_l("Speciality"), validators=[Optional(), Length(max=30)],
                      render_kw={"list": "tag-suggestions"})
    drawable = SelectField(_l("Drawable"), validators=[Optional()])
    expiring = BooleanField(_l("Certificate expiring within 30 days"))
    page = IntegerField(validators=[Optional()])

    def fill_choices(self, departments) -> None:
        lang = _lang()
        anything = ("", _l("All"))
        self.department.choices = [anything] + [(str(d.id), d.name) for d in departments]
        self.status.choices = [anything] + labels.choices(labels.STATUSES, lang)
        self.pool.choices = [anything] + labels.choices(labels.POOLS, lang)
        self.drawable.choices = [anything, ("yes", _l("Drawable")), ("no", _l("Not drawable"))]

    def filters(self) -> dict:
        """The arguments of :func:`operations.search`."""
        drawable = {"yes": True, "no": False}.get(self.drawable.data or "")
        return {
            "q": self.q.data or None,
            "department_id": int(self.department.data) if (self.department.data or "").isdigit()
            else None,
            "status": self.status.data or None, "pool": self.pool.data or None,
            "tag": self.tag.data or None, "drawable": drawable,
            "expiring": bool(self.expiring.data),
        }
