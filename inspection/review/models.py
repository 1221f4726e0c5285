"""After the visit: determination, publication, feedback, objections and corrections
(DOMAIN.md "After the visit"; docs/review.md).

The path of one visit, kept on :attr:`Visit.status` for the queues:

    recorded --return--> returned --(team seals a correction)--> recorded
    recorded --propose--> proposed --approve--> determined --publish--> published
                                   --reject---> recorded        --withhold (approved)--> withheld

Nothing here is edited once decided: a rejected proposal stays, and a published result is
corrected by a new approved :class:`Determination` that ``corrects`` the old one
(:class:`Correction`), the original kept on record and shown as corrected.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        event)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import utcnow
from ..extensions import db
from ..fieldwork.models import Visit


class Decision(str, enum.Enum):
    """The state of anything that is proposed by one person and decided by another."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


class Handling(str, enum.Enum):
    """How a problem found is handled (proposed with the determination; the follow-up
    itself is a later step)."""

    RECTIFIED_ON_SITE = "rectified_on_site"
    RECTIFICATION_ORDER = "rectification_order"   # with a due date
    FOLLOW_UP = "follow_up"
    REFERRAL = "referral"                         # 移交/移送, in-house or to another agency
    PENALTY = "penalty"                           # administrative penalty


class Determination(db.Model):
    """结果认定: the office's proposal of the bureau's result for a visit, decided by an
    approver (four eyes). Only an approved determination is the bureau's result.

    ``findings``: ``[{"item", "question", "finding", "handling", "due", "note"}]`` with
    ``handling`` a :class:`Handling` value for problems (``due`` for a rectification order).
    A correction's determination names the one it ``corrects``."""

    __tablename__ = "determination"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    #: The sealed record revision it is based on.
    revision_id: Mapped[int] = mapped_column(ForeignKey("record_revision.id"))
    result_category: Mapped[str] = mapped_column(String(30))
    findings: Mapped[list] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=Decision.PROPOSED.value, index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    #: The approved determination this one corrects (a :class:`Correction`).
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("determination.id"))
    #: Set when a later approved correction replaces it as the bureau's result.
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: The client's key of the proposal: a double submit answers the stored row.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    visit: Mapped[Visit] = relationship()


class PublicNameGram(db.Model):
    """The public results search's index (:mod:`.search_index`): a bigram of the employer's
    name (ASCII letters in lower case) of a published result, with the publication time.
    Written by the database's triggers, never by the application."""

    __tablename__ = "public_name_gram"
    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    visit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    published_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_public_name_gram_order", "gram", "published_at", "visit_id"),)


@event.listens_for(db.metadata, "after_create")
def _gram_triggers(_metadata, connection, tables=(), **_kw) -> None:
    # A schema made from the models (create_all) gets the triggers as the migration does,
    # once every table they name is there.
    from .search_index import install

    if any(table.name == PublicNameGram.__tablename__ for table in tables or ()):
        install(connection)


class Publication(db.Model):
    """公示 of one visit's result: one row per visit, made when the determination is
    approved. The deadline is computed by the bureau's clock (a setting) in working days;
    ``deadline`` is None when it falls in a year with no calendar (``deadline_year`` then
    names that year, and the deadline reads "calendar for YEAR missing")."""

    __tablename__ = "publication"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    #: pending | published | withheld
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    #: Which clock set the deadline: determination | check_end | task_end
    clock: Mapped[str] = mapped_column(String(20))
    clock_start: Mapped[date] = mapped_column(Date)
    workdays: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[date | None] = mapped_column(Date, index=True)
    #: The year whose calendar is missing, when the deadline could not be counted.
    deadline_year: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: Whether it was published (or withheld) by the deadline.
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    #: The end of the publication period (objections are taken until then), a date.
    period_end: Mapped[date | None] = mapped_column(Date)

    visit: Mapped[Visit] = relationship()


class ExceptionKind(str, enum.Enum):
    """Why a result may be withheld from publication (seed 000 三(九), 003 三(七))."""

    STATE_SECRET = "state_secret"
    NATIONAL_SECURITY = "national_security"
    PUBLIC_SECURITY = "public_security"
    NOT_FIT_BY_LAW = "not_fit_by_law"


class PublicationException(db.Model):
    """A proposal to withhold a result from publication, with its reason; approved by the
    position the bureau's setting names, it counts as handled (the visit is done)."""

    __tablename__ = "publication_exception"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=Decision.PROPOSED.value, index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")


class FeedbackWay(str, enum.Enum):
    """How the result was told to the employer (告知, seed 000)."""

    IN_PERSON = "in_person"          # in person, including on site
    PHONE = "phone"
    EMAIL = "email"
    POST = "post"
    LEFT_AT_PREMISES = "left_at_premises"  # 留置
    PUBLICATION = "publication"


class Feedback(db.Model):
    """The employer was told the result (检查结果告知书): how, when, and optional proof (a
    scan or photo in the file store, area ``feedback``)."""

    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    determination_id: Mapped[int] = mapped_column(ForeignKey("determination.id"))
    way: Mapped[str] = mapped_column(String(20))
    delivered_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    proof_sha256: Mapped[str | None] = mapped_column(String(64))
    proof_content_type: Mapped[str | None] = mapped_column(String(40))
    #: The deadline it answered, and whether it was met.
    deadline: Mapped[date | None] = mapped_column(Date)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ObjectionStatus(str, enum.Enum):
    OPEN = "open"              # the review (复查复核) is under way
    UPHELD = "upheld"          # the result stands
    CORRECTED = "corrected"    # the review found the result wrong: a correction follows


class Objection(db.Model):
    """异议 against a published result, during the publication period: entered by the office
    or submitted by the employer from the public page (no account). It opens a review
    (复查复核) with its own deadline; the outcome is public once decided."""

    __tablename__ = "objection"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The receipt number given to whoever submitted it, e.g. YY-2026-00012.
    number: Mapped[str] = mapped_column(String(30), unique=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    #: public | office
    source: Mapped[str] = mapped_column(String(10))
    credit_code: Mapped[str] = mapped_column(String(18))
    contact: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    deadline: Mapped[date | None] = mapped_column(Date)
    deadline_year: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default=ObjectionStatus.OPEN.value,
                                        index=True)
    #: The review's outcome, public once decided.
    outcome: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: The idempotency key of a public submission (a double submit answers the receipt).
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: Where a public submission came from (the rate limit counts by it).
    client_address: Mapped[str | None] = mapped_column(String(64), index=True)

    visit: Mapped[Visit] = relationship()


class CorrectionOrigin(str, enum.Enum):
    APPLICATION = "application"   # on the party's application (seed 000)
    BUREAU = "bureau"             # the bureau found the error (seed 004 第二十一条)


class Correction(db.Model):
    """A correction of a published result: proposed with a reason, approved by the
    position the bureau's setting names (主要负责人 by default, seed 004 第二十一条). On
    approval a new :class:`Determination` (``corrects`` the original) becomes the result;
    the original stays on record and the public page says the result was corrected."""

    __tablename__ = "correction"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    origin: Mapped[str] = mapped_column(String(20))
    objection_id: Mapped[int | None] = mapped_column(ForeignKey("objection.id"))
    original_id: Mapped[int] = mapped_column(ForeignKey("determination.id"))
    reason: Mapped[str] = mapped_column(Text)
    result_category: Mapped[str] = mapped_column(String(30))
    findings: Mapped[list] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=Decision.PROPOSED.value, index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    #: The determination made on approval.
    determination_id: Mapped[int | None] = mapped_column(ForeignKey("determination.id"))
