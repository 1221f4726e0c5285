"""Office pages of annual plans and tasks: lists, details with the audit trail, forms, and the
approval steps (the office submits; an approver approves or rejects with a note, and publishes
plans). Thin: the work is in :mod:`.operations`."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..catalogue import operations as catalogue_ops
from ..catalogue.forms import KIND_LABELS, METHOD_LABELS
from ..core.access import OFFICE_READERS, roles
from ..core.errors import DomainError
from ..core.forms import show_errors
from ..core.models import Department, Role, User
from ..core.ratios import from_percent
from ..directory.employers.labels import FLAGS as FLAG_LABELS
from ..directory.employers.labels import GRADES as GRADE_LABELS
from ..directory.employers.labels import choices, pick
from ..directory.models import Region
from ..directory.reference import EMPLOYER_TYPES, INDUSTRIES
from ..extensions import db
from . import operations as ops
from .forms import (GRADES, PLAN_STATUS_LABELS, TASK_STATUS_LABELS, TYPE_LABELS, ActionForm,
                    ApproveForm, CancelForm, PlanForm, PublishForm, RejectForm, ReviseForm,
                    TaskFilterForm, TaskForm)
from .models import AnnualPlan, PlanStatus, Task, TaskStatus

bp = Blueprint("planning", __name__)

EDITORS = (Role.ADMIN, Role.OFFICE)
APPROVERS = (Role.ADMIN, Role.APPROVER)
CANCELLERS = (Role.ADMIN, Role.OFFICE, Role.APPROVER)

#: Directed-task flag keys and their labels' keys in the employers' table.
_FLAG_KEYS = {key: f"flag_{key}" for key in ops.FLAGS}


@bp.context_processor
def _labels():
    return {"plan_status_labels": PLAN_STATUS_LABELS, "task_status_labels": TASK_STATUS_LABELS,
            "type_labels": TYPE_LABELS, "method_labels": METHOD_LABELS,
            "kind_labels": KIND_LABELS, "percent": ops.percent, "grades": GRADES,
            "filter_label": _filter_label, "user_name": _user_name}


def _actor() -> User:
    return current_user._get_current_object()


def _user_name(user_id: int | None) -> str:
    if not user_id:
        return ""
    user = db.session.get(User, user_id)
    return user.display_name if user else str(user_id)


def _filter_label(key: str, code: str) -> str:
    if key == "regions":
        region = db.session.get(Region, code)
        return region.name if region else code
    if key == "industries":
        return f"{code} {pick(INDUSTRIES, code)}"
    if key == "employer_types":
        return pick(EMPLOYER_TYPES, code)
    if key == "grades":
        return pick(GRADE_LABELS, code)
    if key == "flags":
        return pick(FLAG_LABELS, _FLAG_KEYS.get(code, code))
    return code


def _fraction_to_percent(value: Any) -> str:
    return ops.percent(value).rstrip("%") if value not in (None, "") else ""


# =========================================================================== plans
def _plan_field_map() -> dict[str, str]:
    mapping = {}
    for g in GRADES:
        mapping[f"grade_rules.{g}"] = f"ratio_{g}"
        mapping[f"grade_rules.{g}.ratio"] = f"ratio_{g}"
        mapping[f"grade_rules.{g}.frequency"] = f"frequency_{g}"
    mapping["grade_rules"] = "ratio_A"
    return mapping


def _plan_values(form: PlanForm) -> dict[str, Any]:
    return {"year": form.year.data, "title": form.title.data, "scope": form.scope.data,
            "inspector_requirements": form.inspector_requirements.data,
            "schedule": form.schedule.data, "procedure": form.procedure.data,
            "yearly_cap": form.yearly_cap.data, "change_note": form.change_note.data,
            "grade_rules": {g: {"ratio": from_percent(getattr(form, f"ratio_{g}").data),
                                "frequency": getattr(form, f"frequency_{g}").data}
                            for g in GRADES}}


def _fill_plan(form: PlanForm, values: dict[str, Any]) -> None:
    for key in ("title", "scope", "inspector_requirements", "schedule", "procedure",
                "yearly_cap", "change_note"):
        getattr(form, key).data = values[key]
    for g in GRADES:
        rule = values["grade_rules"].get(g, {})
        getattr(form, f"ratio_{g}").data = _fraction_to_percent(rule.get("ratio"))
        getattr(form, f"frequency_{g}").data = rule.get("frequency")


@bp.get("/plans/")
@roles(*OFFICE_READERS)
def plans():
    page = db.paginate(ops.list_plans(), per_page=50, error_out=False)
    in_force = {p.year: p.id for p in ops.plans_in_force()}
    return render_template("planning/plans.html", page=page, in_force=in_force,
                           task_counts=ops.task_counts(p.id for p in page.items))


@bp.route("/plans/new", methods=["GET", "POST"])
@roles(*EDITORS)
def plan_new():
    form = PlanForm()
    status = 200
    if request.method == "GET":
        form.year.data = ops.local_today().year + 1
        _fill_plan(form, {"title": "", "scope": "", "inspector_requirements": "",
                          "schedule": "", "procedure": "", "yearly_cap": 2, "change_note": "",
                          "grade_rules": ops.default_grade_rules()})
    elif form.validate_on_submit():
        try:
            plan = ops.create_plan(_plan_values(form), actor=_actor())
        except DomainError as error:
            show_errors(form, error, _plan_field_map())
            status = error.status
        else:
            flash(_("The plan for %(year)d is saved as a draft.", year=plan.year), "success")
            return redirect(url_for("planning.plan", plan_id=plan.id))
    else:
        status = 400
    return render_template("planning/plan_form.html", form=form, plan=None,
                           minimums=ops.default_grade_rules()), status


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@roles(*EDITORS)
def plan_edit(plan_id: int):
    plan = ops.get_plan(plan_id)
    if plan.status != PlanStatus.DRAFT.value:
        flash(_("Only a draft plan can be edited; an approved plan is changed by a new "
                "revision."), "error")
        return redirect(url_for("planning.plan", plan_id=plan.id))
    form = PlanForm()
    status = 200
    if request.method == "GET":
        _fill_plan(form, ops.plan_values(plan))
    elif form.validate_on_submit():
        values = _plan_values(form)
        values.pop("year")
        try:
            ops.update_plan(plan, values, actor=_actor())
        except DomainError as error:
            show_errors(form, error, _plan_field_map())
            status = error.status
        else:
            flash(_("Plan saved."), "success")
            return redirect(url_for("planning.plan", plan_id=plan.id))
    else:
        status = 400
    form.year.data = plan.year
    return render_template("planning/plan_form.html", form=form, plan=plan,
                           minimums=ops.default_grade_rules()), status


def _plan_page(plan: AnnualPlan, status: int = 200, **forms):
    forms.setdefault("action_form", ActionForm())
    forms.setdefault("approve_form", ApproveForm())
    forms.setdefault("reject_form", RejectForm())
    forms.setdefault("revise_form", ReviseForm())
    if "publish_form" not in forms:
        forms["publish_form"] = PublishForm()
        forms["publish_form"].published_on.data = ops.local_today()
    tasks = db.session.scalars(ops.list_tasks(year=plan.year)).all()
    return render_template(
        "planning/plan.html", plan=plan, revisions=ops.plan_revisions(plan.year),
        in_force=ops.plan_in_force(plan.year), pending=ops.open_revision(plan.year),
        tasks=tasks, history=ops.history("annual_plan", plan.id), **forms), status


@bp.get("/plans/<int:plan_id>")
@roles(*OFFICE_READERS)
def plan(plan_id: int):
    return _plan_page(ops.get_plan(plan_id))


@bp.post("/plans/<int:plan_id>/submit")
@roles(*EDITORS)
def plan_submit(plan_id: int):
    plan = ops.get_plan(plan_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _plan_page(plan, 400, action_form=form)
    try:
        ops.submit_plan(plan, actor=_actor())
    except DomainError as error:
        flash(error.message, "error")
        return _plan_page(plan, error.status, action_form=form)
    flash(_("The plan is submitted for approval."), "success")
    return redirect(url_for("planning.plan", plan_id=plan.id))


@bp.post("/plans/<int:plan_id>/approve")
@roles(*APPROVERS)
def plan_approve(plan_id: int):
    plan = ops.get_plan(plan_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        return _plan_page(plan, 400, approve_form=form)
    try:
        ops.approve_plan(plan, actor=_actor(), note=form.note.data or "")
    except DomainError as error:
        show_errors(form, error)
        return _plan_page(plan, error.status, approve_form=form)
    flash(_("The plan is approved and in force."), "success")
    return redirect(url_for("planning.plan", plan_id=plan.id))


@bp.post("/plans/<int:plan_id>/reject")
@roles(*APPROVERS)
def plan_reject(plan_id: int):
    plan = ops.get_plan(plan_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _plan_page(plan, 400, reject_form=form)
    try:
        ops.reject_plan(plan, form.note.data or "", actor=_actor())
    except DomainError as error:
        show_errors(form, error)
        return _plan_page(plan, error.status, reject_form=form)
    flash(_("The plan is sent back to the office."), "success")
    return redirect(url_for("planning.plan", plan_id=plan.id))


@bp.post("/plans/<int:plan_id>/publish")
@roles(*APPROVERS)
def plan_publish(plan_id: int):
    plan = ops.get_plan(plan_id)
    form = PublishForm()
    if not form.validate_on_submit():
        return _plan_page(plan, 400 if "csrf_token" in form.errors else 422,
                          publish_form=form)
    try:
        ops.publish_plan(plan, form.published_on.data, actor=_actor())
    except DomainError as error:
        show_errors(form, error)
        return _plan_page(plan, error.status, publish_form=form)
    flash(_("The plan is recorded as published."), "success")
    return redirect(url_for("planning.plan", plan_id=plan.id))


@bp.post("/plans/<int:plan_id>/revise")
@roles(*EDITORS)
def plan_revise(plan_id: int):
    plan = ops.get_plan(plan_id)
    form = ReviseForm()
    if not form.validate_on_submit():
        return _plan_page(plan, 400, revise_form=form)
    try:
        new = ops.revise_plan(plan, form.change_note.data or "", actor=_actor())
    except DomainError as error:
        show_errors(form, error)
        return _plan_page(plan, error.status, revise_form=form)
    flash(_("Revision %(n)d is a draft; revision %(o)d stays in force until it is approved.",
            n=new.revision, o=plan.revision), "success")
    return redirect(url_for("planning.plan_edit", plan_id=new.id))


# =========================================================================== tasks
_TASK_FIELD_MAP = {
    **{f"grade_ratios.{g}": f"ratio_{g}" for g in GRADES},
    "grade_ratios": "ratio_A",
    "filters": "task_type",
    **{f"filters.{k}": f"filter_{k}" for k in ops.FILTER_KEYS},
}


def _setup_task_form(form: TaskForm, task: Task | None = None) -> None:
    plans = ops.plans_in_force()
    if task is not None and task.plan_id not in {p.id for p in plans}:
        plans = [task.plan, *plans]
    form.plan_id.choices = [(p.id, _("%(year)d plan, revision %(n)d", year=p.year,
                                     n=p.revision)) for p in plans]
    keep = {task.lead_department_id} if task else set()
    depts = [(d.id, d.name) for d in db.session.scalars(
        select(Department).where(Department.active | Department.id.in_(keep or {0}))
        .order_by(Department.code))]
    form.lead_department_id.choices = depts
    form.department_ids.choices = depts
    pinned = {p.version.item_id: p for p in ops.pinned_items(task)} if task else {}
    items = []
    for version in catalogue_ops.current_versions():
        label = f"{version.item.code} {version.name}"
        if version.kind == "key":
            label += " · " + str(KIND_LABELS["key"])
        if version.item_id in pinned and pinned[version.item_id].outdated:
            label += " · " + _("pinned v%(n)d", n=pinned[version.item_id].version.number)
        items.append((version.item_id, label))
    for item_id, p in pinned.items():  # a pinned item since retired stays listed
        if item_id not in {i for i, _l in items}:
            items.append((item_id, f"{p.version.item.code} {p.version.name}"))
    form.item_ids.choices = items
    form.filter_regions.choices = [(r.code, r.name) for r in db.session.scalars(
        select(Region).where(Region.active).order_by(Region.code))]
    form.filter_industries.choices = [(c, f"{c} {label}") for c, label in choices(INDUSTRIES)]
    form.filter_employer_types.choices = choices(EMPLOYER_TYPES)
    form.filter_grades.choices = choices(GRADE_LABELS)
    form.filter_flags.choices = [(key, pick(FLAG_LABELS, col)) for key, col in _FLAG_KEYS.items()]


def _task_values(form: TaskForm) -> dict[str, Any]:
    filters = {key: getattr(form, f"filter_{key}").data or [] for key in ops.FILTER_KEYS}
    return {"plan_id": form.plan_id.data, "name": form.name.data,
            "description": form.description.data,
            "lead_department_id": form.lead_department_id.data,
            "department_ids": form.department_ids.data or [],
            "item_ids": form.item_ids.data or [], "task_type": form.task_type.data,
            "filters": {k: v for k, v in filters.items() if v}, "method": form.method.data,
            "window_start": form.window_start.data, "window_end": form.window_end.data,
            "announced": form.announced.data,
            "inspectors_per_visit": form.inspectors_per_visit.data,
            "grade_ratios": {g: from_percent(getattr(form, f"ratio_{g}").data)
                             for g in GRADES}}


def _fill_task(form: TaskForm, task: Task) -> None:
    values = ops.task_values(task)
    for key in ("plan_id", "name", "description", "lead_department_id", "department_ids",
                "item_ids", "task_type", "method", "window_start", "window_end", "announced",
                "inspectors_per_visit"):
        getattr(form, key).data = values[key]
    for key in ops.FILTER_KEYS:
        getattr(form, f"filter_{key}").data = values["filters"].get(key, [])
    for g in GRADES:
        getattr(form, f"ratio_{g}").data = _fraction_to_percent(values["grade_ratios"].get(g))


@bp.get("/tasks/")
@roles(*OFFICE_READERS)
def tasks():
    form = TaskFilterForm(request.args)
    form.year.choices = [("", _("All"))] + [(str(y), str(y)) for y in ops.task_years()]
    args = form.data if form.validate() else {}
    year = args.get("year")
    query = ops.list_tasks(status=args.get("status") or None, q=args.get("q") or None,
                           year=int(year) if year and str(year).isdigit() else None)
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("planning/tasks.html", form=form, page=page)


@bp.route("/tasks/new", methods=["GET", "POST"])
@roles(*EDITORS)
def task_new():
    form = TaskForm()
    _setup_task_form(form)
    status = 200
    if request.method == "GET":
        if form.plan_id.choices:
            form.plan_id.data = form.plan_id.choices[0][0]
        if current_user.department_id in {d for d, _n in form.lead_department_id.choices}:
            form.lead_department_id.data = current_user.department_id
    elif form.validate_on_submit():
        try:
            task = ops.create_task(_task_values(form), actor=_actor())
        except DomainError as error:
            show_errors(form, error, _TASK_FIELD_MAP)
            status = error.status
        else:
            flash(_("Task saved as a draft."), "success")
            return redirect(url_for("planning.task", task_id=task.id))
    else:
        status = 400
    return render_template("planning/task_form.html", form=form, task=None,
                           plans=ops.plans_in_force()), status


@bp.route("/tasks/<int:task_id>/edit", methods=["GET", "POST"])
@roles(*EDITORS)
def task_edit(task_id: int):
    task = ops.get_task(task_id)
    if task.status != TaskStatus.DRAFT.value:
        flash(_("Only a draft task can be edited; an approved task is frozen."), "error")
        return redirect(url_for("planning.task", task_id=task.id))
    form = TaskForm()
    _setup_task_form(form, task)
    status = 200
    if request.method == "GET":
        _fill_task(form, task)
    elif form.validate_on_submit():
        try:
            ops.update_task(task, _task_values(form), actor=_actor())
        except DomainError as error:
            show_errors(form, error, _TASK_FIELD_MAP)
            status = error.status
            task = ops.get_task(task_id)
        else:
            flash(_("Task saved."), "success")
            return redirect(url_for("planning.task", task_id=task.id))
    else:
        status = 400
    return render_template("planning/task_form.html", form=form, task=task,
                           plans=ops.plans_in_force()), status


def _task_page(task: Task, status: int = 200, **forms):
    forms.setdefault("action_form", ActionForm())
    forms.setdefault("approve_form", ApproveForm())
    forms.setdefault("reject_form", RejectForm())
    forms.setdefault("cancel_form", CancelForm())
    return render_template(
        "planning/task.html", task=task, items=ops.pinned_items(task),
        departments=ops.departments_of(task), matching=ops.count_matching(task),
        in_force=ops.plan_in_force(task.plan.year), cancellable=task.status in ops.CANCELLABLE,
        history=ops.history("task", task.id), **forms), status


@bp.get("/tasks/<int:task_id>")
@roles(*OFFICE_READERS)
def task(task_id: int):
    return _task_page(ops.get_task(task_id))


def _task_action(task_id: int, form_name: str, form, run, done: str):
    task = ops.get_task(task_id)
    if not form.validate_on_submit():
        return _task_page(task, 400, **{form_name: form})
    try:
        run(task, form)
    except DomainError as error:
        show_errors(form, error)
        return _task_page(ops.get_task(task_id), error.status, **{form_name: form})
    flash(done, "success")
    return redirect(url_for("planning.task", task_id=task.id))


@bp.post("/tasks/<int:task_id>/submit")
@roles(*EDITORS)
def task_submit(task_id: int):
    return _task_action(task_id, "action_form", ActionForm(),
                        lambda t, f: ops.submit_task(t, actor=_actor()),
                        _("The task is submitted for approval."))


@bp.post("/tasks/<int:task_id>/approve")
@roles(*APPROVERS)
def task_approve(task_id: int):
    return _task_action(task_id, "approve_form", ApproveForm(),
                        lambda t, f: ops.approve_task(t, actor=_actor(), note=f.note.data or ""),
                        _("The task is approved; it can no longer be edited."))


@bp.post("/tasks/<int:task_id>/reject")
@roles(*APPROVERS)
def task_reject(task_id: int):
    return _task_action(task_id, "reject_form", RejectForm(),
                        lambda t, f: ops.reject_task(t, f.note.data or "", actor=_actor()),
                        _("The task is sent back to the office."))


@bp.post("/tasks/<int:task_id>/cancel")
@roles(*CANCELLERS)
def task_cancel(task_id: int):
    return _task_action(task_id, "cancel_form", CancelForm(),
                        lambda t, f: ops.cancel_task(t, f.reason.data or "", actor=_actor()),
                        _("The task is cancelled."))
