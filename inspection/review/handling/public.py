"""What the public reads of the handling (seed 000 四 "后续处理结果...依法公示", 001 第十四条
"处理结果...向社会进行公布"): for each problem of the published result, the handling decision's
kind, the day it was sent and the outcome once it came back. Never a person's name, nor the
recipient or the materials (free text the office writes for the letter, not for the public).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from ...extensions import db
from ..models import Decision, Determination
from .models import HandlingDecision
from .operations import kind_labels


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def published_handling(visit_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """``{visit_id: [{"problem", "item", "kind", "kind_label", "sent_on", "outcome",
    "outcome_on"}]}``: the approved decisions of each visit's current result, one statement."""
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in visit_ids}
    if not visit_ids:
        return found
    labels = kind_labels()
    for row in db.session.execute(
            select(HandlingDecision.visit_id, HandlingDecision.problem, HandlingDecision.item,
                   HandlingDecision.kind, HandlingDecision.sent_on, HandlingDecision.outcome,
                   HandlingDecision.outcome_on)
            .join(Determination, Determination.id == HandlingDecision.determination_id)
            .where(HandlingDecision.visit_id.in_(visit_ids),
                   HandlingDecision.status == Decision.APPROVED.value,
                   Determination.superseded_at.is_(None))
            .order_by(HandlingDecision.visit_id, HandlingDecision.problem)):
        found[row.visit_id].append({
            "problem": row.problem + 1, "item": row.item, "kind": row.kind,
            "kind_label": labels.get(row.kind, row.kind), "sent_on": row.sent_on,
            "outcome": row.outcome if row.outcome_on else "", "outcome_on": row.outcome_on})
    return found


def as_json(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(e, sent_on=_iso(e["sent_on"]), outcome_on=_iso(e["outcome_on"]))
            for e in entries]
