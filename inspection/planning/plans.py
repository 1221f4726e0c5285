"""Annual plans (年度抽查计划): the changes. Each change loads its input through
:func:`.schemas.load_plan`, changes, writes the audit trail and commits, all or nothing; a
refused change raises :class:`ValidationFailed` naming every bad field.

States: ``draft`` → ``submitted`` (office) → ``approved`` (approver) → ``published`` (with the
day it was made public). A rejection sends a submitted plan back to ``draft`` with a note. Only
drafts are edited. A plan that has been approved is never changed again: :func:`revise_plan`
copies it into a new ``draft`` revision (``revision + 1``, ``previous_id`` → the approved one)
that goes through submit and approve again. The approved revision stays **in force** until the
new one is approved; only then does it become ``superseded``.
:func:`~.queries.plan_in_force` answers which revision that is (at most one per year is
approved or published).

Per-grade rules (seed 004 第六条 and the bureau's rules, checked by
:class:`~.schemas.PlanSchema`): the defaults (:data:`~.models.DEFAULT_GRADE_RULES`: A 1 %/once,
B 3 %/once, C 10 %/twice, D 20 %/three times) are **minimums**. A plan may set a higher ratio
or frequency, never a lower one, so that a low-risk grade cannot be quietly left unchecked. A
plan's ratio may not exceed :data:`~.rules.GENERAL_TASK_RATIO_CEILING` either, else a task of
general items could never meet it. ``yearly_cap`` is the number of random checks one employer
may get in a year (seed 001 第十一条: "原则上不超过2次"; default 2).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..core import audit
from ..core.errors import Conflict, ValidationFailed
from ..core.models import User, utcnow
from ..extensions import db
from .models import AnnualPlan, PlanStatus
from .queries import open_revision, plan_in_force, plan_values
from .rules import (IN_FORCE, actor_id, changes_between, check_note, default_grade_rules,
                    local_today)
from .schemas import load_plan


def create_plan(values: Mapping[str, Any], actor: User | None = None) -> AnnualPlan:
    """Revision 1 of a year's plan, as a draft. ``grade_rules`` and ``yearly_cap`` default to
    the minimums of seed 004 and the cap of seed 001. A year has one plan: later changes are
    revisions (:func:`revise_plan`)."""
    merged = {"grade_rules": default_grade_rules(), "yearly_cap": 2, **{
        k: v for k, v in values.items() if v is not None}}
    clean = load_plan(merged, new=True)
    year = clean.pop("year")
    if db.session.scalar(select(AnnualPlan.id).where(AnnualPlan.year == year).limit(1)):
        raise ValidationFailed(
            _("There is a plan for %(year)d already; revise it instead.", year=year),
            {"year": [_("There is a plan for this year already.")]})
    plan = AnnualPlan(year=year, revision=1, status=PlanStatus.DRAFT.value, created_at=utcnow(),
                      created_by_id=actor_id(actor), **clean)
    db.session.add(plan)
    _flush_revision(year)
    audit.record("plan.create", "annual_plan", plan.id,
                 {"year": year, "revision": 1, "title": clean["title"],
                  "grade_rules": clean["grade_rules"], "yearly_cap": clean["yearly_cap"]},
                 actor=actor)
    db.session.commit()
    return plan


def update_plan(plan: AnnualPlan, values: Mapping[str, Any],
                actor: User | None = None) -> AnnualPlan:
    """Change a draft (keys left out keep their value). Records only what changed."""
    if plan.status != PlanStatus.DRAFT.value:
        raise Conflict(_("Only a draft plan can be edited; an approved plan is changed by a "
                         "new revision."))
    before = plan_values(plan)
    merged = {**before, **{k: v for k, v in values.items() if k in before}}
    clean = load_plan(merged)
    changes = changes_between(before, clean)
    if not changes:
        return plan
    for key, value in clean.items():
        setattr(plan, key, value)
    audit.record("plan.update", "annual_plan", plan.id, {"changes": changes}, actor=actor)
    db.session.commit()
    return plan


def submit_plan(plan: AnnualPlan, actor: User | None = None) -> AnnualPlan:
    """Send a draft for approval (checked again in full)."""
    if plan.status != PlanStatus.DRAFT.value:
        raise Conflict(_("Only a draft plan can be submitted."))
    load_plan(plan_values(plan))
    if plan.revision > 1 and not plan.change_note.strip():
        raise ValidationFailed(_("Say what this revision changes and why."),
                               {"change_note": [_("A change note is required.")]})
    plan.status = PlanStatus.SUBMITTED.value
    plan.submitted_at = utcnow()
    audit.record("plan.submit", "annual_plan", plan.id,
                 {"year": plan.year, "revision": plan.revision}, actor=actor)
    db.session.commit()
    return plan


def approve_plan(plan: AnnualPlan, actor: User | None = None, note: str = "") -> AnnualPlan:
    """Approve a submitted plan. It comes into force; the revision that was in force for the
    year (if any) becomes superseded in the same transaction."""
    if plan.status != PlanStatus.SUBMITTED.value:
        raise Conflict(_("Only a submitted plan can be approved."))
    note = check_note(note, required=False)
    previous = plan_in_force(plan.year)
    if previous is not None and previous.id != plan.id:
        previous.status = PlanStatus.SUPERSEDED.value
        audit.record("plan.supersede", "annual_plan", previous.id,
                     {"year": previous.year, "revision": previous.revision,
                      "superseded_by": plan.id}, actor=actor)
    plan.status = PlanStatus.APPROVED.value
    plan.approved_at = utcnow()
    plan.approved_by_id = actor_id(actor)
    plan.review_note = note
    audit.record("plan.approve", "annual_plan", plan.id,
                 {"year": plan.year, "revision": plan.revision, "note": note,
                  "supersedes": previous.id if previous is not None else None}, actor=actor)
    db.session.commit()
    return plan


def reject_plan(plan: AnnualPlan, note: str, actor: User | None = None) -> AnnualPlan:
    """Send a submitted plan back to draft, saying why."""
    if plan.status != PlanStatus.SUBMITTED.value:
        raise Conflict(_("Only a submitted plan can be rejected."))
    note = check_note(note, required=True)
    plan.status = PlanStatus.DRAFT.value
    plan.review_note = note
    audit.record("plan.reject", "annual_plan", plan.id,
                 {"year": plan.year, "revision": plan.revision, "note": note}, actor=actor)
    db.session.commit()
    return plan


def publish_plan(plan: AnnualPlan, published_on: date | None = None,
                 actor: User | None = None) -> AnnualPlan:
    """Record that the approved plan was made public on ``published_on`` (default today)."""
    if plan.status != PlanStatus.APPROVED.value:
        raise Conflict(_("Only an approved plan in force can be published."))
    if isinstance(published_on, datetime):
        published_on = published_on.date()
    published_on = published_on or local_today()
    if not isinstance(published_on, date):
        raise ValidationFailed(_("Enter the day of publication."),
                               {"published_on": [_("Enter a date.")]})
    plan.status = PlanStatus.PUBLISHED.value
    plan.published_on = published_on
    audit.record("plan.publish", "annual_plan", plan.id,
                 {"year": plan.year, "revision": plan.revision,
                  "published_on": published_on.isoformat()}, actor=actor)
    db.session.commit()
    return plan


def revise_plan(plan: AnnualPlan, change_note: str = "", actor: User | None = None) -> AnnualPlan:
    """Start a new revision of the plan in force: a draft copy (revision + 1) pointing to it.
    The plan in force stays in force until the new revision is approved."""
    if plan.status not in IN_FORCE:
        raise Conflict(_("Only the approved plan in force can be revised."))
    pending = open_revision(plan.year)
    if pending is not None:
        raise Conflict(_("Revision %(n)d of this plan is not yet approved; finish it first.",
                         n=pending.revision))
    note = check_note(change_note, required=False)
    last = db.session.scalar(select(func.max(AnnualPlan.revision))
                             .where(AnnualPlan.year == plan.year)) or plan.revision
    values = plan_values(plan)
    values["change_note"] = note
    new = AnnualPlan(year=plan.year, revision=last + 1, previous_id=plan.id,
                     status=PlanStatus.DRAFT.value, created_at=utcnow(),
                     created_by_id=actor_id(actor), **values)
    db.session.add(new)
    _flush_revision(plan.year)
    audit.record("plan.revise", "annual_plan", new.id,
                 {"year": plan.year, "revision": new.revision, "previous_id": plan.id,
                  "note": note}, actor=actor)
    db.session.commit()
    return new


def _flush_revision(year: int) -> None:
    """Insert a plan revision; another user saving the same (year, revision) at the same
    moment makes the unique constraint fail: answer 409, not 500."""
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("Someone else changed the plan for %(year)d at the same moment; "
                         "reload and try again.", year=year)) from None

