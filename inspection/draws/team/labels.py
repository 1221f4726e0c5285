"""The team draw's labels, in the user's language: exclusion and substitution reasons, the
states shown on its pages, and how a replacement was found."""
from __future__ import annotations

from flask_babel import gettext as _


def reason_labels() -> dict[str, str]:
    return {"conflict": _("Declared conflict of interest"),
            "same_region": _("Same home region as the employer"),
            "last_inspector": _("On the employer's previous visit"),
            "not_available": _("Not available"),
            "certificate_expired": _("Certificate not valid on the visit's dates")}


def substitution_reason_labels() -> dict[str, str]:
    return {"post_change": _("Post change"), "schedule_conflict": _("Schedule conflict"),
            "health": _("Health"), "recusal": _("Recusal")}


def status_labels() -> dict[str, str]:
    """Visit, draw, task and substitution states as shown on the pages."""
    return {"planned": _("Planned"), "assigned": _("Assigned"), "in_progress": _("In progress"),
            "recorded": _("Recorded"), "closed": _("Closed"), "prepared": _("Prepared"),
            "executed": _("Executed"), "cancelled": _("Cancelled"),
            "targets_drawn": _("Targets drawn"), "teams_drawn": _("Teams drawn"),
            "requested": _("Awaiting a decision"), "approved": _("Approved"),
            "rejected": _("Rejected")}


def mode_labels() -> dict[str, str]:
    return {"reserve": _("Next in reserve order"),
            "approver_choice": _("Chosen by the approver")}
