"""The change history of directory records (employers and inspectors)."""
from __future__ import annotations

from typing import Any, Iterable

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import select

from ..core.models import User
from ..extensions import db
from .models import DirectoryChange


def diff(obj: Any, values: dict[str, Any], fields: Iterable[str]) -> dict[str, list[Any]]:
    """Apply ``values`` to ``obj`` for ``fields``; return ``{field: [old, new]}`` of what
    actually changed (values that are equal are not changes)."""
    changes = {}
    for field in fields:
        if field not in values:
            continue
        old, new = getattr(obj, field), values[field]
        if old != new:
            changes[field] = [_plain(old), _plain(new)]
            setattr(obj, field, new)
    return changes


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def record_change(subject_type: str, subject_id: int, action: str,
                  changes: dict[str, Any], reason: str | None = None,
                  actor: User | None = None, import_id: int | None = None) -> DirectoryChange:
    """Add a history row in the current transaction (the caller commits)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    row = DirectoryChange(subject_type=subject_type, subject_id=subject_id, action=action,
                          changes=changes, reason=reason or None,
                          actor_id=actor.id if actor else None,
                          actor_name=actor.username if actor else "system",
                          import_id=import_id)
    db.session.add(row)
    return row


def history(subject_type: str, subject_id: int, limit: int = 200) -> list[DirectoryChange]:
    """Newest first."""
    return db.session.scalars(
        select(DirectoryChange)
        .where(DirectoryChange.subject_type == subject_type,
               DirectoryChange.subject_id == subject_id)
        .order_by(DirectoryChange.id.desc()).limit(limit)).all()
