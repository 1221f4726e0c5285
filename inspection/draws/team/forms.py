"""WTForms of the team-draw pages. Labels are lazy so they follow the user's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, PasswordField, SelectField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, Optional

PARTY_ROWS = 3
SOURCE_ROWS = 2


def mode_choices():
    return [("public", _l("Future public values and committed secrets (strongest)")),
            ("secrets", _l("Secrets of several parties")),
            ("system", _l("System randomness at execution (weakest)"))]


class TeamPrepareForm(FlaskForm):
    """Step 1: which department draws, and where the randomness will come from."""

    department = SelectField(_l("Department drawing its members"), coerce=int,
                             validators=[DataRequired()])
    mode = SelectField(_l("Randomness"), choices=mode_choices(), default="public")


def _add_rows(cls):
    for n in range(1, SOURCE_ROWS + 1):
        setattr(cls, f"source_{n}", StringField(
            _l("Public source %(n)d (which draw, which index, when)", n=n),
            validators=[Optional(), Length(max=300)]))
        setattr(cls, f"source_{n}_at", StringField(
            _l("Value known from (Beijing time, e.g. 2026-12-03 21:15): the draw cannot be "
               "executed before"),
            validators=[Optional(), Length(max=100)]))
    for n in range(1, PARTY_ROWS + 1):
        setattr(cls, f"party_{n}", StringField(_l("Party %(n)d", n=n),
                                               validators=[Optional(), Length(max=40)]))
        setattr(cls, f"sha256_{n}", StringField(_l("SHA-256 of the party's secret"),
                                                validators=[Optional(), Length(max=64)]))
        setattr(cls, f"generate_{n}", BooleanField(_l("Generate a secret now (shown once)")))
    return cls


_add_rows(TeamPrepareForm)


def prepare_values(form: TeamPrepareForm) -> tuple[list[dict], list[dict]]:
    sources = [{"name": getattr(form, f"source_{n}").data or "",
                "available_at": getattr(form, f"source_{n}_at").data or ""}
               for n in range(1, SOURCE_ROWS + 1)]
    secrets = [{"party": getattr(form, f"party_{n}").data or "",
                "sha256": getattr(form, f"sha256_{n}").data or "",
                "generate": bool(getattr(form, f"generate_{n}").data)}
               for n in range(1, PARTY_ROWS + 1)]
    return sources, secrets


def party_rows(form: TeamPrepareForm):
    return [(getattr(form, f"party_{n}"), getattr(form, f"sha256_{n}"),
             getattr(form, f"generate_{n}")) for n in range(1, PARTY_ROWS + 1)]


def source_rows(form: TeamPrepareForm):
    return [(getattr(form, f"source_{n}"), getattr(form, f"source_{n}_at"))
            for n in range(1, SOURCE_ROWS + 1)]


class TeamExecuteForm(FlaskForm):
    """Step 2: one field per declared source and per committed party (built per draw)."""


def execute_form(draw, formdata=None) -> TeamExecuteForm:
    """The execute form of ``draw``: ``source_N`` per declared source, ``secret_N`` per party."""
    class Form(TeamExecuteForm):
        pass

    if draw.entropy_mode != "system":
        for n, source in enumerate(draw.commitment.get("sources_declared", [])):
            setattr(Form, f"source_{n}", StringField(
                source.get("name", ""), validators=[DataRequired(), Length(max=400)],
                description=_l("The published numbers, separated by spaces.")))
    for n, secret in enumerate(draw.secrets):
        setattr(Form, f"secret_{n}", PasswordField(
            _l("Secret of %(party)s", party=secret.party),
            validators=[DataRequired(), Length(max=200)],
            render_kw={"autocomplete": "off"}))
    return Form(formdata) if formdata is not None else Form()


def execute_values(form, draw) -> tuple[list[str], dict[str, str]]:
    sources = []
    if draw.entropy_mode != "system":
        sources = [getattr(form, f"source_{n}").data or ""
                   for n in range(len(draw.commitment.get("sources_declared", [])))]
    revealed = {s.party: (getattr(form, f"secret_{n}").data or "")
                for n, s in enumerate(draw.secrets)}
    return sources, revealed


class CancelForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


def substitution_reason_choices():
    return [("", _l("— choose —")), ("post_change", _l("Post change")),
            ("schedule_conflict", _l("Schedule conflict")), ("health", _l("Health")),
            ("recusal", _l("Recusal"))]


class SubstitutionRequestForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=substitution_reason_choices(),
                         validators=[Optional()])
    note = TextAreaField(_l("Explanation"), validators=[Optional(), Length(max=2000)])


class SubstitutionDecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[("approve", _l("Approve")),
                                                    ("reject", _l("Reject"))])
    mode = SelectField(_l("Replacement"), choices=[
        ("reserve", _l("Next in reserve order (递补)")),
        ("approver_choice", _l("My choice among qualified inspectors"))])
    replacement = SelectField(_l("Inspector (for my choice)"), coerce=int,
                              validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
