"""Closing a task and the summary reports made of it (seed 001 第十五、十六条).

A task is closed when every visit is done (published, or withheld by an approved exception;
:data:`~inspection.fieldwork.models.DONE_STATUSES`); :class:`TaskClosure` keeps who closed it,
when, and the end of its check (the clock of the archive, seed 000 五). A summary report made
by the job queue is kept in the file store (area ``reports``) and listed by
:class:`SummaryReport`."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.models import utcnow
from ..extensions import db


class ReportKind(str, enum.Enum):
    TASK = "task"      # 抽查总结报告 of one task (seed 001 第十五条)
    YEAR = "year"      # the year's summary (seed 001 第十六条)


class TaskClosure(db.Model):
    """A task was closed (its status is ``closed``): by whom, when, and the end of its check:
    the latest day of check of its visits (the task's window end when none has a record)."""

    __tablename__ = "task_closure"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), unique=True)
    closed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    check_end: Mapped[date] = mapped_column(Date)
    visits: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")


class SummaryReport(db.Model):
    """A summary report made (PDF or XLSX), in the file store under area ``reports``."""

    __tablename__ = "summary_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: task | year
    kind: Mapped[str] = mapped_column(String(10))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    #: pdf | xlsx
    format: Mapped[str] = mapped_column(String(4))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    made_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    made_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
