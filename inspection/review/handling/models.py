"""Handling what was found and the employer's credit (DOMAIN.md "After the visit";
docs/handling.md).

* :class:`HandlingDecision` -- the bureau's handling decision (处理决定) for one problem of an
  approved determination: an administrative penalty, a transfer to another agency or to the
  judiciary (seed 001 第十四条), or a referral (移交/移送) in-house or to the competent
  department (seed 000 四, 004 第十九条(三)). Proposed by the office, decided by an approver
  (four eyes), sent within ``REFERRAL_WORKDAYS`` working days of the result (the
  determination's approval, local day), the letter as sent kept in the file store, and the
  outcome recorded when it comes back (published with the result, seed 000 四).
* :class:`GradeProposal` -- a proposed change of the employer's risk grade and/or flags after
  a finding (seed 000 六, 004 第二十三条): accepted or rejected with a reason; accepting changes
  the employer through the directory's own operation, so its history keeps the change with the
  reason and the proposal's number.

Nothing here is deleted: a rejected proposal stays; a corrected result's problems get
decisions of their own (the decisions of the superseded determination stay on record).
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ...core.models import utcnow
from ...extensions import db
from ..models import Decision


class HandlingKind(str, enum.Enum):
    """What the bureau decides for a violation (seed 001 第十四条, 000 四, 004 第十九条(三))."""

    PENALTY = "penalty"                          # 行政处罚
    TRANSFER_AGENCY = "transfer_agency"          # 移送其他行政机关
    TRANSFER_JUDICIARY = "transfer_judiciary"    # 移送司法机关
    REFERRAL_IN_HOUSE = "referral_in_house"      # 移交部门内有管辖权的机构
    REFERRAL_DEPARTMENT = "referral_department"  # 移交有管辖权的部门


class HandlingDecision(db.Model):
    """The handling decision of one problem (``problem``: its index in the determination's
    ``findings``) of an approved determination."""

    __tablename__ = "handling_decision"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    determination_id: Mapped[int] = mapped_column(ForeignKey("determination.id"), index=True)
    problem: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(30))
    question: Mapped[str | None] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(30))
    #: To whom the matter goes (an agency or unit, never a person's name on public pages).
    recipient: Mapped[str] = mapped_column(String(200))
    #: What is sent: the materials (the record, evidence, the letter ...).
    matter: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=Decision.PROPOSED.value, index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    #: REFERRAL_WORKDAYS working days after the result's approval; None with
    #: ``deadline_year`` set when that year has no calendar.
    deadline: Mapped[date | None] = mapped_column(Date)
    deadline_year: Mapped[int | None] = mapped_column(Integer)
    sent_on: Mapped[date | None] = mapped_column(Date)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Whether it was sent by the deadline (None: the deadline could not be counted).
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    #: The referral letter as sent, in the file store (area ``handling``).
    letter_sha256: Mapped[str | None] = mapped_column(String(64))
    #: What came back (published with the result).
    outcome: Mapped[str] = mapped_column(Text, default="")
    outcome_on: Mapped[date | None] = mapped_column(Date)
    outcome_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime)


class GradeProposal(db.Model):
    """A proposed change of an employer's risk grade and/or flags after a result."""

    __tablename__ = "grade_proposal"
    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    determination_id: Mapped[int] = mapped_column(ForeignKey("determination.id"))
    #: The grade when proposed, and the proposed one (None: the grade stays).
    from_grade: Mapped[str] = mapped_column(String(1))
    risk_grade: Mapped[str | None] = mapped_column(String(1))
    #: ``{"flag_serious_violation": true, ...}``: the flags to set or clear.
    flags: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=Decision.PROPOSED.value, index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    #: The employer's history row the acceptance wrote.
    directory_change_id: Mapped[int | None] = mapped_column(ForeignKey("directory_change.id"))
