"""The demo bureau's catalogue: the eight standard items of :mod:`.standard_items`, published
once. Deterministic, and safe to run again (existing codes and a first publication are kept)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..core import operations as core_ops
from ..extensions import db
from . import operations as ops
from .models import CheckItem
from .standard_items import STANDARD_ITEMS

#: The demo list was published at the start of the year.
DEMO_PUBLISHED_ON = date(2026, 1, 5)


def seed_catalogue(published_on: date = DEMO_PUBLISHED_ON) -> list[CheckItem]:
    """Create the standard items (departments by name, made by the core demo) and publish the
    list once. Returns the items, by code."""
    existing = set(db.session.scalars(select(CheckItem.code)))
    for data in STANDARD_ITEMS:
        if data["code"] in existing:
            continue
        dept = core_ops.get_department(data["department"])
        values = {key: value for key, value in data.items() if key != "department"}
        values["department_id"] = dept.id
        values["questions"] = [{k: q[k] for k in ("text", "legal_basis", "evidence_hint")}
                               for q in data["questions"]]
        ops.create_item(values, change_note="标准事项（种子 000）")
    if ops.last_publication() is None:
        ops.publish(published_on, note="随机抽查事项清单（演示）")
    return ops.active_items()
