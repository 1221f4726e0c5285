"""Annual plans and tasks in the JSON API. The office reads (admin, office, approver,
supervisor); the office writes and submits; approvers approve, reject and publish. Thin: the
work is in :mod:`.operations`."""
from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user

from ..core.access import OFFICE_READERS, roles
from ..core.errors import NotFound
from ..core.models import Role
from ..core.openapi import Blueprint
from ..extensions import db
from . import operations as ops
from .schemas import (PlanCreateSchema, PlanDumpSchema, PlanningApproveSchema,
                      PlanningRejectSchema, PlanPublishSchema, PlanQuerySchema,
                      PlanReviseSchema, PlanUpdateSchema, TaskCancelSchema, TaskCreateSchema,
                      TaskDumpSchema, TaskMatchingSchema, TaskPageSchema, TaskQuerySchema,
                      TaskUpdateSchema)

EDITORS = (Role.ADMIN, Role.OFFICE)
APPROVERS = (Role.ADMIN, Role.APPROVER)
#: Cancelling (with a reason) is open to the office and to approvers.
CANCELLERS = (Role.ADMIN, Role.OFFICE, Role.APPROVER)

plans_blp = Blueprint("plans_api", __name__, url_prefix="/api/v1/plans",
                      description="Annual plans (年度抽查计划): revisions, approval, publication")
tasks_blp = Blueprint("tasks_api", __name__, url_prefix="/api/v1/tasks",
                      description="Tasks (抽查任务): items pinned to versions, approval")


def _actor():
    return current_user._get_current_object()


# ----------------------------------------------------------------------------- plans
@plans_blp.route("")
class Plans(MethodView):
    @roles(*OFFICE_READERS)
    @plans_blp.arguments(PlanQuerySchema, location="query")
    @plans_blp.response(200, PlanDumpSchema(many=True))
    def get(self, args):
        """Every revision of every plan, newest year and revision first."""
        return db.session.scalars(ops.list_plans(year=args["year"], status=args["status"])).all()

    @roles(*EDITORS)
    @plans_blp.arguments(PlanCreateSchema)
    @plans_blp.response(201, PlanDumpSchema)
    @plans_blp.alt_response(409, description="Someone else drafted the year's plan at the "
                                             "same moment.")
    def post(self, args):
        """Draft the plan of a year (revision 1). Grade rules default to seed 004's minimums."""
        return ops.create_plan(args, actor=_actor())


@plans_blp.route("/in-force/<int:year>")
class PlanInForce(MethodView):
    @roles(*OFFICE_READERS)
    @plans_blp.response(200, PlanDumpSchema)
    def get(self, year: int):
        """The approved or published revision in force for ``year`` (404 when none)."""
        plan = ops.plan_in_force(year)
        if plan is None:
            raise NotFound(_("No plan is in force for %(year)d.", year=year))
        return plan


@plans_blp.route("/<int:plan_id>")
class Plan(MethodView):
    @roles(*OFFICE_READERS)
    @plans_blp.response(200, PlanDumpSchema)
    def get(self, plan_id: int):
        """One revision of a plan."""
        return ops.get_plan(plan_id)

    @roles(*EDITORS)
    @plans_blp.arguments(PlanUpdateSchema)
    @plans_blp.response(200, PlanDumpSchema)
    @plans_blp.alt_response(409, description="The plan is not a draft.")
    def put(self, args, plan_id: int):
        """Change a draft (fields left out keep their value); 409 once submitted."""
        return ops.update_plan(ops.get_plan(plan_id), args, actor=_actor())


@plans_blp.route("/<int:plan_id>/submit")
class SubmitPlan(MethodView):
    @roles(*EDITORS)
    @plans_blp.response(200, PlanDumpSchema)
    @plans_blp.alt_response(409, description="The plan is not a draft.")
    def post(self, plan_id: int):
        """Send a draft for approval."""
        return ops.submit_plan(ops.get_plan(plan_id), actor=_actor())


@plans_blp.route("/<int:plan_id>/approve")
class ApprovePlan(MethodView):
    @roles(*APPROVERS)
    @plans_blp.arguments(PlanningApproveSchema)
    @plans_blp.response(200, PlanDumpSchema)
    @plans_blp.alt_response(409, description="The plan is not submitted.")
    def post(self, args, plan_id: int):
        """Approve a submitted plan; the revision in force before it becomes superseded."""
        return ops.approve_plan(ops.get_plan(plan_id), actor=_actor(), note=args["note"])


@plans_blp.route("/<int:plan_id>/reject")
class RejectPlan(MethodView):
    @roles(*APPROVERS)
    @plans_blp.arguments(PlanningRejectSchema)
    @plans_blp.response(200, PlanDumpSchema)
    @plans_blp.alt_response(409, description="The plan is not submitted.")
    def post(self, args, plan_id: int):
        """Send a submitted plan back to draft with a note."""
        return ops.reject_plan(ops.get_plan(plan_id), args["note"], actor=_actor())


@plans_blp.route("/<int:plan_id>/publish")
class PublishPlan(MethodView):
    @roles(*APPROVERS)
    @plans_blp.arguments(PlanPublishSchema)
    @plans_blp.response(200, PlanDumpSchema)
    @plans_blp.alt_response(409, description="The plan is not the approved plan in force.")
    def post(self, args, plan_id: int):
        """Record the publication of an approved plan."""
        return ops.publish_plan(ops.get_plan(plan_id), args["published_on"], actor=_actor())


@plans_blp.route("/<int:plan_id>/revise")
class RevisePlan(MethodView):
    @roles(*EDITORS)
    @plans_blp.arguments(PlanReviseSchema)
    @plans_blp.response(201, PlanDumpSchema)
    @plans_blp.alt_response(409, description="The plan is not the approved plan in force, "
                                             "or a newer revision is not yet approved.")
    def post(self, args, plan_id: int):
        """Start a new draft revision of the plan in force (which stays in force until the
        new revision is approved)."""
        return ops.revise_plan(ops.get_plan(plan_id), args["change_note"], actor=_actor())


# ----------------------------------------------------------------------------- tasks
@tasks_blp.route("")
class Tasks(MethodView):
    @roles(*OFFICE_READERS)
    @tasks_blp.arguments(TaskQuerySchema, location="query")
    @tasks_blp.response(200, TaskPageSchema)
    def get(self, args):
        """Tasks, newest window first, filtered by status, year or plan; paginated."""
        page = db.paginate(ops.list_tasks(status=args["status"], year=args["year"],
                                          plan_id=args["plan_id"]),
                           page=args["page"], per_page=args["per_page"], error_out=False)
        ops.preload_pinned_items(page.items)
        return {"items": page.items, "page": page.page, "pages": page.pages,
                "total": page.total}

    @roles(*EDITORS)
    @tasks_blp.arguments(TaskCreateSchema)
    @tasks_blp.response(201, TaskDumpSchema)
    def post(self, args):
        """Draft a task; items are pinned to their current versions."""
        return ops.create_task(args, actor=_actor())


@tasks_blp.route("/<int:task_id>")
class TaskResource(MethodView):
    @roles(*OFFICE_READERS)
    @tasks_blp.response(200, TaskDumpSchema)
    def get(self, task_id: int):
        """One task with its departments and pinned item versions."""
        return ops.get_task(task_id)

    @roles(*EDITORS)
    @tasks_blp.arguments(TaskUpdateSchema)
    @tasks_blp.response(200, TaskDumpSchema)
    @tasks_blp.alt_response(409, description="The task is not a draft.")
    def put(self, args, task_id: int):
        """Change a draft (fields left out keep their value); 409 once submitted."""
        return ops.update_task(ops.get_task(task_id), args, actor=_actor())


@tasks_blp.route("/<int:task_id>/matching")
class TaskMatching(MethodView):
    @roles(*OFFICE_READERS)
    @tasks_blp.response(200, TaskMatchingSchema)
    def get(self, task_id: int):
        """How many active employers the task's filters match now."""
        return {"count": ops.count_matching(ops.get_task(task_id))}


@tasks_blp.route("/<int:task_id>/submit")
class SubmitTask(MethodView):
    @roles(*EDITORS)
    @tasks_blp.response(200, TaskDumpSchema)
    @tasks_blp.alt_response(409, description="The task is not a draft.")
    def post(self, task_id: int):
        """Send a draft for approval (checked again in full)."""
        return ops.submit_task(ops.get_task(task_id), actor=_actor())


@tasks_blp.route("/<int:task_id>/approve")
class ApproveTask(MethodView):
    @roles(*APPROVERS)
    @tasks_blp.arguments(PlanningApproveSchema)
    @tasks_blp.response(200, TaskDumpSchema)
    @tasks_blp.alt_response(409, description="The task is not submitted.")
    def post(self, args, task_id: int):
        """Approve a submitted task; it is frozen from then on."""
        return ops.approve_task(ops.get_task(task_id), actor=_actor(), note=args["note"])


@tasks_blp.route("/<int:task_id>/reject")
class RejectTask(MethodView):
    @roles(*APPROVERS)
    @tasks_blp.arguments(PlanningRejectSchema)
    @tasks_blp.response(200, TaskDumpSchema)
    @tasks_blp.alt_response(409, description="The task is not submitted.")
    def post(self, args, task_id: int):
        """Send a submitted task back to draft with a note."""
        return ops.reject_task(ops.get_task(task_id), args["note"], actor=_actor())


@tasks_blp.route("/<int:task_id>/cancel")
class CancelTask(MethodView):
    @roles(*CANCELLERS)
    @tasks_blp.arguments(TaskCancelSchema)
    @tasks_blp.response(200, TaskDumpSchema)
    @tasks_blp.alt_response(409, description="The task is cancelled already, or its "
                                             "targets are drawn.")
    def post(self, args, task_id: int):
        """Cancel a task before its target draw, with a reason."""
        return ops.cancel_task(ops.get_task(task_id), args["reason"], actor=_actor())
