"""A sealed record's PDF, rendered once and kept (docs/jobs.md "Record PDFs").

Rendering the inspection record takes seconds (4.1 s for a record with long notes, more under
load), so it is not done on every download: when a visit's sealed revision is complete (its
listed photos and signatures arrived: they follow the record as their own uploads), the
upload that completed it submits a ``record_pdf`` job, keyed by the revision, that renders
:func:`.documents.record_pdf` for that revision and keeps the file in the store. The record
PDF page serves the kept file. A sealed record is append-only: a correction is a new
revision, with its own PDF. A draft (no seal) is still rendered on each request (it changes).
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..core import storage
from ..core.models import User
from ..extensions import db
from ..jobs import operations as jobs
from ..jobs.models import Job
from ..jobs.registry import JobFile, Kind, Progress, register
from . import signing
from .common import missing_photos
from .models import RecordRevision, Visit

KIND = "record_pdf"
AREA = "record_pdfs"


def key_for(revision: RecordRevision) -> str:
    return f"{KIND}:{revision.id}"


def _render(params: dict[str, Any], progress: Progress) -> JobFile:
    from .documents import record_pdf  # documents imports operations, which imports this

    revision = db.session.get(RecordRevision, int(params["revision_id"]))
    if revision is None or not revision.seal:
        raise LookupError(f"no sealed revision {params.get('revision_id')}")
    visit = db.session.get(Visit, revision.visit_id)
    progress(0, 1, "")
    sha = storage.put(AREA, record_pdf(visit, revision))
    return JobFile(AREA, sha, f"record-{visit.number}-r{revision.revision}.pdf",
                   "application/pdf")


register(Kind(KIND, lambda: str(_l("Inspection record (PDF)")), _render))


def after_upload(visit_number: str | None, user: User) -> Job | None:
    """After a record, photo or signature of the visit was stored: when its sealed record is
    complete and has no PDF job yet, submit one (once: the job is keyed by the revision)."""
    visit = db.session.scalar(select(Visit).where(Visit.number == (visit_number or "")))
    if visit is None:
        return None
    revision = signing.sealed_revision(visit)
    if revision is None:
        return None
    if db.session.scalar(select(Job.id).where(Job.key == key_for(revision))) is not None:
        return None
    if missing_photos(revision) or signing.missing_signatures(revision):
        return None
    return jobs.submit(KIND, {"revision_id": revision.id, "visit": visit.number}, user,
                       key=key_for(revision))


def stored(revision: RecordRevision) -> Job | None:
    """The done job that kept this revision's PDF, or None."""
    return jobs.done_job(key_for(revision))


def pending(revision: RecordRevision) -> Job | None:
    """The job (any state) of this revision's PDF, or None."""
    return db.session.scalar(select(Job).where(Job.key == key_for(revision)))
