"""Visits (one employer, one trip): what the draws produce and the field app works on.

An employer drawn in several open tasks gets ONE visit covering all their items
("进一次门、查多项事", seed 001 第十二条, 004 第九条): :class:`VisitTask` links it to each task.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint, false)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import utcnow
from ..directory.models import Employer
from ..extensions import db


class VisitStatus(str, enum.Enum):
    PLANNED = "planned"          # drawn, team not yet drawn
    ASSIGNED = "assigned"        # team drawn
    IN_PROGRESS = "in_progress"
    RECORDED = "recorded"        # sealed record received: in the office's review queue
    RETURNED = "returned"        # returned to the team with comments (:class:`ReviewReturn`)
    PROPOSED = "proposed"        # determination proposed, waiting for an approver
    DETERMINED = "determined"    # determination approved: the bureau's result, to publish
    PUBLISHED = "published"      # result public (done)
    WITHHELD = "withheld"        # publication withheld by an approved exception (done)
    CLOSED = "closed"


#: Visit statuses that count as done: a check that is not published counts as not done
#: (seed 000 三(九)), unless its publication was withheld by an approved exception.
DONE_STATUSES = (VisitStatus.PUBLISHED.value, VisitStatus.WITHHELD.value)


class Visit(db.Model):
    __tablename__ = "visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public number, e.g. 2026-0001 (printed on documents).
    number: Mapped[str] = mapped_column(String(30), unique=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=VisitStatus.PLANNED.value,
                                        index=True)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: A rectification follow-up (复查, seed 002 五(三)): the visit whose ordered rectification
    #: it checks; None for a drawn visit. A follow-up has no :class:`VisitTask` of its own: it
    #: serves the tasks of the visit it follows (docs/followup.md).
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)

    employer: Mapped[Employer] = relationship()
    tasks: Mapped[list[VisitTask]] = relationship(back_populates="visit", order_by="VisitTask.id")


class VisitTask(db.Model):
    """The visit serves this task; ``rank`` is the employer's selection order in the task's
    draw (for key items at 100% the draw fixes the order of visits)."""

    __tablename__ = "visit_task"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: (the unique pair (visit_id, task_id) serves lookups by visit)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"))
    pool_name: Mapped[str] = mapped_column(String(40))
    rank: Mapped[int] = mapped_column(Integer)

    visit: Mapped[Visit] = relationship(back_populates="tasks")

    __table_args__ = (UniqueConstraint("visit_id", "task_id", name="uq_visit_task_pair"),)


# --- the field app's uploads (docs/field-sync.md) ------------------------------------

class ResultCategory(str, enum.Enum):
    """A visit's overall result (seed 004 第十九条(四)); labels in :data:`RESULT_LABELS`."""

    NO_PROBLEM = "no_problem"
    NOT_DISCLOSED = "not_disclosed"
    FALSE_DISCLOSURE = "false_disclosure"
    UNREACHABLE = "unreachable"
    RECTIFICATION_ORDERED = "rectification_ordered"
    REFUSED_SERIOUSLY = "refused_seriously"
    NO_ACTIVITY = "no_activity"
    PENDING_FOLLOW_UP = "pending_follow_up"
    QUALIFIED = "qualified"
    UNQUALIFIED = "unqualified"


#: The legal wording of each category (data from seed 004 第十九条(四), shown as is).
RESULT_LABELS: dict[str, str] = {
    ResultCategory.NO_PROBLEM.value: "未发现问题",
    ResultCategory.NOT_DISCLOSED.value: "未按规定公示应当公示的信息",
    ResultCategory.FALSE_DISCLOSURE.value: "公示信息隐瞒真实情况弄虚作假",
    ResultCategory.UNREACHABLE.value: "通过登记的住所(经营场所)无法联系",
    ResultCategory.RECTIFICATION_ORDERED.value: "发现问题已责令改正",
    ResultCategory.REFUSED_SERIOUSLY.value: "不配合检查情节严重",
    ResultCategory.NO_ACTIVITY.value: "未发现开展本次抽查涉及的经营活动",
    ResultCategory.PENDING_FOLLOW_UP.value: "发现问题待后续处理",
    ResultCategory.QUALIFIED.value: "合格",
    ResultCategory.UNQUALIFIED.value: "不合格",
}


class RecordRevision(db.Model):
    """One save of a visit's record, as the field app sent it (append-only).

    ``revision_uuid`` is the client's idempotency key: the row is inserted under its unique
    constraint, so a retry can never make a second row. A record's current state is its
    highest ``revision``; older revisions stay."""

    __tablename__ = "record_revision"
    id: Mapped[int] = mapped_column(primary_key=True)
    revision_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    #: The JSON body as received (stored canonical: sorted keys).
    body: Mapped[dict] = mapped_column(JSON)
    #: SHA-256 of the canonical JSON of ``body`` (sorted keys, no spaces, UTF-8).
    body_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    result_category: Mapped[str | None] = mapped_column(String(30))
    #: The seal of a sealed revision (:func:`inspection.fieldwork.seal.seal_of`), checked on
    #: arrival; the public verification page is keyed by it.
    seal: Mapped[str | None] = mapped_column(String(64), index=True)
    #: A correction: the ``revision_uuid`` of the sealed revision it corrects.
    corrects: Mapped[str | None] = mapped_column(String(36))
    #: A team member's part of a split joint visit (body ``part``), never the visit's record
    #: (:mod:`inspection.fieldwork.joint`).
    is_part: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    visit: Mapped[Visit] = relationship()

    __table_args__ = (UniqueConstraint("record_id", "revision", name="uq_record_revision_number"),)


class EvidencePhoto(db.Model):
    """An evidence photo uploaded by the field app; the bytes, the display copy and the
    thumbnail live in the content-addressed store (:mod:`inspection.core.storage`)."""

    __tablename__ = "evidence_photo"
    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    #: SHA-256 of the uploaded bytes (area ``photos``).
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: SHA-256 of the camera's original, computed on the phone at capture.
    original_sha256: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(30))
    bytes: Mapped[int] = mapped_column(Integer)
    #: Size after the EXIF orientation is applied.
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    exif: Mapped[dict] = mapped_column(JSON, default=dict)
    display_sha256: Mapped[str] = mapped_column(String(64))
    thumb_sha256: Mapped[str] = mapped_column(String(64))
    question: Mapped[str | None] = mapped_column(String(30))
    document_copy: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The camera's original (kept when the bureau's setting says so), not the resized copy.
    is_original: Mapped[bool] = mapped_column(Boolean, default=False)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    visit: Mapped[Visit] = relationship()


class RecordSignature(db.Model):
    """A signature drawn on the phone (docs/field-sync.md "Signatures"), uploaded
    like a photo under its client UUID. The stroke points (canonical JSON), the SVG and the
    PNG are in the content-addressed store (area ``signatures``); ``signs`` is the content
    hash of the record the signer saw (:func:`inspection.fieldwork.seal.content_hash`)."""

    __tablename__ = "record_signature"
    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    #: inspector, representative or witness
    signer_kind: Mapped[str] = mapped_column(String(20))
    #: The inspector's account (kind inspector).
    signer_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    signer_name: Mapped[str] = mapped_column(String(100))
    #: legal_representative, person_in_charge or delegate (kind representative).
    signer_role: Mapped[str | None] = mapped_column(String(30))
    signs: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: SHA-256 of the canonical JSON of the upload: a retry is compared with it.
    body_sha256: Mapped[str] = mapped_column(String(64))
    strokes_sha256: Mapped[str] = mapped_column(String(64))
    svg_sha256: Mapped[str] = mapped_column(String(64))
    png_sha256: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(Integer)
    #: Total stroke length and bounding box, in the canvas's CSS pixels.
    length: Mapped[int] = mapped_column(Integer)
    box_width: Mapped[int] = mapped_column(Integer)
    box_height: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    visit: Mapped[Visit] = relationship()


# --- joint visits: the team leader's arrangement (docs/field-sync.md) ---------------

class VisitArrangement(db.Model):
    """The team leader's arrangement of a visit: when and where the team meets. One row per
    visit; ``revision`` counts the leader's saves (a stale save is refused, not merged)."""

    __tablename__ = "visit_arrangement"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    scheduled_on: Mapped[date | None] = mapped_column(Date)
    meeting_time: Mapped[str] = mapped_column(String(5), default="")
    meeting_point: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(String(1000), default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    set_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ItemAssignment(db.Model):
    """Which team member checks which item of a visit (the leader's split). An item may go
    to several members; a visit without rows is not split (everyone sees every item)."""

    __tablename__ = "item_assignment"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("check_item_version.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"))

    __table_args__ = (UniqueConstraint("visit_id", "item_version_id", "inspector_id",
                                       name="uq_item_assignment"),)


class ReviewReturn(db.Model):
    """The office returned a sealed record to the team with comments (review, seed 000
    三(九)). The phone shows the comments on the visit; the team corrects the record as a new
    sealed revision (the correction mechanism of :mod:`inspection.fieldwork.signing`), which
    resolves the return and puts the visit back in the review queue."""

    __tablename__ = "review_return"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    #: The sealed revision that was returned.
    revision_id: Mapped[int] = mapped_column(ForeignKey("record_revision.id"))
    comments: Mapped[str] = mapped_column(Text)
    #: Comments on single questions: ``[{"item", "question", "comment"}]``.
    item_comments: Mapped[list] = mapped_column(JSON, default=list)
    returned_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    returned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: The sealed revision that answered it (None while the team has it).
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("record_revision.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
