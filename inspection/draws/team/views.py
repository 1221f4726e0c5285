"""Pages of the team draw (随机选派检查人员), substitutions and the inspectors' assignments.
Thin: the work is done in :mod:`.operations`, the reading in :mod:`.queries`."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...core.access import OFFICE_READERS, roles
from ...core.errors import DomainError
from ...core.forms import show_errors
from ...core.models import Role
from ...extensions import db
from ...fieldwork.models import Visit
from .. import commitments
from ..models import DrawStatus, TeamMember
from . import labels, queries
from . import operations as ops
from .eligibility import eligibility
from .forms import (CancelForm, SubstitutionDecisionForm, SubstitutionRequestForm,
                    TeamPrepareForm, execute_form, execute_values, party_rows, prepare_values,
                    source_rows)

bp = Blueprint("teams", __name__)
WRITERS = (Role.ADMIN, Role.OFFICE)


@bp.context_processor
def _labels():
    states = labels.status_labels()
    return {"state": lambda code: states.get(code, code),
            "time_lock_notice": commitments.time_lock_notice}


def _user():
    return current_user._get_current_object()


@bp.get("/teams/")
@roles(*OFFICE_READERS)
def index():
    tasks = queries.tasks_with_targets()
    draws = queries.team_draws_of(t.id for t in tasks)
    pending = len(queries.substitutions(status="requested"))
    return render_template("teams/index.html", tasks=tasks, draws=draws, pending=pending)


def _task_page(task, form=None, status=200):
    departments = []
    for dept, is_lead in queries.task_departments(task):
        draw = queries.current_draw(task, dept.id)
        preview = eligibility(task, dept, is_lead) if draw is None else None
        departments.append({"department": dept, "is_lead": is_lead, "draw": draw,
                            "preview": preview})
    if form is None:
        form = TeamPrepareForm()
    form.department.choices = [(d["department"].id, d["department"].name)
                               for d in departments if d["draw"] is None]
    return render_template("teams/task.html", task=task, departments=departments, form=form,
                           party_rows=party_rows(form), source_rows=source_rows(form),
                           draws=queries.team_draws(task),
                           visits=queries.task_visits(task),
                           reasons=labels.reason_labels()), status


@bp.get("/teams/tasks/<int:task_id>")
@roles(*OFFICE_READERS)
def task(task_id: int):
    return _task_page(queries.get_task(task_id))


@bp.post("/teams/tasks/<int:task_id>/prepare")
@roles(*WRITERS)
def prepare(task_id: int):
    task = queries.get_task(task_id)
    form = TeamPrepareForm()
    form.department.choices = [(d.id, d.name) for d, _lead in queries.task_departments(task)]
    if not form.validate_on_submit():
        flash(_("Please correct the marked fields."), "error")
        return _task_page(task, form, 400)
    sources, secrets = prepare_values(form)
    try:
        prepared = ops.prepare_team_draw(task, form.department.data, mode=form.mode.data,
                                         declared_sources=sources, secret_specs=secrets,
                                         actor=_user())
    except DomainError as error:
        show_errors(form, error)
        return _task_page(task, form, error.status)
    for party, secret in prepared.generated.items():
        flash(_("Secret of %(party)s: %(secret)s (shown once; the party keeps it and reveals it "
                "at execution).", party=party, secret=secret), "secret")
    flash(_("Team draw %(id)s prepared; its commitment is fixed.",
            id=prepared.draw.public_id), "success")
    return redirect(url_for("teams.draw", draw_id=prepared.draw.id))


def _draw_page(draw, form=None, status=200):
    if form is None and draw.status == DrawStatus.PREPARED.value:
        form = execute_form(draw)
    teams = queries.draw_teams(draw)
    members = {m.id for t in teams for m in t.members + t.former}
    subs = [s for s in queries.substitutions() if s.member_id in members]
    excluded = queries.exclusions(draw)
    people = queries.inspectors_by_id(
        [m.inspector_id for t in teams for m in t.members + t.former]
        + [r.inspector_id for t in teams for r in t.reserves] + [e.inspector_id for e in excluded])
    numbers = {v.id: v.number for v in db.session.scalars(select(Visit).where(
        Visit.id.in_({e.visit_id for e in excluded if e.visit_id})))}
    return render_template("teams/draw.html", draw=draw, task=queries.get_task(draw.task_id),
                           form=form, cancel_form=CancelForm(), teams=teams,
                           exclusions=excluded, people=people, numbers=numbers,
                           reasons=labels.reason_labels(), substitutions=subs,
                           sub_reasons=labels.substitution_reason_labels(),
                           modes=labels.mode_labels(), key=queries.inspector_key), status


@bp.get("/teams/draws/<int:draw_id>")
@roles(*OFFICE_READERS)
def draw(draw_id: int):
    return _draw_page(queries.get_draw(draw_id))


@bp.post("/teams/draws/<int:draw_id>/execute")
@roles(*WRITERS)
def execute(draw_id: int):
    draw = queries.get_draw(draw_id)
    form = execute_form(draw, request.form)
    if draw.status != DrawStatus.PREPARED.value:
        flash(_("This draw is %(status)s; it cannot be executed.", status=draw.status), "error")
        return redirect(url_for("teams.draw", draw_id=draw.id))
    if not form.validate_on_submit():
        flash(_("Enter every source value and every secret."), "error")
        return _draw_page(draw, form, 400)
    sources, revealed = execute_values(form, draw)
    try:
        ops.execute_team_draw(draw.id, source_values=sources, revealed=revealed, actor=_user())
    except DomainError as error:
        db.session.rollback()
        for name, messages in error.fields.items():
            for n, secret in enumerate(draw.secrets):
                if secret.party == name:
                    getattr(form, f"secret_{n}").errors = list(messages)
        flash(error.message, "error")
        return _draw_page(queries.get_draw(draw_id), form, error.status)
    flash(_("The team draw is executed; the teams are assigned."), "success")
    return redirect(url_for("teams.draw", draw_id=draw.id))


@bp.post("/teams/draws/<int:draw_id>/cancel")
@roles(*WRITERS)
def cancel(draw_id: int):
    draw = queries.get_draw(draw_id)
    form = CancelForm()
    if not form.validate_on_submit():
        flash(_("Give a reason."), "error")
        return redirect(url_for("teams.draw", draw_id=draw.id))
    try:
        ops.cancel_team_draw(draw.id, form.reason.data, _user())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("The prepared draw is cancelled; it stays on record."), "success")
    return redirect(url_for("teams.task", task_id=draw.task_id))


@bp.get("/teams/draws/<int:draw_id>/record.json")
@roles(*OFFICE_READERS)
def record(draw_id: int):
    from flask import jsonify
    draw = queries.get_draw(draw_id)
    response = jsonify(queries.public_team_record(draw))
    response.headers["Content-Disposition"] = f'attachment; filename="{draw.public_id}.json"'
    return response


@bp.route("/teams/members/<int:member_id>/substitute", methods=["GET", "POST"])
@roles(*WRITERS)
def substitute(member_id: int):
    member = queries.get_member(member_id)
    form = SubstitutionRequestForm()
    status = 200
    if form.validate_on_submit():
        try:
            sub = ops.request_substitution(member, form.reason.data, form.note.data, _user())
        except DomainError as error:
            show_errors(form, error)
            status = error.status
        else:
            flash(_("Substitution requested; an approver decides."), "success")
            return redirect(url_for("teams.substitution", substitution_id=sub.id))
    elif request.method == "POST":
        status = 400
    visit = db.session.get(Visit, member.visit_id)
    inspector = queries.inspectors_by_id([member.inspector_id])[member.inspector_id]
    return render_template("teams/substitute.html", form=form, member=member, visit=visit,
                           inspector=inspector), status


@bp.get("/teams/substitutions")
@roles(*OFFICE_READERS)
def substitutions():
    status = request.args.get("status") or None
    rows = queries.substitutions(status=status)
    return _sub_list(rows, status)


def _sub_list(rows, status):
    # Members, people and visits (with their employers) of all rows at once.
    members = {m.id: m for m in db.session.scalars(select(TeamMember).where(
        TeamMember.id.in_({s.member_id for s in rows})))} if rows else {}
    people = queries.inspectors_by_id([m.inspector_id for m in members.values()]
                                      + [s.replacement_id for s in rows if s.replacement_id])
    visits = {v.id: v for v in db.session.scalars(select(Visit).where(
        Visit.id.in_({s.visit_id for s in rows})).options(selectinload(Visit.employer)))} \
        if rows else {}
    return render_template("teams/substitutions.html", rows=rows, members=members,
                           people=people, visits=visits, status=status,
                           sub_reasons=labels.substitution_reason_labels(),
                           modes=labels.mode_labels())


def _decision_form(sub, member):
    form = SubstitutionDecisionForm()
    form.replacement.choices = [(0, _("— choose —"))] + [
        (i.id, f"{i.name} ({i.cert_number})") for i in ops.qualified_replacements(member)]
    return form


def _sub_page(sub, form=None, status=200):
    member = queries.get_member(sub.member_id)
    if form is None:
        form = _decision_form(sub, member)
    visit = db.session.get(Visit, sub.visit_id)
    people = queries.inspectors_by_id([member.inspector_id] + (
        [sub.replacement_id] if sub.replacement_id else []))
    reserve = ops.next_reserve(member) if sub.status == "requested" else None
    reserve_person = queries.inspectors_by_id([reserve.inspector_id])[reserve.inspector_id] \
        if reserve else None
    return render_template("teams/substitution.html", sub=sub, member=member, visit=visit,
                           people=people, form=form, reserve=reserve,
                           reserve_person=reserve_person,
                           sub_reasons=labels.substitution_reason_labels(),
                           modes=labels.mode_labels()), status


@bp.get("/teams/substitutions/<int:substitution_id>")
@roles(*OFFICE_READERS)
def substitution(substitution_id: int):
    return _sub_page(queries.get_substitution(substitution_id))


@bp.post("/teams/substitutions/<int:substitution_id>/decide")
@roles(Role.APPROVER)
def decide(substitution_id: int):
    sub = queries.get_substitution(substitution_id)
    member = queries.get_member(sub.member_id)
    form = _decision_form(sub, member)
    if not form.validate_on_submit():
        flash(_("Please correct the marked fields."), "error")
        return _sub_page(sub, form, 400)
    try:
        ops.decide_substitution(sub, approve=form.decision.data == "approve",
                                mode=form.mode.data, replacement_id=form.replacement.data or None,
                                note=form.note.data or "", actor=_user())
    except DomainError as error:
        show_errors(form, error)
        return _sub_page(queries.get_substitution(substitution_id), form, error.status)
    flash(_("Substitution approved.") if sub.status == "approved"
          else _("Substitution rejected."), "success")
    return redirect(url_for("teams.substitution", substitution_id=sub.id))


@bp.get("/my/visits")
@roles(Role.INSPECTOR)
def my_visits():
    me = queries.inspector_of(_user())
    return render_template("teams/my_visits.html", me=me, rows=queries.my_visits(_user(), me))

