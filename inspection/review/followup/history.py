"""The employer's history (DOMAIN.md "After the visit": "the result of the follow-up goes
into the employer's history"): every visit of the employer with what followed it, newest
first: the visit (number, tasks, window, status), the approved result (category), its
rectification orders (due), the follow-up it led to (linked both ways), corrections and
objections.

The directory's employer page shows it through the hook
``app.extensions["employer_history"]`` (registered by :func:`.init_app`): the directory sits
below review and imports nothing of it (docs/architecture.md "Imports run one way").

Statements: one per kind, whatever the employer's number of visits (visits, their tasks,
determinations, publications, corrections, objections); the visits are paged
(:data:`PER_PAGE` per page, the newest first) and the entries are those of the page's visits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from marshmallow import EXCLUDE, Schema, ValidationError, validate
from sqlalchemy import select

from ...core.errors import ValidationFailed
from ...core.fields import WholeNumber, flat_errors
from ...extensions import db
from ...fieldwork.models import Visit
from ...fieldwork.results import shown_label
from ...fieldwork.visits import tasks_of
from .. import operations as review
from ..models import (Correction, Decision, Determination, Handling, Objection,
                      Publication)

PER_PAGE = 20
MAX_PAGE = 10_000


class HistoryQuerySchema(Schema):
    """The page of the history (``?history_page=``) on the employer's page."""

    class Meta:
        unknown = EXCLUDE

    history_page = WholeNumber(load_default=1, validate=validate.Range(
        min=1, max=MAX_PAGE, error=_l("A page number from 1.")),
        error_messages={"invalid": _l("A page number from 1.")})


@dataclass
class Entry:
    """One line of the history. ``kind``: visit, follow_up, result, order, correction,
    objection, published."""

    at: datetime | date
    kind: str
    visit: str                      # the visit's number
    text: str
    detail: str = ""
    link: str | None = None         # another visit's number (a follow-up and its original)


@dataclass
class History:
    entries: list[Entry] = field(default_factory=list)
    page: int = 1
    more: bool = False
    visits: int = 0


def _when(value: datetime | date) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month,
                                                              value.day)


def employer_history(employer_id: int, page: int = 1, per_page: int = PER_PAGE) -> History:
    """The employer's history, newest first: the entries of the ``page``-th
    ``per_page`` visits (newest visits first), ``more`` when older visits remain."""
    visits = db.session.scalars(
        select(Visit).where(Visit.employer_id == employer_id)
        .order_by(Visit.created_at.desc(), Visit.id.desc())
        .limit(per_page + 1).offset((page - 1) * per_page)).all()
    more = len(visits) > per_page
    visits = visits[:per_page]
    out = History(page=page, more=more, visits=len(visits))
    if not visits:
        return out
    ids = [v.id for v in visits]
    numbers = {v.id: v.number for v in visits}
    tasks = tasks_of(ids)
    followed = {v.follows_id for v in visits if v.follows_id is not None} - set(ids)
    if followed:
        # Originals on an older page: their numbers only, for the link (one statement).
        numbers.update(db.session.execute(select(Visit.id, Visit.number)
                                          .where(Visit.id.in_(followed))).tuples().all())
    follow_ups = {v.follows_id: v.number for v in visits if v.follows_id is not None}
    status_label = review.status_label
    for v in visits:
        names = "、".join(t.name for t in tasks[v.id])
        window = f"{v.window_start.isoformat()} – {v.window_end.isoformat()}"
        if v.follows_id is not None:
            out.entries.append(Entry(v.created_at, "follow_up", v.number,
                                     _("Rectification follow-up of %(visit)s",
                                       visit=numbers.get(v.follows_id, "")),
                                     f"{names} · {window} · {status_label(v.status)}",
                                     link=numbers.get(v.follows_id)))
        else:
            out.entries.append(Entry(v.created_at, "visit", v.number, _("Visit"),
                                     f"{names} · {window} · {status_label(v.status)}",
                                     link=follow_ups.get(v.id)))
    labels = review.handling_labels()
    for det in db.session.scalars(select(Determination).where(
            Determination.visit_id.in_(ids), Determination.status == Decision.APPROVED.value)
            .order_by(Determination.id)):
        number = numbers[det.visit_id]
        category = shown_label(det.result_category)
        if det.corrects_id is not None:
            text = _("Result corrected: %(category)s", category=category)
        else:
            text = _("Result approved: %(category)s", category=category)
        detail = _("superseded by a correction") if det.superseded_at else ""
        out.entries.append(Entry(det.decided_at, "result", number, text, detail))
        if det.corrects_id is None:
            for finding in det.findings or []:
                if finding.get("handling") == Handling.RECTIFICATION_ORDER.value:
                    out.entries.append(Entry(
                        det.decided_at, "order", number,
                        _("%(order)s, due %(due)s",
                          order=labels[Handling.RECTIFICATION_ORDER.value],
                          due=finding.get("due") or ""),
                        " ".join(x for x in (finding.get("item"), finding.get("question"),
                                             finding.get("finding")) if x),
                        link=follow_ups.get(det.visit_id)))
    for pub in db.session.scalars(select(Publication).where(
            Publication.visit_id.in_(ids), Publication.published_at.is_not(None))):
        out.entries.append(Entry(pub.published_at, "published", numbers[pub.visit_id],
                                 _("Result published")))
    for row in db.session.scalars(select(Correction).where(Correction.visit_id.in_(ids))):
        out.entries.append(Entry(row.decided_at or row.proposed_at, "correction",
                                 numbers[row.visit_id],
                                 _("Correction %(status)s",
                                   status=review.decision_label(row.status)), row.reason))
    for row in db.session.scalars(select(Objection).where(Objection.visit_id.in_(ids))):
        out.entries.append(Entry(row.submitted_at, "objection", numbers[row.visit_id],
                                 _("Objection %(number)s", number=row.number),
                                 row.outcome or _("under review")))
    order = {"visit": 0, "follow_up": 0, "result": 1, "order": 2, "published": 3,
             "objection": 4, "correction": 5}
    out.entries.sort(key=lambda e: (_when(e.at), order[e.kind]), reverse=True)
    return out


def load_page(args) -> int:
    try:
        return HistoryQuerySchema().load(args)["history_page"]
    except ValidationError as error:
        raise ValidationFailed(_("Some values are not valid."),
                               fields=flat_errors(error.messages)) from None


def history_section(employer: Any) -> Markup:
    """The hook of the directory's employer page: the history section, rendered."""
    history = employer_history(employer.id, load_page(request.args))
    return Markup(render_template("review/followup/_history.html", history=history,
                                  employer=employer))
