"""Archiving a closed task's case file, checking it, and removing what is past retention
(seed 000 五; docs/archive.md).

* :func:`run_archive` -- the job ``task_archive``: the case file (:mod:`.casefile`) written as
  one ZIP in a fixed order with ``manifest.json`` (path, SHA-256, size, part and what it is,
  per file), verified after writing (opened again, every entry hashed against the
  manifest), then kept in the file store (area ``archives``) and recorded as an
  :class:`.models.Archive` with its deadline (``ARCHIVE_MONTHS`` calendar months after the
  end of the check) and its retention (``RETENTION_YEARS`` after archiving, or longer).
* :func:`verify_file` -- a ZIP against its manifest, and the manifest against the hash kept
  on the task's archive row (``flask --app app archive verify FILE``).
* :func:`purge` -- archives past retention (``flask --app app retention purge
  [--dry-run]``): the ZIP is removed from the store unless something not yet due keeps the
  same file; the row stays as the tombstone and an audit entry lists the removed files'
  hashes. Nothing else is ever removed: the records, photos and signatures of the visits
  stay (they are the employers' history and append-only; docs/archive.md).
"""
from __future__ import annotations

import calendar
import json
import os
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...core import audit, storage
from ...core.errors import Conflict, NotFound, ValidationFailed
from ...core.models import Department, Role, User, utcnow
from ...core.timeutil import to_local
from ...extensions import db
from ...jobs.registry import JobFile, Progress
from ...planning.models import Task, TaskStatus
from ...reports.models import TaskClosure
from . import casefile
from .models import Archive
from .verify import MANIFEST, Problem, verify
from ...jobs.operations import work_dir
from ...core.fields import load
from .schemas import ArchiveParamsSchema
from ...jobs import operations as jobs_ops
from ..todo import Item

AREA = "archives"
FORMAT = "inspection-case-file/1"
#: Every entry carries this time (the ZIP format's earliest): the same case file gives the
#: same bytes, whenever it is made.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
CONTENT_TYPE = "application/zip"


class ArchiveBroken(RuntimeError):
    """A case file failed its own check after it was written (never kept)."""


def _settings():
    return current_app.config["SETTINGS"]


def today() -> date:
    return to_local(utcnow()).date()


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (the month's last day when it has no
    such day: 31 December + 2 months = 28/29 February)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def archive_deadline(check_end: date) -> date:
    """``ARCHIVE_MONTHS`` after the end of the check (seed 000 五: within 2 months)."""
    return add_months(check_end, _settings().ARCHIVE_MONTHS)


def get_task(task_id: int) -> Task:
    task = db.session.get(Task, task_id)
    if task is None:
        raise NotFound(_("No such task."))
    return task


def archive_of(task_id: int) -> Archive | None:
    return db.session.scalar(select(Archive).where(Archive.task_id == task_id))


def get_archive(task_id: int) -> Archive:
    row = archive_of(task_id)
    if row is None:
        raise NotFound(_("This task has no archive."))
    return row


def _closure(task: Task) -> TaskClosure:
    closure = db.session.scalar(select(TaskClosure).where(TaskClosure.task_id == task.id))
    if task.status != TaskStatus.CLOSED.value or closure is None:
        raise Conflict(_("Only a closed task is archived: close the task first."))
    return closure


# --- making the ZIP -----------------------------------------------------------------------------

def _info(path: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.create_system = 3
    return info


def write_zip(task: Task, target: Path, progress: Progress | None = None
              ) -> tuple[dict[str, Any], str]:
    """Write the case file of ``task`` to ``target``: (manifest, manifest's SHA-256)."""
    import hashlib

    files: list[dict[str, Any]] = []
    seen: set[str] = set()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for n, (path, part, about, content) in enumerate(casefile.parts(task.id)):
            if path in seen or path == MANIFEST:
                raise ArchiveBroken(f"two parts named {path}")
            seen.add(path)
            data = content() if callable(content) else content
            out.writestr(_info(path), data)
            files.append({"path": path, "sha256": hashlib.sha256(data).hexdigest(),
                          "size": len(data), "part": part, "about": about})
            if progress is not None and n % 10 == 0:
                progress(n, None, path)
        manifest = {"format": FORMAT, "bureau": _settings().BUREAU_NAME,
                    "task": {"id": task.id, "name": task.name, "year": task.plan.year},
                    "files": files}
        body = (json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
                ).encode("utf-8")
        out.writestr(_info(MANIFEST), body)
    return manifest, hashlib.sha256(body).hexdigest()


def _scratch() -> tempfile.TemporaryDirectory:
    """A scratch directory: the job's own (emptied by the queue) when run as a job."""
    try:

        base = work_dir()
    except (ImportError, RuntimeError):
        base = None
    return tempfile.TemporaryDirectory(dir=base)


def file_name(task: Task) -> str:
    return f"案卷-{task.plan.year}-{task.id}.zip"


def make_archive(task_id: int, *, actor: User | None,
                 progress: Progress | None = None) -> Archive:
    """Archive the closed task (the job's work). Safe to run again: a task archived answers
    its archive."""
    task = get_task(task_id)
    closure = _closure(task)
    existing = archive_of(task.id)
    if existing is not None:
        return existing
    with _scratch() as scratch:
        target = Path(scratch) / "case-file.zip"
        manifest, manifest_sha = write_zip(task, target, progress)
        checked, checked_sha, problem = verify(target)
        if problem is not None or checked_sha != manifest_sha:
            raise ArchiveBroken(f"the case file failed its check: {problem or 'manifest'}")
        size = target.stat().st_size
        with target.open("rb") as stream:
            sha = storage.put_stream(AREA, stream)
    settings = _settings()
    now = utcnow()
    day = to_local(now).date()
    deadline = archive_deadline(closure.check_end)
    row = Archive(task_id=task.id, sha256=sha, size=size, manifest_sha256=manifest_sha,
                  entries=len(manifest["files"]), file_name=file_name(task), created_at=now,
                  created_by_id=actor.id if actor else None, check_end=closure.check_end,
                  deadline=deadline, on_time=day <= deadline,
                  retention_years=settings.RETENTION_YEARS,
                  retention_until=add_years(day, settings.RETENTION_YEARS),
                  retention_reason="")
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:  # archived meanwhile by another worker: theirs stands
        db.session.rollback()
        return get_archive(task.id)
    audit.record("archive.create", "task", task.id,
                 {"sha256": sha, "size": size, "manifest_sha256": manifest_sha,
                  "entries": row.entries, "deadline": deadline.isoformat(),
                  "on_time": row.on_time, "retention_until": row.retention_until.isoformat()},
                 actor=actor)
    db.session.commit()
    return row


def run_archive(params: dict[str, Any], progress: Progress) -> JobFile:
    """The job ``task_archive``: params ``{"task_id", "user_id"}``."""

    clean = load(ArchiveParamsSchema(), params)
    actor = db.session.get(User, clean["user_id"]) if clean.get("user_id") else None
    progress(0, None, _("Collecting the case file"))
    row = make_archive(clean["task_id"], actor=actor, progress=progress)
    if row.purged_at is not None:
        raise Conflict(_("This task's archive was removed after its retention period."))
    return JobFile(AREA, row.sha256, row.file_name, CONTENT_TYPE)


def submit_archive(task_id: int, *, actor: User):
    """Submit the archiving of a closed task to the job queue (its job, to follow)."""

    task = get_task(task_id)
    _closure(task)
    if archive_of(task.id) is not None:
        raise Conflict(_("This task is archived already."))
    return jobs_ops.submit("task_archive", {"task_id": task.id, "user_id": actor.id}, actor)


def open_archive(task_id: int):
    """(row, open file) of the task's archive, its bytes checked against their hash."""
    row = get_archive(task_id)
    if row.purged_at is not None:
        raise NotFound(_("This task's archive was removed after its retention period."))
    try:
        return row, storage.open_checked(AREA, row.sha256)
    except storage.StoreError:
        raise NotFound(_("The archive's file is missing from the store or damaged.")) from None


# --- checking a file ----------------------------------------------------------------------------

def verify_file(path: str) -> tuple[bool, str]:
    """Check a case-file ZIP (anywhere): every entry against the manifest; then, when this
    database has the task's archive, the manifest against the hash kept for it."""
    manifest, manifest_sha, problem = verify(path)
    if problem is not None:
        return False, str(problem)
    task_id = (manifest.get("task") or {}).get("id")
    row = archive_of(task_id) if isinstance(task_id, int) else None
    if row is None:
        return True, (f"{len(manifest['files'])} files match the manifest (no archive of "
                      f"task {task_id} in this database to compare the manifest with)")
    if row.manifest_sha256 != manifest_sha:
        return False, str(Problem("manifest", MANIFEST,
                                  f"its SHA-256 is not the one recorded for task {task_id}'s "
                                  "archive: altered"))
    return True, (f"{len(manifest['files'])} files match the manifest, and the manifest is the "
                  f"one recorded for task {task_id}'s archive")


# --- retention ----------------------------------------------------------------------------------

def set_retention(task_id: int, years: int, reason: str, *, actor: User | None) -> Archive:
    """Keep a task's case file longer than the default (another rule sets a longer period,
    seed 000 五): never shorter than ``RETENTION_YEARS``."""
    row = get_archive(task_id)
    reason = (reason or "").strip()
    errors = {}
    if not isinstance(years, int) or years < _settings().RETENTION_YEARS or years > 100:
        errors["years"] = [_("From %(min)d to 100 years.", min=_settings().RETENTION_YEARS)]
    if not reason:
        errors["reason"] = [_("Say which rule sets the longer period.")]
    if errors:
        raise ValidationFailed(_("Some values are not valid."), fields=errors)
    if row.purged_at is not None:
        raise Conflict(_("This task's archive was removed after its retention period."))
    old = (row.retention_years, row.retention_until.isoformat())
    row.retention_years = years
    row.retention_until = add_years(to_local(row.created_at).date(), years)
    row.retention_reason = reason
    audit.record("archive.retention", "task", task_id,
                 {"retention_years": [old[0], years],
                  "retention_until": [old[1], row.retention_until.isoformat()],
                  "reason": reason}, actor=actor)
    db.session.commit()
    return row


def due_for_purge(day: date | None = None) -> list[Archive]:
    """Archives past retention (``retention_until`` before ``day``), not yet removed."""
    day = day or today()
    return db.session.scalars(select(Archive).where(
        Archive.purged_at.is_(None), Archive.retention_until < day)
        .order_by(Archive.retention_until, Archive.id)).all()


def purge(*, dry_run: bool, day: date | None = None, actor: User | None = None
          ) -> list[dict[str, Any]]:
    """Remove the archives past retention (or, ``dry_run``, only list them). Each removal
    deletes the ZIP from the store (unless an archive not yet due keeps the same file),
    marks the row purged and writes a tombstone to the audit trail with the removed files'
    hashes (the ZIP's, the manifest's and every entry's), in one transaction per archive."""
    day = day or today()
    due = due_for_purge(day)
    kept_files = set(db.session.scalars(select(Archive.sha256).where(
        Archive.purged_at.is_(None), Archive.retention_until >= day)))
    out = []
    for row in due:
        entries = _entries(row)
        shared = row.sha256 in kept_files
        item = {"task_id": row.task_id, "sha256": row.sha256, "size": row.size,
                "retention_until": row.retention_until.isoformat(),
                "manifest_sha256": row.manifest_sha256, "entries": len(entries),
                "file_kept": shared}
        out.append(item)
        if dry_run:
            continue
        removed = not shared and _remove(AREA, row.sha256)
        row.purged_at = utcnow()
        row.purged_by_id = actor.id if actor else None
        audit.record("archive.purge", "task", row.task_id,
                     {"removed": [{"area": AREA, "sha256": row.sha256, "size": row.size}]
                      if removed else [],
                      "kept_for_another": shared, "manifest_sha256": row.manifest_sha256,
                      "retention_until": row.retention_until.isoformat(),
                      "entries": entries}, actor=actor)
        db.session.commit()
    return out


def _entries(row: Archive) -> list[dict[str, Any]]:
    """The manifest's files (path, sha256, size) of an archive still in the store."""
    try:
        with storage.open_checked(AREA, row.sha256) as stream, zipfile.ZipFile(stream) as z:
            manifest = json.loads(z.read(MANIFEST).decode("utf-8"))
        return [{"path": f["path"], "sha256": f["sha256"], "size": f["size"]}
                for f in manifest.get("files", [])]
    except (storage.StoreError, zipfile.BadZipFile, KeyError, ValueError):
        return []


def _remove(area: str, sha: str) -> bool:
    try:
        os.unlink(storage.path(area, sha))
        return True
    except FileNotFoundError:
        return False


# --- the deadlines page ---------------------------------------------------------------------------

ARCHIVE_KIND = "archive"


def archive_items(today_: date) -> list:
    """Closed tasks not yet archived, due ``ARCHIVE_MONTHS`` after the end of their check:
    one query."""

    rows = db.session.execute(
        select(Task.id, Task.name, Department.id, Department.name, TaskClosure.check_end)
        .join(TaskClosure, TaskClosure.task_id == Task.id)
        .join(Department, Department.id == Task.lead_department_id)
        .outerjoin(Archive, Archive.task_id == Task.id)
        .where(Task.status == TaskStatus.CLOSED.value, Archive.id.is_(None))
        .order_by(Task.id)).all()
    return [Item(kind=ARCHIVE_KIND, object=f"task:{task_id}", link=f"/tasks/{task_id}",
                 due=archive_deadline(end), task_id=task_id, task=name, department_id=dept_id,
                 department=dept, role=Role.OFFICE.value)
            for task_id, name, dept_id, dept, end in rows]


def archive_item_title(item) -> str:
    return _("Archive the case file of %(task)s", task=item.task)
