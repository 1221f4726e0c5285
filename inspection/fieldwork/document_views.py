"""The visit's documents (PDF, and the record as a page for the phone and for printing) and
the public verification of a sealed record. Thin: :mod:`.documents` does the work.
"""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, url_for
from flask_login import current_user

from ..core import caching, storage
from ..core.access import public, roles
from ..core.models import Role
from ..jobs import operations as jobs
from . import documents, record_pdfs, signing

bp = Blueprint("documents", __name__, url_prefix="/visits")
public_bp = Blueprint("public_records", __name__, url_prefix="/public/records")

READ = (Role.INSPECTOR, *documents.READERS)


def _pdf(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"})


def _visit(number: str):
    return documents.readable_visit(current_user._get_current_object(), number)


@bp.get("/<number>/record.pdf")
@roles(*READ)
def record_pdf(number: str):
    """检查记录表: the sealed record (or the latest save, marked as a draft). A sealed
    record's PDF is the one kept when it was sealed (:mod:`.record_pdfs`); when it is not
    kept yet, its job's page (with a worker), or rendered here (no worker: ``held``)."""
    visit = _visit(number)
    sealed = signing.sealed_revision(visit)
    if sealed is not None:
        kept = record_pdfs.stored(sealed)
        if kept is not None:
            try:
                return _pdf(storage.read(kept.result_area, kept.result_sha256),
                            f"record-{number}.pdf")
            except storage.StoreError:
                pass
        elif not jobs.is_held():
            user = current_user._get_current_object()
            job = record_pdfs.pending(sealed) or record_pdfs.after_upload(number, user)
            if job is not None and jobs.can_see(user, job):
                return redirect(url_for("jobs.detail", job_id=job.id))
    return _pdf(documents.record_pdf(visit), f"record-{number}.pdf")


@bp.get("/<number>/notice.pdf")
@roles(*READ)
def notice_pdf(number: str):
    """检查通知书: the advance notice of the visit (404 for an unannounced visit, which has
    none)."""
    return _pdf(documents.notice_pdf(_visit(number)), f"notice-{number}.pdf")


@bp.get("/<number>/order.pdf")
@roles(*READ)
def order_pdf(number: str):
    """责令改正通知书: the orders given on the visit (404 when none was given)."""
    return _pdf(documents.order_pdf(_visit(number)), f"order-{number}.pdf")


@bp.get("/<number>/record")
@roles(*READ)
def record_page(number: str):
    """The record as a page (phone, printing); the same template as the PDF."""
    doc = documents.record_document(_visit(number))
    return render_template("documents/record_page.html", **doc.context, pdf=False)


@public_bp.get("/<seal>")
@public
def show(seal: str):
    """Anyone: does a sealed record with this seal exist, and what the public may know.
    Browsers and proxies may keep the answer, but ask again each time (the result is pending
    until it is published, and a later correction changes it): the ETag is that of what the
    page shows, so the question is answered without making the page."""
    record = documents.public_record(seal)
    return caching.page(lambda: render_template("documents/public_record.html", record=record),
                        ("record", record), final=False)
