"""The kinds of job this package registers itself: the day's reminders
(:func:`inspection.review.reminders.remind`), run by the worker's daily periodic task.

Other kinds are registered by the packages that own the work (the employers' XLSX export in
``directory/employers/export_job.py``, a sealed record's PDF in ``fieldwork/record_pdfs.py``,
reports and archives in theirs).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from .registry import JobFile, Kind, Progress, register


def _reminders(params: dict[str, Any], progress: Progress) -> JobFile | None:
    # Imported when the job runs: review does not load with the queue.
    from ..review.reminders import remind

    progress(0, 1, "")
    day = date.fromisoformat(params["date"]) if params.get("date") else None
    result = remind(day)
    if result.get("mail_failed"):
        # The inbox rows are committed; a retry mails what is still unmailed.
        raise RuntimeError("; ".join(result.get("errors") or ["mail failed"]))
    return None


def register_kinds() -> None:
    register(Kind("daily_reminders", lambda: str(_l("The day's deadline reminders")),
                  _reminders))
