"""WTForms of the catalogue pages. The forms check shapes only; the rules of the domain are
checked by the load schema of :mod:`.schemas`, whose per-field messages the views put back on
the fields (:func:`inspection.core.forms.show_errors`)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, FieldList, Form, FormField, IntegerField,
                     SelectField, StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, Length, Optional

from ..core.forms import MultiCheckboxField
from .models import InspectionMethod, ItemKind, ItemStatus

METHOD_LABELS = {
    InspectionMethod.ON_SITE.value: _l("On-site inspection"),
    InspectionMethod.WRITTEN.value: _l("Written review"),
    InspectionMethod.ONLINE.value: _l("Online monitoring"),
    InspectionMethod.THIRD_PARTY.value: _l("Third party"),
}
KIND_LABELS = {
    ItemKind.GENERAL.value: _l("General item"),
    ItemKind.KEY.value: _l("Key item"),
}
STATUS_LABELS = {
    ItemStatus.ACTIVE.value: _l("Active"),
    ItemStatus.RETIRED.value: _l("Retired"),
}

#: Empty question rows offered below the filled ones, and added by "More rows".
EXTRA_ROWS = 3


class QuestionRowForm(Form):
    """One checklist question; a row left empty is ignored, "remove" drops a filled one."""

    order = IntegerField(_l("Order"), validators=[Optional()])
    text = TextAreaField(_l("Question"), validators=[Optional(), Length(max=4000)])
    legal_basis = TextAreaField(_l("Legal basis"), validators=[Optional(), Length(max=4000)])
    evidence_hint = TextAreaField(_l("Evidence to look at"),
                                  validators=[Optional(), Length(max=4000)])
    remove = BooleanField(_l("Remove"))


class ItemForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Optional(), Length(max=16)],
                       description=_l("E.g. LR-09. Questions are numbered LR-09-01, LR-09-02 …"))
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=200)])
    legal_basis = TextAreaField(_l("Legal basis"), validators=[Optional(), Length(max=4000)],
                                description=_l("Law and article, e.g. 《劳动合同法》第十条"))
    content = TextAreaField(_l("What is checked"), validators=[Optional(), Length(max=4000)])
    department_id = SelectField(_l("Responsible department"), coerce=int,
                                validators=[Optional()])
    target_types = MultiCheckboxField(_l("Types of employer checked"), choices=[])
    method = SelectField(_l("Method"), choices=list(METHOD_LABELS.items()))
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()),
                       description=_l("A general item's ratio is capped; a key item may be "
                                      "checked at up to 100%."))
    ratio = StringField(_l("Default draw ratio (%)"), validators=[Optional(), Length(max=12)])
    frequency = IntegerField(_l("Times a year"), validators=[Optional()], default=1)
    questions = FieldList(FormField(QuestionRowForm), min_entries=EXTRA_ROWS)
    change_note = TextAreaField(_l("Change note"), validators=[Optional(), Length(max=4000)],
                                description=_l("What changed and why (kept with the version)."))
    save = SubmitField(_l("Save"))
    more_rows = SubmitField(_l("More question rows"))


class RetireForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=4000)])


class ReinstateForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=4000)])


class PublishForm(FlaskForm):
    published_on = DateField(_l("Public from"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), choices=[("", _l("All")), *STATUS_LABELS.items()],
                         validators=[Optional()], default=ItemStatus.ACTIVE.value)
    kind = SelectField(_l("Kind"), choices=[("", _l("All")), *KIND_LABELS.items()],
                       validators=[Optional()])
    method = SelectField(_l("Method"), choices=[("", _l("All")), *METHOD_LABELS.items()],
                         validators=[Optional()])
    department_id = SelectField(_l("Department"), choices=[], validators=[Optional()])
