"""The office's draw wizard: list → new target draw for an approved task (preview, entropy
mode, sources, parties' secret commitments) → prepare → commitment page (hashes, QR code) →
execute (published values, revealed secrets) → result (drawn employers, visits created or
merged). Thin: the work is in :mod:`.operations`."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ...core.access import OFFICE_READERS, roles
from ...core.errors import DomainError
from ...core.models import Role
from ...extensions import db
from .. import commitments
from ..models import Draw, DrawStatus, EntropyMode
from ..public_views import public_url, qr_svg
from . import operations as target
from .forms import MODE_LABELS, SHORT_MODE_LABELS, CancelForm, ExecuteForm, PrepareForm

bp = Blueprint("draws", __name__, url_prefix="/draws")

WRITERS = (Role.ADMIN, Role.OFFICE)


@bp.context_processor
def _labels():
    return {"mode_labels": SHORT_MODE_LABELS, "long_mode_labels": MODE_LABELS,
            "time_lock_notice": commitments.time_lock_notice}


def _actor():
    return current_user._get_current_object()


def _ready_tasks():
    """Approved tasks without a live target draw."""
    from ...planning.models import Task, TaskStatus

    live = select(Draw.task_id).where(Draw.kind == target.KIND,
                                      Draw.status != DrawStatus.CANCELLED.value)
    return db.session.scalars(select(Task).where(Task.status == TaskStatus.APPROVED.value,
                                                 Task.id.not_in(live))
                              .order_by(Task.window_start, Task.id).limit(100)).all()


@bp.get("/")
@roles(*OFFICE_READERS)
def index():
    from ...planning.models import Task

    page = db.paginate(target.list_draws(), per_page=50, error_out=False)
    tasks = {t.id: t for t in db.session.scalars(
        select(Task).where(Task.id.in_({d.task_id for d in page.items})))}
    return render_template("draws/index.html", page=page, tasks=tasks, ready=_ready_tasks())


def _party_defaults(task) -> list[dict]:
    from ...planning.operations import departments_of

    names = [d.name for d in departments_of(task)]
    return [{"party": n[:40]} for n in names] + [{"party": _("Supervisor")}, {}]


def _errors_of(form: PrepareForm, error: DomainError) -> None:
    for key, messages in error.fields.items():
        if key == "mode":
            form.mode.errors = list(form.mode.errors) + list(messages)
        elif key == "sources":
            form.sources.errors = list(messages)
        else:
            form.parties.errors = list(form.parties.errors or []) + [
                f"{key}: {m}" if key not in ("secrets", "task") else m for m in messages]
    flash(error.message, "error")


@bp.route("/tasks/<int:task_id>/new", methods=["GET", "POST"])
@roles(*WRITERS)
def new(task_id: int):
    from ...planning import operations as planning

    task = planning.get_task(task_id)
    form = PrepareForm()
    status = 200
    if request.method == "GET":
        while len(form.parties.entries):
            form.parties.pop_entry()
        for row in _party_defaults(task):
            form.parties.append_entry(row)
    elif form.validate_on_submit():
        sources = [row.form.data for row in form.sources.entries]
        parties = [row.form.data for row in form.parties.entries]
        try:
            prepared = target.prepare_target_draw(task, form.mode.data, sources, parties,
                                                  _actor())
        except DomainError as error:
            db.session.rollback()
            _errors_of(form, error)
            status = error.status
        else:
            # The generated secrets exist only in this answer: no redirect, nothing stored.
            return _show(prepared.draw, generated=prepared.generated), 201
    else:
        status = 400
    return render_template("draws/new.html", task=task, form=form,
                           preview=target.preview(task)), status


def _show(draw: Draw, generated: dict | None = None):
    from ...planning.models import Task

    rows = target.results(draw) if draw.record is not None else []
    grouped: dict[str, list] = {}
    for row in rows:
        grouped.setdefault(row.pool, []).append(row)
    return render_template("draws/show.html", draw=draw, task=db.session.get(Task, draw.task_id),
                           grouped=grouped, rows=rows, generated=generated or {},
                           qr=qr_svg(public_url(draw)), url=public_url(draw),
                           cancel_form=CancelForm(),
                           problems=target.verify_target_draw(draw) if draw.record else [])


@bp.get("/<int:draw_id>")
@roles(*OFFICE_READERS)
def show(draw_id: int):
    return _show(target.get_target_draw(draw_id))


@bp.route("/<int:draw_id>/execute", methods=["GET", "POST"])
@roles(*WRITERS)
def execute(draw_id: int):
    draw = target.get_target_draw(draw_id)
    if draw.status != DrawStatus.PREPARED.value:
        flash(_("This draw is %(status)s: it cannot be executed.", status=draw.status), "error")
        return redirect(url_for("draws.show", draw_id=draw.id))
    form = ExecuteForm()
    declared = [] if draw.entropy_mode == EntropyMode.SYSTEM.value else \
        draw.commitment.get("sources_declared", [])
    if request.method == "GET":
        for _source in declared:
            form.values.append_entry()
        for secret in draw.secrets:
            form.secrets.append_entry({"party": secret.party})
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            revealed = {row.form.party.data: (row.form.secret.data or "")
                        for row in form.secrets.entries}
            try:
                target.execute_target_draw(draw.id, [v.data or "" for v in form.values.entries],
                                           revealed, _actor())
            except DomainError as error:
                db.session.rollback()
                flash(error.message, "error")
                for row in form.secrets.entries:
                    if row.form.party.data in error.fields:
                        row.form.secret.errors = list(error.fields[row.form.party.data])
                if "sources" in error.fields:
                    form.values.errors = list(error.fields["sources"])
                status = error.status
            else:
                flash(_("The draw is executed; its result is final."), "success")
                return redirect(url_for("draws.show", draw_id=draw.id))
        else:
            status = 400
    return render_template("draws/execute.html", draw=draw, form=form, declared=declared), status


@bp.post("/<int:draw_id>/cancel")
@roles(*WRITERS)
def cancel(draw_id: int):
    draw = target.get_target_draw(draw_id)
    form = CancelForm()
    if not form.validate_on_submit():
        flash(_("Give a reason."), "error")
        return redirect(url_for("draws.show", draw_id=draw.id))
    try:
        target.cancel_target_draw(draw.id, form.reason.data, _actor())
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("The draw is cancelled; it stays on record."), "success")
    return redirect(url_for("draws.show", draw_id=draw.id))
