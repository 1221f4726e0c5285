"""The link between a published result and its rectification follow-up's, both ways, for the
public results (``review/public.py``): only results that are themselves published are
linked (nothing of an unpublished visit is public). No statement of its own: two correlated
columns join the query of the published results (:func:`link_columns`)."""
from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ...fieldwork.models import Visit, VisitStatus


def link_columns() -> tuple:
    """Two columns for a query of :class:`Visit` rows: ``follows_number`` (the published
    result this one is the follow-up of) and ``followed_by_number`` (its published
    follow-up; a visit has at most one)."""
    published = VisitStatus.PUBLISHED.value
    earlier, later = aliased(Visit), aliased(Visit)
    return (select(earlier.number).where(earlier.id == Visit.follows_id,
                                         earlier.status == published)
            .correlate(Visit).scalar_subquery().label("follows_number"),
            select(func.min(later.number)).where(later.follows_id == Visit.id,
                                                 later.status == published)
            .correlate(Visit).scalar_subquery().label("followed_by_number"))


def _link(number: str) -> dict[str, str]:
    return {"visit": number,
            "url": url_for("public_results.show", number=number, _external=True)}


def follow_links(row) -> dict[str, Any]:
    """``{"follows": {"visit", "url"} | None, "followed_by": [{"visit", "url"}]}`` of a row
    read with :func:`link_columns`."""
    follows, later = getattr(row, "follows_number", None), getattr(row, "followed_by_number",
                                                                   None)
    return {"follows": _link(follows) if follows else None,
            "followed_by": [_link(later)] if later else []}
