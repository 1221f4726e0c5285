"""WTForms of the target draw wizard. Shapes only: the rules are checked in
:mod:`.operations`, whose per-field messages the views show."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, FieldList, Form, FormField, HiddenField, RadioField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..models import EntropyMode

MODE_LABELS = {
    EntropyMode.PUBLIC.value: _l("Future public values (e.g. a lottery draw) and the parties' "
                                 "secrets — strongest"),
    EntropyMode.SECRETS.value: _l("Secrets of several parties, committed by hash now and "
                                  "revealed at execution"),
    EntropyMode.SYSTEM.value: _l("System randomness at execution — weakest, labelled so on "
                                 "the public record"),
}
SHORT_MODE_LABELS = {
    EntropyMode.PUBLIC.value: _l("Public values + secrets"),
    EntropyMode.SECRETS.value: _l("Parties' secrets"),
    EntropyMode.SYSTEM.value: _l("System randomness (weakest)"),
}
SOURCE_ROWS = 3


class SourceRow(Form):
    name = StringField(_l("Public source"), validators=[Optional(), Length(max=300)],
                       description=_l("Exactly which value: e.g. 中国福利彩票3D 第2026088期开奖号码"))
    available_at = StringField(_l("Value known from (Beijing time)"),
                               validators=[Optional(), Length(max=100)],
                               render_kw={"placeholder": "2026-12-03 21:15"},
                               description=_l("When the value is published, e.g. 2026-12-03 "
                                              "21:15: the draw cannot be executed before."))


class PartyRow(Form):
    party = StringField(_l("Party"), validators=[Optional(), Length(max=40)])
    sha256 = StringField(_l("SHA-256 of the party's secret"),
                         validators=[Optional(), Length(max=64)])
    generate = BooleanField(_l("Generate the secret here (shown once)"))


class PrepareForm(FlaskForm):
    mode = RadioField(_l("Where the randomness comes from"),
                      choices=[SelectChoice(k, v) for k, v in MODE_LABELS.items()], default=EntropyMode.PUBLIC.value,
                      validators=[DataRequired()])
    sources = FieldList(FormField(SourceRow), min_entries=SOURCE_ROWS)
    parties = FieldList(FormField(PartyRow), min_entries=1)


class RevealRow(Form):
    party = HiddenField()
    secret = StringField(_l("Secret"), validators=[Optional(), Length(max=200)])


class ExecuteForm(FlaskForm):
    values = FieldList(StringField(_l("Published value"), validators=[Optional(),
                                                                      Length(max=400)]))
    secrets = FieldList(FormField(RevealRow))


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
