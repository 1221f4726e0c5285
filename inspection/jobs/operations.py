"""The job queue's operations (docs/jobs.md): submit, run, retry, recover, read.

The :class:`~.models.Job` row is the truth; the queue (:mod:`.queue`) only carries its id.

* :func:`submit` commits the row (and its audit entry), then puts its id on the queue. With
  ``JOBS_MODE=held`` (tests) nothing is put anywhere: the job waits until
  :func:`run_pending` runs every waiting job in-process.
* :func:`run` claims the row atomically (``queued`` -> ``running``, ``attempts`` + 1: of two
  workers handed the same id, one runs it; a done job never runs again), calls the kind's
  handler in the app context with a progress callback (written at most every
  :data:`PROGRESS_SECONDS`), and stores the file it made or why it failed. A heartbeat thread
  keeps ``heartbeat_at`` fresh while the handler works.
* :func:`recover` (at a worker's start and every minute) puts back jobs left ``running`` by a
  worker that died: on the same host at once (its process is gone), elsewhere when the
  heartbeat is older than :data:`STALE_SECONDS`; after :data:`MAX_ATTEMPTS` it gives up and
  says why. It also enqueues again jobs queued long ago whose message was lost.

A handler writes its file only through the content-addressed store (atomic), and its scratch
files only under :func:`work_dir`, emptied before every run and after it: a worker killed in
the middle leaves no half-written file behind, and the job runs again from the start.
"""
from __future__ import annotations

import contextvars
import logging
import os
import shutil
import socket
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import joinedload

from ..core import audit, storage
from ..core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from ..core.models import Role, User, utcnow
from ..core.timeutil import to_local
from ..extensions import db
from . import queue, registry
from .models import Job, JobStatus

log = logging.getLogger(__name__)

#: Progress is written at most this often (seconds).
PROGRESS_SECONDS = 0.5
#: The heartbeat of a running job is written this often ...
HEARTBEAT_SECONDS = 5.0
#: ... and a running job whose heartbeat is older than this belongs to a dead worker.
STALE_SECONDS = 60
#: A job whose worker died this many times is failed, not run again.
MAX_ATTEMPTS = 3
#: Roles that see (and may retry) every job, not only their own.
SEE_ALL = (Role.ADMIN, Role.OFFICE)
#: Jobs per page of the list.
PER_PAGE = 50

_CURRENT_JOB: contextvars.ContextVar[int | None] = contextvars.ContextVar("job", default=None)


# --- reading and who may --------------------------------------------------------------------

def can_see(user: User, job: Job) -> bool:
    return (job.created_by_id is not None and job.created_by_id == user.id) or \
        user.has_role(*SEE_ALL)


def get_job(job_id: int, user: User | None = None) -> Job:
    """The job, if ``user`` may see it (404 otherwise: another's job does not exist for
    them)."""
    job = db.session.scalar(select(Job).options(joinedload(Job.created_by))
                            .where(Job.id == job_id))
    if job is None or (user is not None and not can_see(user, job)):
        raise NotFound(_("No such job."))
    return job


@dataclass
class Page:
    items: list[Job]
    next_before: int | None


def list_jobs(user: User, *, everyone: bool = False, before: int | None = None,
              limit: int = PER_PAGE) -> Page:
    """The user's jobs (``everyone``: all jobs, for those who see all), newest first, paged
    by keyset: two statements whatever the number of jobs."""
    query = select(Job).options(joinedload(Job.created_by)).order_by(Job.id.desc())
    if not (everyone and user.has_role(*SEE_ALL)):
        query = query.where(Job.created_by_id == user.id)
    if before:
        query = query.where(Job.id < before)
    rows = list(db.session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].id if more and rows else None)


def label(job: Job) -> str:
    try:
        return registry.get(job.kind).label()
    except KeyError:
        return job.kind


def open_result(job: Job):
    """The job's file, opened after checking its hash (404 while there is none)."""
    if job.status != JobStatus.DONE.value or not job.result_sha256:
        raise NotFound(_("This job has no file to download."))
    try:
        return storage.open_checked(job.result_area, job.result_sha256)
    except storage.StoreError:
        raise NotFound(_("The job's file is no longer in the store.")) from None


def done_job(key: str) -> Job | None:
    """The done job submitted under ``key`` (e.g. a sealed revision's PDF), or None."""
    return db.session.scalar(select(Job).where(Job.key == key,
                                               Job.status == JobStatus.DONE.value))


# --- submitting -------------------------------------------------------------------------------

def _kind(name: str) -> registry.Kind:
    try:
        return registry.get(name)
    except KeyError:
        raise ValidationFailed(_("Unknown kind of job."), {"kind": [_("Unknown kind of job.")]}) \
            from None


def submit(kind_name: str, params: dict[str, Any], user: User | None, *,
           key: str | None = None) -> Job:
    """Record a job (committed with its audit entry), then put it on the queue. With a
    ``key``, a job already submitted under it is answered instead (whatever its state)."""
    kind = _kind(kind_name)
    if key:
        existing = db.session.scalar(select(Job).where(Job.key == key))
        if existing is not None:
            return existing
    job = Job(kind=kind.name, key=key, params=dict(params or {}),
              status=JobStatus.QUEUED.value, progress_done=0, progress_message="",
              attempts=0, created_by_id=user.id if user else None, created_at=utcnow())
    db.session.add(job)
    try:
        db.session.flush()
    except IntegrityError:  # the same key submitted meanwhile
        db.session.rollback()
        existing = db.session.scalar(select(Job).where(Job.key == key))
        if existing is None:
            raise
        return existing
    audit.record("job.submit", "job", job.id, {"kind": kind.name, "params": job.params,
                                                "key": key}, actor=user)
    db.session.commit()
    queue.current().enqueue(job.id)
    return job


def submit_as(kind_name: str, params: dict[str, Any], user: User) -> Job:
    """Submission through the generic job pages: only kinds that name the roles that may."""
    kind = _kind(kind_name)
    if not kind.roles or not user.has_role(*kind.roles):
        raise PermissionDenied(_("Your role does not allow this kind of job."))
    return submit(kind_name, params, user)


def retry(job_id: int, user: User | None) -> Job:
    """Run a failed job again from the start (its owner, or the office and admin)."""
    job = get_job(job_id, user)
    if job.status != JobStatus.FAILED.value:
        raise Conflict(_("Only a failed job can be retried."))
    done = db.session.execute(update(Job).where(
        Job.id == job.id, Job.status == JobStatus.FAILED.value).values(
        status=JobStatus.QUEUED.value, error=None, progress_done=0, progress_total=None,
        progress_message="", started_at=None, finished_at=None, heartbeat_at=None,
        worker=None)).rowcount  # attempts go on counting: a claim's number is never reused
    if not done:
        db.session.rollback()
        raise Conflict(_("Only a failed job can be retried."))
    audit.record("job.retry", "job", job.id, {"kind": job.kind}, actor=user)
    db.session.commit()
    db.session.refresh(job)
    queue.current().enqueue(job.id)
    return job


# --- running ----------------------------------------------------------------------------------

def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def work_dir() -> Path:
    """A scratch folder for the running job (next to the store, emptied before and after
    each run): a handler's temporary files go here, never anywhere else."""
    job_id = _CURRENT_JOB.get()
    if job_id is None:
        raise RuntimeError("work_dir() is for a running job's handler")
    path = _work_path(job_id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _work_path(job_id: int) -> Path:
    return storage.root() / ".jobs-work" / str(job_id)


def _claim(job_id: int) -> int | None:
    """``queued`` -> ``running`` for this worker; the claim's number (``attempts``) or None
    when the job is not waiting (done, failed, or claimed by another worker)."""
    now = utcnow()
    claimed = db.session.execute(update(Job).where(
        Job.id == job_id, Job.status == JobStatus.QUEUED.value).values(
        status=JobStatus.RUNNING.value, attempts=Job.attempts + 1, started_at=now,
        heartbeat_at=now, worker=worker_name(), error=None)).rowcount
    if not claimed:
        db.session.rollback()
        return None
    attempts = db.session.scalar(select(Job.attempts).where(Job.id == job_id))
    db.session.commit()
    return attempts


def _mine(job_id: int, token: int):
    return (Job.id == job_id, Job.status == JobStatus.RUNNING.value, Job.attempts == token)


def _write(engine, job_id: int, token: int, **values) -> None:
    """Progress and heartbeat: on a connection of their own (the handler's session may be
    reading a cursor), best effort (a locked database skips one write)."""
    try:
        with engine.begin() as conn:
            conn.execute(update(Job).where(*_mine(job_id, token)).values(**values))
    except OperationalError:
        log.warning("job %s: progress not written (database busy)", job_id)


class _Heartbeat(threading.Thread):
    def __init__(self, engine, job_id: int, token: int):
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.engine, self.job_id, self.token = engine, job_id, token
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            _write(self.engine, self.job_id, self.token, heartbeat_at=utcnow())


class _Progress:
    """The callback handed to a handler: writes at most every PROGRESS_SECONDS; the last
    values reported are written when the handler ends (:meth:`flush`)."""

    def __init__(self, engine, job_id: int, token: int):
        self.engine, self.job_id, self.token = engine, job_id, token
        self.last = 0.0
        self.pending: dict[str, Any] | None = None

    def __call__(self, done: int, total: int | None = None, message: str = "") -> None:
        values: dict[str, Any] = {"progress_done": int(done),
                                  "progress_message": (message or "")[:200]}
        if total is not None:
            values["progress_total"] = int(total)
        self.pending = values
        now = time.monotonic()
        if now - self.last >= PROGRESS_SECONDS:
            self.last = now
            self.flush()

    def flush(self) -> None:
        if self.pending is not None:
            _write(self.engine, self.job_id, self.token, heartbeat_at=utcnow(), **self.pending)
            self.pending = None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _addresses():
    """What a handler needs to write the app's addresses (``url_for(..., _external=True)``: the
    QR code of a record PDF, the links of a reminder) when no request is being served, as in
    the worker: a request context on ``PUBLIC_URL`` (the bureau's public address)."""
    if has_request_context():
        return nullcontext()
    base = (current_app.config["SETTINGS"].PUBLIC_URL or "http://localhost/").rstrip("/") + "/"
    return current_app.test_request_context("/", base_url=base)


def run(job_id: int) -> Job | None:
    """Run one job if it is waiting (called by the worker for each id it takes, and by
    :func:`run_pending`). Returns the job as it ended, or None when it was not waiting."""
    token = _claim(job_id)
    if token is None:
        return None
    job = db.session.get(Job, job_id)
    engine = db.engine
    shutil.rmtree(_work_path(job_id), ignore_errors=True)
    beat = _Heartbeat(engine, job_id, token)
    beat.start()
    reset = _CURRENT_JOB.set(job_id)
    made: registry.JobFile | None = None
    failed: str | None = None
    progress = _Progress(engine, job_id, token)
    try:
        with _addresses():
            made = registry.get(job.kind).run(dict(job.params or {}), progress)
    except Exception as exc:  # noqa: BLE001: any failure is the job's, and said on it
        log.exception("job %s (%s) failed", job_id, job.kind)
        failed = _reason(exc)
    finally:
        _CURRENT_JOB.reset(reset)
        progress.flush()
        beat.stopped.set()
        beat.join()
        shutil.rmtree(_work_path(job_id), ignore_errors=True)
    db.session.rollback()  # a handler commits its own database work
    return _finish(job_id, token, made=made, failed=failed)


def _finish(job_id: int, token: int, *, made: registry.JobFile | None = None,
            failed: str | None = None) -> Job | None:
    now = utcnow()
    if failed is not None:
        values: dict[str, Any] = {"status": JobStatus.FAILED.value, "error": failed[:4000]}
    else:
        values = {"status": JobStatus.DONE.value, "error": None, "progress_message": ""}
        if made is not None:
            values.update(result_area=made.area, result_sha256=made.sha256,
                          result_filename=made.filename[:200],
                          result_content_type=made.content_type[:100])
    values.update(finished_at=now, heartbeat_at=now)
    changed = db.session.execute(update(Job).where(*_mine(job_id, token))
                                 .values(**values)).rowcount
    if not changed:  # recovered and claimed by another worker meanwhile: theirs now
        db.session.rollback()
        return None
    if failed is None:
        db.session.execute(update(Job).where(Job.id == job_id, Job.progress_total.is_not(None))
                           .values(progress_done=Job.progress_total))
    job = db.session.get(Job, job_id)
    audit.record("job.failed" if failed is not None else "job.done", "job", job_id,
                 {"kind": job.kind, "attempts": token, "error": failed,
                  "sha256": made.sha256 if made else None}, actor=None)
    db.session.commit()
    db.session.refresh(job)
    return job


def run_pending(limit: int = 1000) -> int:
    """Run every waiting job in this process, oldest first (``JOBS_MODE=held``: tests; jobs
    submitted by a job run too). Returns how many ran."""
    ran = 0
    while ran < limit:
        ids = list(db.session.scalars(select(Job.id).where(
            Job.status == JobStatus.QUEUED.value).order_by(Job.id).limit(limit - ran)))
        db.session.rollback()
        if not ids:
            break
        for job_id in ids:
            if run(job_id) is not None:
                ran += 1
    return ran


# --- recovery ---------------------------------------------------------------------------------

def _process_gone(worker: str | None) -> bool:
    """True when ``worker`` (host:pid) was a process of this host that no longer runs."""
    host, _sep, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def recover(stale_seconds: int = STALE_SECONDS) -> dict[str, int]:
    """Put back the jobs of dead workers and enqueue again the waiting jobs whose message
    may be lost. Safe to run anywhere, any time (a worker's start, every minute)."""
    now = utcnow()
    limit = now - timedelta(seconds=stale_seconds)
    requeued, given_up = [], 0
    for job in db.session.scalars(select(Job).where(Job.status == JobStatus.RUNNING.value)):
        if not (job.heartbeat_at is None or job.heartbeat_at < limit
                or _process_gone(job.worker)):
            continue
        give_up = job.attempts >= MAX_ATTEMPTS
        values: dict[str, Any] = (
            {"status": JobStatus.FAILED.value, "finished_at": now,
             "error": _("The worker stopped while running this job, started %(n)d times "
                        "already: it is not run again by itself (retry it once the cause is "
                        "fixed).", n=job.attempts)} if give_up else
            {"status": JobStatus.QUEUED.value, "worker": None, "heartbeat_at": None})
        changed = db.session.execute(update(Job).where(*_mine(job.id, job.attempts))
                                     .values(**values)).rowcount
        if changed:
            audit.record("job.failed" if give_up else "job.recover", "job", job.id,
                         {"kind": job.kind, "attempts": job.attempts, "worker": job.worker},
                         actor=None)
            if give_up:
                given_up += 1
            else:
                requeued.append(job.id)
    db.session.commit()
    lost = list(db.session.scalars(select(Job.id).where(
        Job.status == JobStatus.QUEUED.value, Job.created_at < limit)))
    db.session.rollback()
    the_queue = queue.current()
    for job_id in requeued + lost:
        the_queue.enqueue(job_id)
    _sweep_work_dirs()
    return {"requeued": len(requeued), "given_up": given_up, "enqueued_again": len(lost)}


def _sweep_work_dirs() -> None:
    """Scratch folders of jobs no longer running (a killed worker's)."""
    base = storage.root() / ".jobs-work"
    if not base.is_dir():
        return
    names = [p.name for p in base.iterdir() if p.name.isdigit()]
    if not names:
        return
    running = set(db.session.scalars(select(Job.id).where(
        Job.id.in_([int(n) for n in names]), Job.status == JobStatus.RUNNING.value)))
    db.session.rollback()
    for name in names:
        if int(name) not in running:
            shutil.rmtree(base / name, ignore_errors=True)


# --- what the worker runs periodically -----------------------------------------------------

def daily() -> Job | None:
    """The day's reminders as a job, once a day whatever the number of workers (its key)."""

    day = to_local(utcnow()).date().isoformat()
    try:
        registry.get("daily_reminders")
    except KeyError:
        return None
    return submit("daily_reminders", {"date": day}, None, key=f"daily_reminders:{day}")


def queue_run(job_id: int) -> None:
    """The worker's task: run the job, never raising (the outcome is on its row)."""
    try:
        run(job_id)
    finally:
        db.session.remove()


def periodic_recover() -> None:
    try:
        recover()
    finally:
        db.session.remove()


def periodic_daily() -> None:
    try:
        daily()
    finally:
        db.session.remove()


def is_held() -> bool:
    return queue.mode(current_app) == "held"
