"""What the task page shows of closing and the summary reports (planning/task.html
includes reports/_task_panel.html, which calls :func:`task_panel`). A single task: a few
queries."""
from __future__ import annotations

from typing import Any

from ..review.todo import task_progress
from . import operations as ops
from .forms import CloseForm, ReportForm


def task_panel(task) -> dict[str, Any]:
    progress = task_progress([task.id]).get(task.id, {"done": 0, "total": 0})
    closure = ops.closure_of(task.id)
    waiting = ops.not_done(task.id) if closure is None and progress["total"] else []
    return {"progress": progress, "closure": closure, "closable": task.status in ops.CLOSABLE,
            "waiting": waiting[:ops.NAMED], "more": max(0, len(waiting) - ops.NAMED),
            "reports": ops.task_reports(task.id), "close_form": CloseForm(),
            "report_form": ReportForm()}
