"""The job queue's one table (docs/jobs.md).

A :class:`Job` row in the application's database is the truth about a piece of long work:
its kind and parameters, its state, its progress, the file it made (in the content-addressed
store) or why it failed. The queue itself (huey, embedded SQLite or Redis) only carries the
job's id to a worker; a message lost with a killed worker is put back by
:func:`inspection.jobs.operations.recover`.

    queued --claim--> running --> done
                              --> failed --retry--> queued
    running (worker gone: heartbeat stale) --recover--> queued
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import User, utcnow
from ..extensions import db


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(db.Model):
    """One piece of long work. ``key``: set by code that must not start the same work twice
    (a sealed revision's PDF, a day's reminders): a second submission with the key answers
    the job already there. ``attempts`` counts the claims; a worker writes progress and the
    result only while the row still carries its own claim (``status`` running and the same
    ``attempts``), so a worker thought dead that wakes up cannot overwrite a newer run."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=JobStatus.QUEUED.value, index=True)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    progress_message: Mapped[str] = mapped_column(String(200), default="")
    result_area: Mapped[str | None] = mapped_column(String(31))
    result_sha256: Mapped[str | None] = mapped_column(String(64))
    result_filename: Mapped[str | None] = mapped_column(String(200))
    result_content_type: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: ``host:pid`` of the worker running it (a worker starting on the same host puts back
    #: at once what a dead process of that host left running).
    worker: Mapped[str | None] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)

    created_by: Mapped[User | None] = relationship(lazy="raise")

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE.value, JobStatus.FAILED.value)

    @property
    def percent(self) -> int | None:
        """Done share in whole percent, None while the total is unknown."""
        if self.status == JobStatus.DONE.value:
            return 100
        if not self.progress_total:
            return None
        return max(0, min(100, self.progress_done * 100 // self.progress_total))
