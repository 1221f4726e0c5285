"""The numbers and small helpers of planning's rules, below :mod:`.queries`, :mod:`.schemas`,
:mod:`.plans` and :mod:`.tasks` (the rules themselves are described in :mod:`.plans` and
:mod:`.tasks` and checked by the load schemas of :mod:`.schemas`)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from flask_babel import gettext as _

from ..core.errors import ValidationFailed
from ..core.models import User
from ..core.ratios import percent as _percent
from ..core.timeutil import LOCAL
from ..directory.models import RiskGrade
from .models import DEFAULT_GRADE_RULES, PlanStatus, TaskStatus

GRADES = tuple(g.value for g in RiskGrade)
#: Ceiling of a task's ratio when none of its items is a key item (and of a plan's ratio).
GENERAL_TASK_RATIO_CEILING = Decimal("0.50")
#: Ceiling of a task's ratio when one of its items is a key item.
KEY_TASK_RATIO_CEILING = Decimal("1.00")
MIN_INSPECTORS_PER_VISIT = 2
MAX_INSPECTORS_PER_VISIT = 10
MAX_FREQUENCY = 12
MAX_YEARLY_CAP = 12
YEAR_RANGE = (2000, 2100)
NAME_MAX = 200
TEXT_MAX = 8000
#: Directed-task flags and the Employer columns they test (any flag set matches).
FLAGS = {"complaints": "flag_complaints", "abnormal": "flag_abnormal",
         "serious_violation": "flag_serious_violation"}
FILTER_KEYS = ("regions", "industries", "employer_types", "grades", "flags")
#: Plan states in which a plan is in force; task states before the target draw.
IN_FORCE = (PlanStatus.APPROVED.value, PlanStatus.PUBLISHED.value)
CANCELLABLE = (TaskStatus.DRAFT.value, TaskStatus.SUBMITTED.value, TaskStatus.APPROVED.value)

PLAN_FIELDS = ("title", "scope", "inspector_requirements", "grade_rules", "yearly_cap",
               "schedule", "procedure", "change_note")
TASK_FIELDS = ("name", "description", "lead_department_id", "department_ids", "item_ids",
               "task_type", "filters", "method", "window_start", "window_end", "announced",
               "inspectors_per_visit", "grade_ratios")


def local_today() -> date:
    return datetime.now(LOCAL).date()


def ratio_text(value: Decimal) -> str:
    """A ratio as stored: at least two decimals, at most four (0.1 -> "0.10", 1 -> "1.00")."""
    text = f"{Decimal(value).quantize(Decimal('0.0001')):f}".rstrip("0")
    whole, _dot, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def percent(value: Any) -> str:
    """"0.10" -> "10%"."""
    try:
        return _percent(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def default_grade_rules() -> dict[str, dict[str, Any]]:
    return {g: dict(rule) for g, rule in DEFAULT_GRADE_RULES.items()}


def audit_value(value: Any) -> Any:
    """A value as the audit trail records it (dates in ISO, ratios as stored)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return ratio_text(value)
    return value


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list]:
    """``{key: [before, after]}`` of the keys of ``after`` whose value changed."""
    return {key: [audit_value(before.get(key)), audit_value(after[key])] for key in after
            if before.get(key) != after[key]}


def actor_id(actor: User | None) -> int | None:
    return actor.id if actor else None


def check_note(note: str | None, required: bool, field: str = "note") -> str:
    """A review note or reason, stripped; refused when required and empty, or too long."""
    note = (note or "").strip()
    if required and not note:
        raise ValidationFailed(_("Give a note saying why."), {field: [_("A note is required.")]})
    if len(note) > TEXT_MAX:
        raise ValidationFailed(_("The note is too long."),
                               {field: [_("At most %(n)d characters.", n=TEXT_MAX)]})
    return note
