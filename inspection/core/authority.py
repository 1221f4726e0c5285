"""Who approves what: approval authority per act and department (DOMAIN.md "Approvers differ
by act").

A user approves an act when they hold the approver role, a position in their department that
the bureau's setting names for that act (``APPROVE_<ACT>``: head 负责人, deputy_head 分管负责人,
principal_head 主要负责人), and belong to the department that owns the matter. Four eyes
everywhere: nobody approves their own proposal, nor a visit they were on (the callers pass
the people concerned).
"""
from __future__ import annotations

import enum
from typing import Iterable

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l

from ..config import split_list
from .errors import PermissionDenied
from .models import Position, Role, User


class Act(str, enum.Enum):
    DETERMINATION = "determination"
    PUBLICATION_EXCEPTION = "publication_exception"
    CORRECTION = "correction"
    SUBSTITUTION = "substitution"


POSITION_LABELS = {
    Position.HEAD.value: _l("Head"),
    Position.DEPUTY_HEAD.value: _l("Deputy head"),
    Position.PRINCIPAL_HEAD.value: _l("Principal head"),
}


def positions_for(act: Act) -> list[str]:
    """The positions that approve ``act`` under the bureau's setting."""
    settings = current_app.config["SETTINGS"]
    return split_list(getattr(settings, f"APPROVE_{act.name}"))


def may_approve(user: User | None, act: Act, department_id: int | None = None) -> bool:
    """Whether ``user`` holds the authority for ``act`` (of the department, when given)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not user.has_role(Role.APPROVER):
        return False
    if user.position not in positions_for(act):
        return False
    return department_id is None or user.department_id == department_id


def check_approver(user: User | None, act: Act, *, department_id: int | None = None,
                   proposer_id: int | None = None,
                   participant_ids: Iterable[int] = ()) -> None:
    """Raise :class:`PermissionDenied` with the reason unless ``user`` may approve."""
    if user is None or not user.has_role(Role.APPROVER):
        raise PermissionDenied(_("Only an approver decides this."))
    allowed = positions_for(act)
    if user.position not in allowed:
        names = "、".join(str(POSITION_LABELS[p]) for p in allowed)
        raise PermissionDenied(_("This is approved by: %(positions)s. Your position does not "
                                 "allow it.", positions=names))
    if department_id is not None and user.department_id != department_id:
        raise PermissionDenied(_("This is approved in the department that owns it, not in "
                                 "yours."))
    if proposer_id is not None and proposer_id == user.id:
        raise PermissionDenied(_("Four eyes: nobody approves their own proposal."))
    if user.id in set(participant_ids):
        raise PermissionDenied(_("Four eyes: nobody approves a visit they were on."))
