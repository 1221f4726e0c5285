"""What goes into a closed task's case file (seed 000 五: plans, work plans, draw records,
forms and documents, photos and audio-visual material, screenshots of the publication).

:func:`parts` yields ``(path, part, about, bytes-or-callable)`` in a fixed order; the archive
(:mod:`.operations`) writes them into the ZIP in that order. Every list below is read in a
fixed number of queries for the whole task (one per kind of row), never one per visit; only
the files themselves are read one by one from the store.

Layout of the ZIP::

    manifest.json                     the hashes of everything below (verify.py)
    task/task.json                    the task, its departments, items, ratios, closure
    task/plan.json                    the annual plan (the revision the task belongs to)
    report/summary.pdf, figures.json  the task's summary report (inspection/reports)
    draws/<id>/record.json            commitment, execution, record, public-log proofs
    draws/<id>/pools/<name>.txt       the frozen pool files (their hashes are committed)
    visits/<no>/record.pdf            the record as printed (the stored copy if made)
    visits/<no>/revisions.json        every record revision as received, with its seal
    visits/<no>/photos/<uuid>.jpg     evidence photos as uploaded (+ camera originals kept)
    visits/<no>/signatures/<uuid>.png/.svg/.json   signatures: image, vector, strokes
    visits/<no>/review.json           returns, determinations, publication, exceptions,
                                      feedback, objections, corrections (+ handling)
    visits/<no>/feedback-letter.pdf   the letter of the current result
    visits/<no>/feedback/<id>.<ext>   proof of delivery
    visits/<no>/public-result.html    the public result page as it appears (公示截图)
    audit/entries.json                the audit entries about the task, its plan, draws,
                                      visits, determinations and substitutions
"""
from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Callable, Iterator

from flask import current_app
from sqlalchemy import and_, or_, select

from ...core import storage
from ...core.models import AuditEntry
from ...draws import commitments
from ...draws.models import Draw, DrawPool, Substitution, TeamMember
from ...draws.public_log import record_section
from ...extensions import db
from ...fieldwork import photos as photo_files
from ...fieldwork import signing
from ...fieldwork.models import (EvidencePhoto, RecordRevision, RecordSignature, ReviewReturn,
                                 Visit, VisitTask)
from ...planning.models import AnnualPlan, Task
from ...reports import data as report_data
from ...reports import render as report_render
from ...reports.models import TaskClosure
from ..models import (Correction, Determination, Feedback, Objection, Publication,
                      PublicationException)
from ...fieldwork import record_pdfs
from ...fieldwork.documents import record_pdf
from ..documents import feedback_letter_pdf
from .. import public_views

Content = bytes | Callable[[], bytes]
EXT = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


def dump(value: Any) -> bytes:
    """JSON as the case file keeps it: sorted keys, indented, UTF-8, dates as ISO text."""
    return (json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False, default=str)
            + "\n").encode("utf-8")


def _row(obj, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A model row's columns as plain values."""
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in skip}


def _stored(area: str, sha: str | None) -> Callable[[], bytes] | None:
    if not sha or not storage.exists(area, sha):
        return None
    return lambda: storage.read(area, sha)


def document_context():
    """A request of its own for rendering documents outside a web request (a job): their
    links (the QR codes' verification and public-result addresses) are made on
    ``PUBLIC_URL`` when the bureau set it."""
    base = (current_app.config["SETTINGS"].PUBLIC_URL or "http://localhost/").rstrip("/") + "/"
    return current_app.test_request_context("/", base_url=base)


def _record_pdf(visit: Visit, revision: RecordRevision) -> Callable[[], bytes]:
    """The record PDF: the copy the job queue kept for the sealed revision
    (:mod:`inspection.fieldwork.record_pdfs`) when there is one, else rendered."""
    def make() -> bytes:

        job = record_pdfs.stored(revision)
        if job is not None and job.result_sha256 and storage.exists(job.result_area,
                                                                    job.result_sha256):
            return storage.read(job.result_area, job.result_sha256)

        with document_context():
            return record_pdf(visit, revision)
    return make


def _feedback_letter(visit: Visit) -> Callable[[], bytes]:
    def make() -> bytes:

        with document_context():
            return feedback_letter_pdf(visit)
    return make


def public_page(number: str) -> bytes:
    """The public result page as anyone sees it (seed 000 "检查结果公示截图"), made by the
    page's own view in a request of its own without an account."""

    base = (current_app.config["SETTINGS"].PUBLIC_URL or "http://localhost/").rstrip("/") + "/"
    with current_app.test_request_context(f"/public/results/{number}", base_url=base):
        answer = public_views.show(number)
        html = answer[0] if isinstance(answer, tuple) else answer
        if not isinstance(html, str):
            html = html.get_data(as_text=True)
    return html.encode("utf-8")


def _handling(visit_ids: list[int]) -> dict[int, list[dict]]:
    return report_data.handling_decisions(visit_ids)


def parts(task_id: int) -> Iterator[tuple[str, str, str, Content]]:
    """Everything of the case file, in the ZIP's order."""
    task = db.session.get(Task, task_id)
    plan = db.session.get(AnnualPlan, task.plan_id)
    closure = db.session.scalar(select(TaskClosure).where(TaskClosure.task_id == task.id))
    figures = report_data.task_report_data(task.id)
    yield ("task/task.json", "task", "the task (实施方案) with its scope and closure",
           dump({"task": _row(task), "scope": figures["scope"],
                 "closure": _row(closure) if closure else None}))
    yield ("task/plan.json", "plan", "the annual plan (年度抽查计划) revision of the task",
           dump(_row(plan)))
    yield ("report/summary.pdf", "report", "the task's summary report (抽查总结报告)",
           lambda: report_render.task_pdf(figures))
    yield ("report/figures.json", "report", "the figures of the summary report",
           dump(figures))

    draws = db.session.scalars(select(Draw).where(Draw.task_id == task.id)
                               .order_by(Draw.id)).all()
    pools: dict[int, list[DrawPool]] = defaultdict(list)
    if draws:
        for pool in db.session.scalars(select(DrawPool).where(
                DrawPool.draw_id.in_([d.id for d in draws])).order_by(DrawPool.ordinal)):
            pools[pool.draw_id].append(pool)
    for draw in draws:
        base = f"draws/{draw.public_id}"
        yield (f"{base}/record.json", "draw", "the draw: commitment, execution, record and "
               "its entries in the public log with their inclusion proofs",
               dump({"public_id": draw.public_id, "kind": draw.kind, "status": draw.status,
                     "algorithm": draw.algorithm, "entropy_mode": draw.entropy_mode,
                     "commitment": draw.commitment,
                     "commitment_sha256": commitments.commitment_hash(draw.commitment),
                     "execution": draw.execution, "record": draw.record,
                     "prepared_at": draw.prepared_at, "executed_at": draw.executed_at,
                     "cancel_reason": draw.cancel_reason,
                     "log": record_section(draw.id)}))
        for pool in pools[draw.id]:
            yield (f"{base}/pools/{pool.name}.txt", "pool",
                   f"pool file {pool.name} (SHA-256 in the commitment)",
                   (lambda d=draw, p=pool: commitments.pool_bytes(d, p)))

    visits = db.session.scalars(select(Visit).join(VisitTask, VisitTask.visit_id == Visit.id)
                                .where(VisitTask.task_id == task.id)
                                .order_by(Visit.number)).all()
    ids = [v.id for v in visits]
    by_visit: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for model, key in ((RecordRevision, "revisions"), (EvidencePhoto, "photos"),
                       (RecordSignature, "signatures"), (ReviewReturn, "returns"),
                       (Determination, "determinations"), (Publication, "publication"),
                       (PublicationException, "exceptions"), (Feedback, "feedback"),
                       (Objection, "objections"), (Correction, "corrections"),
                       (TeamMember, "team"), (Substitution, "substitutions")):
        if not ids:
            break
        for row in db.session.scalars(select(model).where(model.visit_id.in_(ids))
                                      .order_by(model.id)):
            by_visit[key][row.visit_id].append(row)
    handling = _handling(ids)
    current = {v.id: None for v in visits}
    for det in (d for rows in by_visit["determinations"].values() for d in rows):
        if det.status == "approved" and det.superseded_at is None:
            current[det.visit_id] = det

    for visit in visits:
        base = f"visits/{visit.number}"
        revisions = by_visit["revisions"][visit.id]
        sealed = [r for r in revisions if r.seal and not r.is_part]
        if sealed:
            yield (f"{base}/record.pdf", "record", "the inspection record (检查记录) as printed",
                   _record_pdf(visit, sealed[-1]))
        yield (f"{base}/revisions.json", "record",
               "every revision of the record as received, with seals",
               dump([_row(r) for r in revisions]))
        for photo in by_visit["photos"][visit.id]:
            content = _stored(photo_files.AREA_PHOTOS, photo.sha256)
            if content is not None:
                ext = EXT.get(photo.content_type, "bin")
                yield (f"{base}/photos/{photo.uuid}.{ext}", "photo",
                       "evidence photo as uploaded" + (" (camera original)"
                                                       if photo.is_original else ""), content)
        for sig in by_visit["signatures"][visit.id]:
            for sha, ext, about in ((sig.png_sha256, "png", "signature image"),
                                    (sig.svg_sha256, "svg", "signature drawing"),
                                    (sig.strokes_sha256, "json", "signature strokes")):
                content = _stored(signing.AREA_SIGNATURES, sha)
                if content is not None:
                    yield (f"{base}/signatures/{sig.uuid}.{ext}", "signature",
                           f"{about} ({sig.signer_kind} {sig.signer_name})", content)
        review = {key: [_row(r) for r in by_visit[key][visit.id]]
                  for key in ("team", "substitutions", "returns", "determinations",
                              "publication", "exceptions", "feedback", "objections",
                              "corrections")}
        review["visit"] = _row(visit)
        review["handling"] = handling.get(visit.id, [])
        yield (f"{base}/review.json", "review", "team, substitutions, review, determination, "
               "publication, exceptions, feedback, objections, corrections and handling",
               dump(review))
        if current[visit.id] is not None:
            yield (f"{base}/feedback-letter.pdf", "feedback",
                   "the feedback letter (检查结果告知书) of the current result",
                   _feedback_letter(visit))
        for fb in by_visit["feedback"][visit.id]:
            content = _stored("feedback", fb.proof_sha256)
            if content is not None:
                ext = EXT.get(fb.proof_content_type or "", "bin")
                yield (f"{base}/feedback/{fb.id}-proof.{ext}", "feedback",
                       f"proof of delivery ({fb.way}, {fb.delivered_on})", content)
        for decision in handling.get(visit.id, []):
            content = _stored("handling", decision["letter_sha256"])
            if content is not None:
                yield (f"{base}/handling/{decision['id']}-letter.pdf", "handling",
                       f"the letter of the {decision['kind']} to {decision['recipient']} as "
                       "sent", content)
        if visit.status == "published":
            yield (f"{base}/public-result.html", "publication",
                   "the public result page as it appeared (检查结果公示截图)",
                   (lambda n=visit.number: public_page(n)))

    det_ids = [d.id for rows in by_visit["determinations"].values() for d in rows]
    sub_ids = [s.id for rows in by_visit["substitutions"].values() for s in rows]
    wanted = [("task", [task.id]), ("annual_plan", [plan.id]), ("draw", [d.id for d in draws]),
              ("visit", ids), ("determination", det_ids), ("substitution", sub_ids),
              ("handling_decision", [d["id"] for rows in handling.values() for d in rows])]
    conditions = [and_(AuditEntry.object_type == kind,
                       AuditEntry.object_id.in_([str(i) for i in values]))
                  for kind, values in wanted if values]
    entries = db.session.scalars(select(AuditEntry).where(or_(*conditions))
                                 .order_by(AuditEntry.seq)).all()
    yield ("audit/entries.json", "audit", "the audit entries about the task, its plan, "
           "draws, visits, determinations, substitutions and handling decisions (hash-chained: "
           "flask --app app audit verify)", dump([_row(e) for e in entries]))
