"""What the task page shows of the archive (review/archive/_task_panel.html): one task, a
few queries."""
from __future__ import annotations

from typing import Any

from ...reports.models import TaskClosure
from ...extensions import db
from sqlalchemy import select

from . import operations as ops
from .views import ArchiveForm, RetentionForm


def archive_panel(task) -> dict[str, Any]:
    closure = db.session.scalar(select(TaskClosure).where(TaskClosure.task_id == task.id))
    row = ops.archive_of(task.id)
    return {"closure": closure, "archive": row,
            "deadline": ops.archive_deadline(closure.check_end) if closure else None,
            "today": ops.today(), "form": ArchiveForm(), "retention_form": RetentionForm(),
            "default_years": ops._settings().RETENTION_YEARS}
