"""The hand-built task of the report and archive tests (not a test module).

A bureau whose task has 4 visits drawn (targets and teams through the real draws,
``field_support.drawn``), and after the visit, rows made by hand with known dates:

=====  ======================  ===========  ============  ===========  ==================
visit  result                  review       publication   feedback     other
=====  ======================  ===========  ============  ===========  ==================
V1     no_problem              on time      on time       on time      photo, signature,
                                                                       proof of delivery
V2     rectification_ordered   on time      LATE          on time      one problem with a
                                                                       rectification order;
                                                                       an objection, upheld
                                                                       on time
V3     no_problem              LATE         on time       LATE
V4     no_activity             on time      withheld      none         exception approved
=====  ======================  ===========  ============  ===========  ==================

So: categories no_problem 2, rectification_ordered 1, no_activity 1; withheld 1; review
3 on time / 1 late; publication 3 / 1; feedback 2 / 1 / 1 not done; objections 1 / 0;
two problems on V2 (a rectification order due 2026-05-10; a referral to the competent
department, its handling decision sent on time).
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date, datetime

from PIL import Image
from sqlalchemy import select

from inspection.core import audit, storage
from inspection.core import operations as core_ops
from inspection.core.models import User
from inspection.extensions import db
from inspection.fieldwork.models import (EvidencePhoto, RecordRevision, RecordSignature, Visit,
                                         VisitTask)
from inspection.planning.models import Task
from inspection.review.models import (Determination, Feedback, Objection, Publication,
                                      PublicationException)

from field_support import drawn
from helpers import PASSWORD, replayed

OFFICE, APPROVER = "office1", "approver1"
CATEGORIES = ("no_problem", "rectification_ordered", "no_problem", "no_activity")
PROBLEM = {"finding": "未按月足额支付工资", "handling": "rectification_order",
           "due": "2026-05-10", "note": "责令限期改正"}
#: V2's second problem, referred to the competent department (a handling decision, sent on
#: time, its letter in the store and its outcome recorded).
REFERRED = {"finding": "未依法参加社会保险", "handling": "referral", "due": None,
            "note": ""}


@dataclass
class Case:
    task_id: int
    numbers: list[str]      # V1..V4
    item: str               # the task's item code
    office_id: int
    approver_id: int
    photo_sha: str
    proof_sha: str
    signature_png: str


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _png(color) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), color).save(out, "PNG")
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 30, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def _at(day: date, hour: int = 3) -> datetime:
    """A UTC moment on ``day`` (11:00 in Shanghai)."""
    return datetime(day.year, day.month, day.day, hour, 0)


@replayed
def case(department: int, close: bool = True) -> Case:
    """Within an app context: the task above (closed when ``close``)."""
    field = drawn(department)
    dept = core_ops.get_department(department)
    office = core_ops.create_user(OFFICE, "Office One", dept, ("office",), PASSWORD)
    approver = core_ops.create_user(APPROVER, "Approver One", dept, ("approver",), PASSWORD)
    approver.position = "head"
    db.session.flush()
    mine = db.session.scalar(select(Visit).where(Visit.number == field.mine))
    task_id = db.session.scalar(select(VisitTask.task_id).where(VisitTask.visit_id == mine.id))
    visits = db.session.scalars(select(Visit).join(VisitTask, VisitTask.visit_id == Visit.id)
                                .where(VisitTask.task_id == task_id)
                                .order_by(Visit.number)).all()
    assert len(visits) == 4, len(visits)

    photo = _jpeg()
    photo_sha = storage.put("photos", photo)
    thumb_sha = storage.put("photo-thumbs", photo)
    png = _png((10, 10, 10))
    png_sha = storage.put("signatures", png)
    svg_sha = storage.put("signatures", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    strokes_sha = storage.put("signatures", b"[]")
    proof_sha = storage.put("feedback", b"%PDF-1.4\n% proof of delivery\n")

    for n, (visit, category) in enumerate(zip(visits, CATEGORIES), start=1):
        body = {"record_id": f"00000000-0000-4000-8000-00000000000{n}", "revision": 1,
                "visit": visit.number, "saved_at": "2026-04-02T10:15:03+08:00",
                "notice": {"date": "2026-04-01", "way": "phone"},
                "arrival": {"at": "2026-04-02T09:30:00+08:00",
                            "location": {"lat": 36.81, "lon": 118.05, "accuracy": 12.5}},
                "answers": [{"item": field.item, "question": q,
                             "answer": "non_compliant" if category == "rectification_ordered"
                             and i == 0 else "compliant", "note": "", "order": None}
                            for i, q in enumerate(field.questions)],
                "result_category": category, "photos": [], "signatures": []}
        if n == 1:
            body["photos"] = [{"uuid": "00000000-0000-4000-8000-0000000000a1",
                               "sha256": photo_sha, "question": field.questions[0],
                               "taken_at": "2026-04-02T09:45:00+08:00"}]
            body["signatures"] = [{"uuid": "00000000-0000-4000-8000-0000000000b1",
                                   "png_sha256": png_sha,
                                   "signer": {"kind": "representative", "name": "王经理",
                                              "role": "legal_representative"},
                                   "signed_at": "2026-04-02T10:10:00+08:00"}]
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False).encode()
        revision = RecordRevision(
            revision_uuid=f"00000000-0000-4000-9000-00000000000{n}", record_id=body["record_id"],
            revision=1, visit_id=visit.id, author_id=office.id, body=body,
            body_sha256=_sha(canonical), received_at=_at(date(2026, 4, 2), 4),
            result_category=category, seal=_sha(b"seal" + canonical))
        db.session.add(revision)
        db.session.flush()
        if n == 1:
            db.session.add(EvidencePhoto(
                uuid="00000000-0000-4000-8000-0000000000a1", visit_id=visit.id,
                uploader_id=office.id, sha256=photo_sha, content_type="image/jpeg",
                bytes=len(photo), width=64, height=48, exif={}, display_sha256=photo_sha,
                thumb_sha256=thumb_sha, question=field.questions[0],
                received_at=_at(date(2026, 4, 2), 4)))
            db.session.add(RecordSignature(
                uuid="00000000-0000-4000-8000-0000000000b1", visit_id=visit.id,
                uploader_id=office.id, signer_kind="representative", signer_name="王经理",
                signer_role="legal_representative", signs="0" * 64,
                signed_at=_at(date(2026, 4, 2), 2), body_sha256="1" * 64,
                strokes_sha256=strokes_sha, svg_sha256=svg_sha, png_sha256=png_sha, points=30,
                length=400, box_width=200, box_height=60,
                received_at=_at(date(2026, 4, 2), 4)))
        # review: decided 2026-04-03 (on time), V3 on 2026-05-20 (late)
        decided = date(2026, 5, 20) if n == 3 else date(2026, 4, 3)
        findings = [dict(PROBLEM, item=field.item, question=field.questions[0]),
                    dict(REFERRED, item=field.item, question=field.questions[1])] \
            if category == "rectification_ordered" else []
        det = Determination(visit_id=visit.id, revision_id=revision.id,
                            result_category=category, findings=findings, summary="",
                            status="approved", proposed_by_id=office.id,
                            proposed_at=_at(decided, 1), decided_by_id=approver.id,
                            decided_at=_at(decided))
        db.session.add(det)
        db.session.flush()
        deadline = date(2026, 4, 15) if n != 3 else date(2026, 5, 27)
        if n == 4:
            db.session.add(PublicationException(
                visit_id=visit.id, kind="state_secret", reason="涉及国家秘密",
                status="approved", proposed_by_id=office.id, proposed_at=_at(decided, 2),
                decided_by_id=approver.id, decided_at=_at(decided, 5)))
            db.session.add(Publication(visit_id=visit.id, status="withheld",
                                       clock="determination", clock_start=decided, workdays=5,
                                       deadline=deadline, on_time=True))
            visit.status = "withheld"
        else:
            published = date(2026, 4, 20) if n == 2 else decided
            db.session.add(Publication(
                visit_id=visit.id, status="published", clock="determination",
                clock_start=decided, workdays=5, deadline=deadline,
                published_at=_at(published), published_by_id=office.id,
                on_time=published <= deadline,
                period_end=date.fromordinal(published.toordinal() + 7)))
            visit.status = "published"
            told = date(2026, 6, 30) if n == 3 else date(2026, 4, 8)
            fb_deadline = date(2026, 5, 27) if n == 3 else date(2026, 4, 10)
            db.session.add(Feedback(
                visit_id=visit.id, determination_id=det.id,
                way="post" if n == 1 else "in_person", delivered_on=told,
                proof_sha256=proof_sha if n == 1 else None,
                proof_content_type="application/pdf" if n == 1 else None,
                deadline=fb_deadline, on_time=told <= fb_deadline, recorded_by_id=office.id,
                recorded_at=_at(told)))
        if n == 2:
            from inspection.review.handling.models import HandlingDecision

            db.session.add(HandlingDecision(
                visit_id=visit.id, determination_id=det.id, problem=1, item=field.item,
                question=field.questions[1], kind="referral_department",
                recipient="区医疗保障局", matter="检查记录及证据", status="approved",
                proposed_by_id=office.id, proposed_at=_at(decided, 5),
                decided_by_id=approver.id, decided_at=_at(decided, 6),
                deadline=date(2026, 4, 14), sent_on=date(2026, 4, 9), sent_by_id=office.id,
                sent_at=_at(date(2026, 4, 9)), on_time=True,
                letter_sha256=storage.put("handling", b"%PDF-1.4\n% referral letter\n"),
                outcome="已立案处理", outcome_on=date(2026, 5, 6), outcome_by_id=office.id,
                outcome_at=_at(date(2026, 5, 6))))
            db.session.add(Objection(
                number="YY-2026-00001", visit_id=visit.id, source="office",
                credit_code=visit.employer.credit_code, contact="13800000000",
                text="对结果有异议", submitted_at=_at(date(2026, 4, 21)),
                submitted_by_id=office.id, deadline=date(2026, 5, 6), status="upheld",
                outcome="维持原结果", decided_by_id=approver.id,
                decided_at=_at(date(2026, 4, 28))))
        audit.record("review.publish", "visit", visit.id, {"visit": visit.number},
                     actor=office)
    db.session.commit()
    if close:
        from inspection.reports import operations as report_ops

        report_ops.close_task(task_id, actor=office)
    return Case(task_id=task_id, numbers=[v.number for v in visits], item=field.item,
                office_id=office.id, approver_id=approver.id, photo_sha=photo_sha,
                proof_sha=proof_sha, signature_png=png_sha)


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def task(case_: Case) -> Task:
    return db.session.get(Task, case_.task_id)


def run_job(kind: str, params: dict):
    """A job's handler run directly, with a progress callback that records its calls."""
    from inspection.jobs import registry

    calls = []
    result = registry.get(kind).run(params, lambda done, total=None, message="":
                                    calls.append((done, total, message)))
    assert calls, "the handler reported no progress"
    return result
