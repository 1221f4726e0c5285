"""Annual plans (年度抽查计划) and tasks (抽查任务): seed 000 三(一)-(三), 001 第九-十条,
003 三(五), 004 第六-九条."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalogue.models import CheckItemVersion
from ..core.models import Department, User, utcnow
from ..extensions import db


class PlanStatus(str, enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"     # a later revision replaced it


class TaskStatus(str, enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    TARGETS_DRAWN = "targets_drawn"
    TEAMS_DRAWN = "teams_drawn"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class TaskType(str, enum.Enum):
    UNDIRECTED = "undirected"     # 不定向: the whole directory
    DIRECTED = "directed"         # 定向: filtered by region, industry, type, grade, flags


#: Seed 004: A ≥ 1% once a year, B ≥ 3% once, C ≥ 10% twice, D ≥ 20% three times.
DEFAULT_GRADE_RULES = {
    "A": {"ratio": "0.01", "frequency": 1},
    "B": {"ratio": "0.03", "frequency": 1},
    "C": {"ratio": "0.10", "frequency": 2},
    "D": {"ratio": "0.20", "frequency": 3},
}


class AnnualPlan(db.Model):
    """One revision of a year's plan. Changes after approval make a new revision that points
    to the one it replaces; the approved text stays on record."""

    __tablename__ = "annual_plan"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("annual_plan.id"))
    title: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(Text, default="")
    inspector_requirements: Mapped[str] = mapped_column(Text, default="")
    #: {"A": {"ratio": "0.01", "frequency": 1}, ...}
    grade_rules: Mapped[dict] = mapped_column(JSON, default=lambda: dict(DEFAULT_GRADE_RULES))
    #: At most this many random checks of one employer a year (seed 001 第十一条).
    yearly_cap: Mapped[int] = mapped_column(Integer, default=2)
    schedule: Mapped[str] = mapped_column(Text, default="")
    procedure: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=PlanStatus.DRAFT.value)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    published_on: Mapped[date | None] = mapped_column(Date)
    change_note: Mapped[str] = mapped_column(Text, default="")
    #: The approver's note on the last approval or rejection.
    review_note: Mapped[str] = mapped_column(Text, default="")

    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    tasks: Mapped[list[Task]] = relationship(back_populates="plan", order_by="Task.id")

    __table_args__ = (UniqueConstraint("year", "revision", name="uq_annual_plan_year_revision"),)


class Task(db.Model):
    """One campaign (抽查任务 / 实施方案)."""

    __tablename__ = "task"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("annual_plan.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    lead_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    task_type: Mapped[str] = mapped_column(String(20), default=TaskType.UNDIRECTED.value)
    #: Directed tasks: {"regions": [...], "industries": [...], "employer_types": [...],
    #: "grades": [...], "flags": ["complaints", "abnormal", "serious_violation"]}
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    method: Mapped[str] = mapped_column(String(20), default="on_site")
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    #: False for unannounced visits (no advance notice).
    announced: Mapped[bool] = mapped_column(Boolean, default=True)
    inspectors_per_visit: Mapped[int] = mapped_column(Integer, default=2)
    #: {"A": "0.01", ...}; a key item may go to "1.00" (the draw then fixes the visit order).
    grade_ratios: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.DRAFT.value, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: The approver's note on the last approval or rejection.
    review_note: Mapped[str] = mapped_column(Text, default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    plan: Mapped[AnnualPlan] = relationship(back_populates="tasks")
    lead_department: Mapped[Department] = relationship()
    departments: Mapped[list[TaskDepartment]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="TaskDepartment.id")
    items: Mapped[list[TaskItem]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="TaskItem.id")

    @property
    def is_joint(self) -> bool:
        return len(self.departments) > 1


class TaskDepartment(db.Model):
    """A department taking part in a task; the lead department is one of them."""

    __tablename__ = "task_department"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)

    task: Mapped[Task] = relationship(back_populates="departments")
    department: Mapped[Department] = relationship()

    __table_args__ = (UniqueConstraint("task_id", "department_id",
                                       name="uq_task_department_pair"),)


class TaskItem(db.Model):
    """A check item of the task, pinned to the version current when it was added."""

    __tablename__ = "task_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("check_item_version.id"))

    task: Mapped[Task] = relationship(back_populates="items")
    item_version: Mapped[CheckItemVersion] = relationship()

    __table_args__ = (UniqueConstraint("task_id", "item_version_id", name="uq_task_item_pair"),)
