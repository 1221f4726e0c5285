"""Fixtures of the draws' tests."""
from datetime import date

import pytest

from inspection.extensions import db
from inspection.planning.models import AnnualPlan, Task


@pytest.fixture
def task_id(app, department):
    """A bare approved task to draw for, without directories: the generic two steps of a draw
    (commitments, the public log) need nothing else."""
    with app.app_context():
        plan = AnnualPlan(year=2026, title="2026", status="approved")
        task = Task(plan=plan, name="工资专项", lead_department_id=department,
                    window_start=date(2026, 3, 1), window_end=date(2026, 6, 30))
        db.session.add(task)
        db.session.commit()
        return task.id
