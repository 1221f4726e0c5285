"""Visits (one employer, one trip): what the draws produce and the field app works on.

An employer drawn in several open tasks gets ONE visit covering all their items
("进一次门、查多项事", seed 001 第十二条, 004 第九条): :class:`VisitTask` links it to each task.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import utcnow
from ..directory.models import Employer
from ..extensions import db


class VisitStatus(str, enum.Enum):
    PLANNED = "planned"          # drawn, team not yet drawn
    ASSIGNED = "assigned"        # team drawn
    IN_PROGRESS = "in_progress"
    RECORDED = "recorded"        # sealed record received
    CLOSED = "closed"


class Visit(db.Model):
    __tablename__ = "visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public number, e.g. 2026-0001 (printed on documents).
    number: Mapped[str] = mapped_column(String(30), unique=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=VisitStatus.PLANNED.value)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    employer: Mapped[Employer] = relationship()
    tasks: Mapped[list[VisitTask]] = relationship(back_populates="visit", order_by="VisitTask.id")
    items: Mapped[list[VisitItem]] = relationship(back_populates="visit", order_by="VisitItem.id")


class VisitTask(db.Model):
    """The visit serves this task; ``rank`` is the employer's selection order in the task's
    draw (for key items at 100% the draw fixes the order of visits)."""

    __tablename__ = "visit_task"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"))
    pool_name: Mapped[str] = mapped_column(String(40))
    rank: Mapped[int] = mapped_column(Integer)

    visit: Mapped[Visit] = relationship(back_populates="tasks")

    __table_args__ = (UniqueConstraint("visit_id", "task_id", name="uq_visit_task_pair"),)


class VisitItem(db.Model):
    """A check item (pinned version) to check on this visit, for a task."""

    __tablename__ = "visit_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    item_version_id: Mapped[int] = mapped_column(ForeignKey("check_item_version.id"))

    visit: Mapped[Visit] = relationship(back_populates="items")

    __table_args__ = (UniqueConstraint("visit_id", "item_version_id", name="uq_visit_item_pair"),)
