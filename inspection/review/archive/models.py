"""The case file of a closed task (seed 000 五): one ZIP in the file store (area
``archives``) with a manifest of SHA-256 hashes, and its retention."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ...core.models import utcnow
from ...extensions import db


class Archive(db.Model):
    """The archive of one task: the ZIP's and its manifest's SHA-256, the deadline it answered
    (``ARCHIVE_MONTHS`` after the end of the check), and how long it is kept
    (``RETENTION_YEARS`` after archiving, or ``retention_years`` when set longer for the
    task). A purge removes the ZIP from the store and keeps this row, ``purged_at`` set, as
    the tombstone (the audit trail holds the removed files' hashes)."""

    __tablename__ = "case_archive"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    #: The number of files in the manifest (manifest.json itself not counted).
    entries: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: The end of the check, the deadline (end + ARCHIVE_MONTHS) and whether it was met.
    check_end: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    on_time: Mapped[bool] = mapped_column(Boolean)
    retention_years: Mapped[int] = mapped_column(Integer)
    retention_until: Mapped[date] = mapped_column(Date, index=True)
    #: Why the task is kept longer than the bureau's default (another rule, seed 000 五).
    retention_reason: Mapped[str] = mapped_column(Text, default="")
    purged_at: Mapped[datetime | None] = mapped_column(DateTime)
    purged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
