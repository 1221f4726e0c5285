"""Draws (随机抽取): the target draw of employers and the team draw of inspectors.

A draw is made in two steps (see docs/draws.md): ``prepare`` freezes the pools and writes the
commitment; ``execute`` takes the source values, runs the engine once, and locks the result.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (JSON, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import Department, User, utcnow
from ..extensions import db


class DrawKind(str, enum.Enum):
    TARGET = "target"    # employers
    TEAM = "team"        # inspectors


class DrawStatus(str, enum.Enum):
    PREPARED = "prepared"
    EXECUTED = "executed"
    CANCELLED = "cancelled"   # prepared, never executed; stays on record with the reason


class EntropyMode(str, enum.Enum):
    """Where the randomness came from, strongest first; shown on the public record."""

    PUBLIC = "public"        # future public values (lottery, beacon) + committed secrets
    SECRETS = "secrets"      # secrets of several parties, committed by hash, revealed later
    SYSTEM = "system"        # the server's randomness at execution: the weakest mode


class DrawNumber(db.Model):
    """The last public number given in a year. Numbers are taken by one atomic
    insert-or-increment of this row, so draws prepared at the same moment never get the same
    number, on either database, and a rolled-back preparation gives its number back."""

    __tablename__ = "draw_number"
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column()


class Draw(db.Model):
    __tablename__ = "draw"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The public identifier, e.g. DRAW-2026-0007.
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    #: Team draws: the department drawing its own members (joint tasks draw per department).
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    status: Mapped[str] = mapped_column(String(10), default=DrawStatus.PREPARED.value)
    entropy_mode: Mapped[str] = mapped_column(String(10))
    algorithm: Mapped[str] = mapped_column(String(20))
    #: The commitment as published (pools with hashes, parameters, declared sources,
    #: secret commitments, committed_at); its SHA-256 is what the QR code points to.
    commitment: Mapped[dict] = mapped_column(JSON)
    commitment_sha256: Mapped[str] = mapped_column(String(64))
    prepared_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: The execution part of the record (source values, revealed secrets, key string, time).
    execution: Mapped[dict | None] = mapped_column(JSON)
    #: The full public record (commitment + execution + results), as downloaded.
    record: Mapped[dict | None] = mapped_column(JSON)
    record_sha256: Mapped[str | None] = mapped_column(String(64))
    executed_at: Mapped[datetime | None] = mapped_column(DateTime)
    executed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    department: Mapped[Department | None] = relationship()
    prepared_by: Mapped[User | None] = relationship(foreign_keys=[prepared_by_id])
    executed_by: Mapped[User | None] = relationship(foreign_keys=[executed_by_id])
    pools: Mapped[list[DrawPool]] = relationship(back_populates="draw", order_by="DrawPool.ordinal")
    secrets: Mapped[list[DrawSecret]] = relationship(back_populates="draw", order_by="DrawSecret.id")


class DrawPool(db.Model):
    """One frozen pool: a canonical pool file (kept in the file store) and its hash."""

    __tablename__ = "draw_pool"
    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))

    draw: Mapped[Draw] = relationship(back_populates="pools")

    __table_args__ = (UniqueConstraint("draw_id", "name", name="uq_draw_pool_name"),)


class DrawSecret(db.Model):
    """A party's secret: its SHA-256 at prepare time, the secret itself at execute time."""

    __tablename__ = "draw_secret"
    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"), index=True)
    party: Mapped[str] = mapped_column(String(40))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    secret: Mapped[str | None] = mapped_column(String(200))
    revealed_at: Mapped[datetime | None] = mapped_column(DateTime)

    draw: Mapped[Draw] = relationship(back_populates="secrets")

    __table_args__ = (UniqueConstraint("draw_id", "party", name="uq_draw_secret_party"),)


class DrawSelection(db.Model):
    """One pick of an executed team draw, in selection order. Never edited (the list is
    locked). A target draw's picks are its record and its visit links (pool, rank): see
    :func:`inspection.draws.target.operations.results`."""

    __tablename__ = "draw_selection"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: (the unique triple (draw_id, pool_name, rank) serves lookups by draw)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"))
    pool_name: Mapped[str] = mapped_column(String(40))
    rank: Mapped[int] = mapped_column(Integer)            # 1 = selected first
    position: Mapped[int] = mapped_column(Integer)        # line of the pool file
    candidate: Mapped[str] = mapped_column(String(40))    # credit code or inspector key
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employer.id"))
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("inspector.id"))

    __table_args__ = (UniqueConstraint("draw_id", "pool_name", "rank",
                                       name="uq_draw_selection_rank"),)


class TeamMember(db.Model):
    """An inspector on a visit's team. A replaced member stays on record (``replaced_at``)."""

    __tablename__ = "team_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    is_leader: Mapped[bool] = mapped_column(default=False)
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("draw.id"))
    #: How the member joined: drawn, reserve (递补), approver_choice.
    source: Mapped[str] = mapped_column(String(20), default="drawn")
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    replaced_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_team_member_visit_active", "visit_id", "replaced_at"),)


class TeamReserve(db.Model):
    """The reserve order (递补) drawn with a team, per visit and department."""

    __tablename__ = "team_reserve"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"))
    rank: Mapped[int] = mapped_column(Integer)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"))
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class InspectorExclusion(db.Model):
    """An inspector left out of a team draw for a visit, with the reason category."""

    __tablename__ = "inspector_exclusion"
    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"))
    #: conflict | same_region | last_inspector | not_available | certificate_expired
    reason: Mapped[str] = mapped_column(String(30))


class Substitution(db.Model):
    """Replacing a drawn inspector (调整更换/递补): requested with a reason, approved by an
    approver; the replacement is the next in reserve order or the approver's choice."""

    __tablename__ = "substitution"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("team_member.id"))
    #: post_change | schedule_conflict | health | recusal
    reason: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="requested")  # approved, rejected
    mode: Mapped[str | None] = mapped_column(String(20))   # reserve | approver_choice
    replacement_id: Mapped[int | None] = mapped_column(ForeignKey("inspector.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
