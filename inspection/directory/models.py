"""The two directories (检查对象名录库, 执法检查人员名录库) and their change history.

Seed 000 二(三)(四), 001 第八条 and 004 第十条 require both directories to be kept "dynamic":
every change is recorded (:class:`DirectoryChange`) and the office confirms the directory
current before each draw (:class:`DirectoryConfirmation`).
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import Department, User, utcnow
from ..extensions import db


class RiskGrade(str, enum.Enum):
    """信用风险等级: A low, B normal, C high, D very high (seed 004)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class EmployerStatus(str, enum.Enum):
    ACTIVE = "active"
    DEREGISTERED = "deregistered"
    MOVED_AWAY = "moved_away"
    CLOSED = "closed"


class InspectorStatus(str, enum.Enum):
    AVAILABLE = "available"
    ON_LEAVE = "on_leave"
    TRANSFERRED = "transferred"
    RETIRED = "retired"


class InspectorPool(str, enum.Enum):
    STAFF = "staff"
    EXPERT = "expert"
    THIRD_PARTY = "third_party"


class CertificateKind(str, enum.Enum):
    LAW_ENFORCEMENT = "law_enforcement"      # 行政执法证
    LABOUR_INSPECTOR = "labour_inspector"    # 劳动保障监察员证


class ConflictRelation(str, enum.Enum):
    RELATIVE = "relative"                    # a relative works there
    FORMER_EMPLOYER = "former_employer"
    SHAREHOLDING = "shareholding"
    OTHER = "other"


class Region(db.Model):
    """A street or town (街道/乡镇) of a county; employers and inspectors are placed in one."""

    __tablename__ = "region"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    county_name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ImportBatch(db.Model):
    """One import of a CSV/XLSX file into a directory: who, when, what file, what it did."""

    __tablename__ = "import_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))            # employers | inspectors
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    only_valid: Mapped[bool] = mapped_column(Boolean, default=False)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_invalid: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()


class Employer(db.Model):
    """An inspected unit (用人单位), keyed by its Unified Social Credit Code."""

    __tablename__ = "employer"
    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    employer_type: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(String(300), default="")
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    industry: Mapped[str] = mapped_column(String(1))        # GB/T 4754 section
    legal_representative: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    employees: Mapped[int | None] = mapped_column(Integer)
    risk_grade: Mapped[str] = mapped_column(String(1), default=RiskGrade.B.value)
    flag_complaints: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_abnormal: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_serious_violation: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=EmployerStatus.ACTIVE.value)
    notes: Mapped[str] = mapped_column(Text, default="")
    #: A legacy code that fails the GB 32100 check, accepted by an officer with a reason.
    code_override_reason: Mapped[str | None] = mapped_column(Text)
    #: Bumped on every change; an edit form carries it so a stale form cannot overwrite.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

    region: Mapped[Region] = relationship(lazy="joined")

    __table_args__ = (
        # The draw's pools: active employers per grade, in credit-code order. Type, industry,
        # grade and status have no single-column index on purpose: with a handful of values
        # each they do not help the keyset-paged list, and every index slows the bulk import
        # of a province-sized directory (migration 0004).
        Index("ix_employer_status_grade_code", "status", "risk_grade", "credit_code"),
    )


class Inspector(db.Model):
    """An officer who may be drawn for visits (执法检查人员), or an expert / third party."""

    __tablename__ = "inspector"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), unique=True)
    cert_kind: Mapped[str] = mapped_column(String(20))
    cert_number: Mapped[str] = mapped_column(String(50), unique=True)
    cert_expires: Mapped[date] = mapped_column(Date)
    qualifications: Mapped[str] = mapped_column(Text, default="")
    #: Specialities as short tags: wages, social_insurance, occupational_safety ...
    tags: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), index=True,
                                        default=InspectorStatus.AVAILABLE.value)
    pool: Mapped[str] = mapped_column(String(20), index=True, default=InspectorPool.STAFF.value)
    home_region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    phone: Mapped[str] = mapped_column(String(30), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    department: Mapped[Department] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship()
    home_region: Mapped[Region | None] = relationship()
    conflicts: Mapped[list[InspectorConflict]] = relationship(
        back_populates="inspector", order_by="InspectorConflict.id")

    def drawable_on(self, day: date) -> bool:
        """Whether the inspector may be drawn on ``day``: available, with a valid certificate."""
        return self.status == InspectorStatus.AVAILABLE.value and self.cert_expires >= day


class InspectorConflict(db.Model):
    """A declared conflict of interest (回避): the inspector is never drawn for this employer."""

    __tablename__ = "inspector_conflict"
    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"), index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id"), index=True)
    relation: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Withdrawn conflicts stay on record with the time they ended.
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)

    inspector: Mapped[Inspector] = relationship(back_populates="conflicts")
    employer: Mapped[Employer] = relationship()

    __table_args__ = (UniqueConstraint("inspector_id", "employer_id", "declared_at",
                                       name="uq_inspector_conflict_declared"),)


class DirectoryChange(db.Model):
    """One change of one employer or inspector: who, when, what (field: [old, new]), why.

    Shown on the record's page. Single edits also write the audit trail; an import writes one
    audit entry for the batch and one change row per created or changed record.
    """

    __tablename__ = "directory_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))    # employer | inspector
    subject_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(30))          # create | update | import ...
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

    __table_args__ = (Index("ix_directory_change_subject", "subject_type", "subject_id", "id"),)


class DirectoryConfirmation(db.Model):
    """The office confirmed a directory current (before a draw): who, when, how many rows."""

    __tablename__ = "directory_confirmation"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))            # employers | inspectors
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    row_count: Mapped[int] = mapped_column(Integer)
    #: The id of the newest change at confirmation: a later change makes it stale.
    last_change_id: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User] = relationship()
