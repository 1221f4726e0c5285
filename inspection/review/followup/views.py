"""The office's page of rectification follow-ups (``/review/follow-ups``): every follow-up
with the visit it follows, its window, status and team; the office asks to give one that has
not started to other inspectors, an approver decides. Thin: the work is in
:mod:`.operations`; input is checked by the load schemas below."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ...core.access import roles
from ...core.errors import DomainError, ValidationFailed
from ...core.fields import WholeNumber, flat_errors
from ...directory.models import Inspector
from ...draws.team import queries as team_queries
from ...extensions import db
from ...fieldwork.models import Visit
from .. import documents
from .. import operations as review
from ..models import Decision
from . import operations as ops
from .models import FollowUpReassignment

bp = Blueprint("followup", __name__, url_prefix="/review/follow-ups")

PER_PAGE = 50


class ReassignSchema(Schema):
    """A request to give a follow-up to other inspectors: their directory ids, the leader
    first (one per line or separated by commas), and the reason."""

    class Meta:
        unknown = EXCLUDE

    inspector_ids = fields.List(WholeNumber(validate=validate.Range(min=1, max=2**31 - 1)),
                                required=True,
                                validate=validate.Length(min=ops.MIN_TEAM, max=10),
                                error_messages={"required": _l("Required.")})
    reason = fields.String(required=True, validate=validate.Length(
        min=1, max=2000, error=_l("Required, at most %(n)d characters.", n=2000)),
        error_messages={"required": _l("Required.")})

    @pre_load
    def _split(self, data, **_kw):
        raw = data.get("inspector_ids", "")
        parts = raw if isinstance(raw, list) else str(raw).replace(",", " ").split()
        return {"inspector_ids": parts, "reason": str(data.get("reason", "")).strip()}


class ReassignDecisionSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    approve = fields.Boolean(required=True, error_messages={"required": _l("Required.")})
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class ListQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    page = WholeNumber(load_default=1, validate=validate.Range(
        min=1, max=100_000, error=_l("A page number from 1.")))


def _load(schema: Schema, data) -> dict:
    try:
        return schema.load(data)
    except ValidationError as error:
        raise ValidationFailed(_("Some values are not valid."),
                               fields=flat_errors(error.messages)) from None


def _page(page: int) -> dict:
    """One page of follow-ups, newest first, with what each row shows: a fixed number of
    statements (follow-ups with employers, originals, teams, people, pending requests)."""
    total = db.session.scalar(select(func.count(Visit.id))
                              .where(Visit.follows_id.is_not(None)))
    visits = db.session.scalars(
        select(Visit).where(Visit.follows_id.is_not(None)).options(selectinload(Visit.employer))
        .order_by(Visit.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    ids = [v.id for v in visits]
    originals = dict(db.session.execute(select(Visit.id, Visit.number).where(
        Visit.id.in_({v.follows_id for v in visits}))).tuples().all()) if visits else {}
    teams = team_queries.members_by_visit(ids)
    people = team_queries.inspectors_by_id(m.inspector_id for t in teams.values() for m in t)
    pending: dict[int, FollowUpReassignment] = {}
    if ids:
        for row in db.session.scalars(select(FollowUpReassignment).where(
                FollowUpReassignment.visit_id.in_(ids),
                FollowUpReassignment.status == Decision.PROPOSED.value)):
            pending[row.visit_id] = row
    asked = {i for row in pending.values() for i in row.inspector_ids} - set(people)
    if asked:
        people.update({i.id: i for i in db.session.scalars(
            select(Inspector).where(Inspector.id.in_(asked)))})
    asked_names = {visit_id: "、".join(people[i].name for i in row.inspector_ids)
                   for visit_id, row in pending.items()}
    return {"visits": visits, "originals": originals, "teams": teams, "people": people,
            "pending": pending, "asked_names": asked_names, "page": page,
            "pages": max(1, -(-total // PER_PAGE)),
            "total": total}


@bp.get("/")
@roles(*documents.READERS)
def index():
    """The follow-ups, newest first; a request to change a team and its decision."""
    page = _load(ListQuerySchema(), request.args)["page"]
    return render_template("review/followup/index.html", status_label=review.status_label,
                           not_started=ops.NOT_STARTED, **_page(page))


@bp.post("/<number>/reassign")
@roles(*documents.OFFICE)
def reassign(number: str):
    try:
        values = _load(ReassignSchema(), request.form.to_dict())
        ops.request_reassignment(number, values["inspector_ids"], values["reason"],
                                 actor=current_user._get_current_object())
    except DomainError as error:
        db.session.rollback()
        flash(_("%(message)s %(fields)s", message=error.message,
                fields=" ".join(m for ms in (error.fields or {}).values() for m in ms)),
              "error")
        return redirect(url_for("followup.index")), 303
    flash(_("The change of team waits for an approver."), "success")
    return redirect(url_for("followup.index"))


@bp.post("/requests/<int:request_id>/decision")
@roles(*documents.APPROVERS)
def decide(request_id: int):
    try:
        values = _load(ReassignDecisionSchema(), request.form.to_dict())
        ops.decide_reassignment(request_id, values["approve"], values["reason"],
                                actor=current_user._get_current_object())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("followup.index")), 303
    flash(_("Decided."), "success")
    return redirect(url_for("followup.index"))
