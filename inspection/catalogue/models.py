"""The catalogue of check items (随机抽查事项清单), versioned (seed 000; 001 第六、七条).

An item is a stable identity (:class:`CheckItem`, with its code); what it says lives in
numbered :class:`CheckItemVersion` rows. An edit makes a new version; old versions stay
readable, and a task pins the versions it uses. Publishing the list records which versions
were public from which date (:class:`CataloguePublication`).
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (JSON, Date, DateTime, ForeignKey, Integer, Numeric, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import Department, utcnow
from ..extensions import db


class ItemKind(str, enum.Enum):
    GENERAL = "general"   # ratio capped
    KEY = "key"           # ratio may reach 100%; the draw then fixes the order of visits


class InspectionMethod(str, enum.Enum):
    ON_SITE = "on_site"
    WRITTEN = "written"
    ONLINE = "online"
    THIRD_PARTY = "third_party"


class ItemStatus(str, enum.Enum):
    ACTIVE = "active"
    RETIRED = "retired"


class CheckItem(db.Model):
    __tablename__ = "check_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=ItemStatus.ACTIVE.value)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)
    retire_reason: Mapped[str | None] = mapped_column(Text)

    versions: Mapped[list[CheckItemVersion]] = relationship(
        back_populates="item", order_by="CheckItemVersion.number")

    @property
    def current(self) -> CheckItemVersion:
        return self.versions[-1]


class CheckItemVersion(db.Model):
    __tablename__ = "check_item_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("check_item.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    legal_basis: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    target_types: Mapped[list] = mapped_column(JSON)
    method: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))
    ratio: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    frequency: Mapped[int] = mapped_column(Integer, default=1)
    change_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    item: Mapped[CheckItem] = relationship(back_populates="versions")
    department: Mapped[Department] = relationship()
    questions: Mapped[list[CheckQuestion]] = relationship(
        back_populates="version", order_by="CheckQuestion.position")

    __table_args__ = (UniqueConstraint("item_id", "number", name="uq_check_item_version_number"),)


class CheckQuestion(db.Model):
    """One checklist question of an item version, answered on site."""

    __tablename__ = "check_question"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("check_item_version.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    evidence_hint: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[CheckItemVersion] = relationship(back_populates="questions")


class CataloguePublication(db.Model):
    """The list was published on ``published_on`` with exactly these item versions."""

    __tablename__ = "catalogue_publication"
    id: Mapped[int] = mapped_column(primary_key=True)
    published_on: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version_ids: Mapped[list] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
