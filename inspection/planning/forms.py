"""WTForms of the plan and task pages. The forms check shapes only; the rules are checked by
the load schemas of :mod:`.schemas`, whose per-field messages the views put back on the fields
(:func:`inspection.core.forms.show_errors`)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, IntegerField, RadioField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, Optional

from ..catalogue.forms import METHOD_LABELS
from ..core.forms import MultiCheckboxField
from .models import PlanStatus, TaskStatus, TaskType

GRADES = ("A", "B", "C", "D")

PLAN_STATUS_LABELS = {
    PlanStatus.DRAFT.value: _l("Draft"),
    PlanStatus.SUBMITTED.value: _l("Submitted"),
    PlanStatus.APPROVED.value: _l("Approved"),
    PlanStatus.PUBLISHED.value: _l("Published"),
    PlanStatus.SUPERSEDED.value: _l("Superseded"),
}
TASK_STATUS_LABELS = {
    TaskStatus.DRAFT.value: _l("Draft"),
    TaskStatus.SUBMITTED.value: _l("Submitted"),
    TaskStatus.APPROVED.value: _l("Approved"),
    TaskStatus.TARGETS_DRAWN.value: _l("Targets drawn"),
    TaskStatus.TEAMS_DRAWN.value: _l("Teams drawn"),
    TaskStatus.CLOSED.value: _l("Closed"),
    TaskStatus.CANCELLED.value: _l("Cancelled"),
}
TYPE_LABELS = {
    TaskType.UNDIRECTED.value: _l("Undirected (the whole directory)"),
    TaskType.DIRECTED.value: _l("Directed (filtered)"),
}


class PlanForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[Optional()])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    scope = TextAreaField(_l("Scope"), validators=[Optional(), Length(max=8000)],
                          description=_l("Which employers and matters the year's checks cover."))
    inspector_requirements = TextAreaField(_l("Inspector requirements"),
                                           validators=[Optional(), Length(max=8000)])
    schedule = TextAreaField(_l("Schedule"), validators=[Optional(), Length(max=8000)])
    procedure = TextAreaField(_l("Procedure"), validators=[Optional(), Length(max=8000)])
    yearly_cap = IntegerField(_l("Random checks of one employer a year, at most"),
                              validators=[Optional()], default=2,
                              description=_l("Seed 001, article 11: in principle no more than 2."))
    ratio_A = StringField(_l("Grade A ratio (%)"), validators=[Optional(), Length(max=12)])
    ratio_B = StringField(_l("Grade B ratio (%)"), validators=[Optional(), Length(max=12)])
    ratio_C = StringField(_l("Grade C ratio (%)"), validators=[Optional(), Length(max=12)])
    ratio_D = StringField(_l("Grade D ratio (%)"), validators=[Optional(), Length(max=12)])
    frequency_A = IntegerField(_l("Grade A times a year"), validators=[Optional()])
    frequency_B = IntegerField(_l("Grade B times a year"), validators=[Optional()])
    frequency_C = IntegerField(_l("Grade C times a year"), validators=[Optional()])
    frequency_D = IntegerField(_l("Grade D times a year"), validators=[Optional()])
    change_note = TextAreaField(_l("Change note"), validators=[Optional(), Length(max=8000)],
                                description=_l("For a revision: what changes and why."))


class TaskForm(FlaskForm):
    plan_id = SelectField(_l("Annual plan"), coerce=int, validators=[Optional()],
                          description=_l("Only a plan in force (approved or published)."))
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=8000)])
    lead_department_id = SelectField(_l("Lead department"), coerce=int, validators=[Optional()])
    department_ids = MultiCheckboxField(_l("Participating departments"), coerce=int, choices=[],
                                        description=_l("More than one makes a joint task; the "
                                                       "lead department always takes part."))
    item_ids = MultiCheckboxField(_l("Check items"), coerce=int, choices=[],
                                  description=_l("Each item is pinned to its current version."))
    task_type = RadioField(_l("Type"), choices=list(TYPE_LABELS.items()),
                           default=TaskType.UNDIRECTED.value)
    filter_regions = MultiCheckboxField(_l("Regions"), choices=[])
    filter_industries = MultiCheckboxField(_l("Industries"), choices=[])
    filter_employer_types = MultiCheckboxField(_l("Types of employer"), choices=[])
    filter_grades = MultiCheckboxField(_l("Risk grades"), choices=[])
    filter_flags = MultiCheckboxField(_l("Flags (any of)"), choices=[])
    method = SelectField(_l("Method"), choices=list(METHOD_LABELS.items()))
    window_start = DateField(_l("From"), validators=[Optional()])
    window_end = DateField(_l("To"), validators=[Optional()])
    announced = BooleanField(_l("Visits are announced in advance"), default=True)
    inspectors_per_visit = IntegerField(_l("Inspectors per visit"), validators=[Optional()],
                                        default=2, description=_l("At least 2."))
    ratio_A = StringField(_l("Grade A"), validators=[Optional(), Length(max=12)])
    ratio_B = StringField(_l("Grade B"), validators=[Optional(), Length(max=12)])
    ratio_C = StringField(_l("Grade C"), validators=[Optional(), Length(max=12)])
    ratio_D = StringField(_l("Grade D"), validators=[Optional(), Length(max=12)])


class ApproveForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=8000)],
                         id="approve-note")


class RejectForm(FlaskForm):
    note = TextAreaField(_l("Reason for rejection"), validators=[Optional(), Length(max=8000)],
                         id="reject-note")


class PublishForm(FlaskForm):
    published_on = DateField(_l("Published on"), validators=[DataRequired()])


class ReviseForm(FlaskForm):
    change_note = TextAreaField(_l("What will change, and why"),
                                validators=[Optional(), Length(max=8000)], id="revise-note")


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=8000)],
                           id="cancel-reason")


class ActionForm(FlaskForm):
    """A button that changes state (submit): CSRF only."""


class TaskFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), choices=[("", _l("All")), *TASK_STATUS_LABELS.items()],
                         validators=[Optional()])
    year = SelectField(_l("Year"), choices=[], validators=[Optional()])
