"""A follow-up visit given to other inspectors (DOMAIN.md "Approvers differ by act"): the
office asks, an approver decides (four eyes), like a substitution of a drawn member."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ...core.models import utcnow
from ...extensions import db
from ..models import Decision


class FollowUpReassignment(db.Model):
    """A request to give a follow-up visit to another team. ``inspector_ids`` is the new
    team, its leader first. On approval the visit's current members are marked replaced and
    the new ones join (``TeamMember.source`` ``follow_up``)."""

    __tablename__ = "follow_up_reassignment"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    inspector_ids: Mapped[list] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=Decision.PROPOSED.value, index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
