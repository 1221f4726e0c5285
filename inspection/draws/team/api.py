"""The team-draw API (``/api/v1/teams``) and the inspectors' assignments (``/api/v1/my``)."""
from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user

from ...core.access import OFFICE_READERS, roles
from ...core.models import Role
from ...core.openapi import Blueprint
from ..models import Draw
from ..schemas import ExecuteSchema
from . import operations as ops
from . import queries
from .eligibility import eligibility, required_for
from .queries import inspector_key
from .schemas import (MyVisitDumpSchema, SubstitutionDecisionSchema, SubstitutionDumpSchema,
                      SubstitutionQuerySchema, SubstitutionRequestSchema, TaskTeamsDumpSchema,
                      TeamDrawDumpSchema, TeamPrepareSchema)

blp = Blueprint("teams_api", __name__, url_prefix="/api/v1",
                description="Team draws of inspectors, substitutions and my visits")
WRITERS = (Role.ADMIN, Role.OFFICE)


def _user():
    return current_user._get_current_object()


def _member(m, people) -> dict:
    return {"id": m.id, "inspector_id": m.inspector_id, "key": inspector_key(m.inspector_id),
            "name": people[m.inspector_id].name, "department_id": m.department_id,
            "is_leader": m.is_leader, "source": m.source, "replaced_at": m.replaced_at}


def draw_body(draw: Draw, generated: dict | None = None) -> dict:
    teams = queries.draw_teams(draw)
    people = queries.inspectors_by_id(
        [m.inspector_id for t in teams for m in t.members + t.former])
    return {
        "id": draw.id, "public_id": draw.public_id, "task_id": draw.task_id,
        "department_id": draw.department_id, "status": draw.status,
        "entropy_mode": draw.entropy_mode, "commitment_sha256": draw.commitment_sha256,
        "record_sha256": draw.record_sha256, "commitment": draw.commitment,
        "generated_secrets": generated or {},
        "teams": [{"visit": t.visit.number, "visit_id": t.visit.id,
                   "employer": t.visit.employer.name, "status": t.visit.status,
                   "members": [_member(m, people) for m in t.members],
                   "former": [_member(m, people) for m in t.former],
                   "reserve": [inspector_key(r.inspector_id) for r in t.reserves]}
                  for t in teams],
        "substitutions": queries.public_substitutions(draw),
    }


@blp.route("/teams/tasks/<int:task_id>")
class TaskTeams(MethodView):
    @roles(*OFFICE_READERS)
    @blp.response(200, TaskTeamsDumpSchema)
    def get(self, task_id):
        """Per participating department: its team draw, or the eligibility preview (eligible
        keys and exclusions with reasons per visit)."""
        task = queries.get_task(task_id)
        departments = []
        for dept, is_lead in queries.task_departments(task):
            draw = queries.current_draw(task, dept.id)
            row = {"department_id": dept.id, "department": dept.name, "is_lead": is_lead,
                   "required": required_for(task, is_lead), "draw": draw,
                   "not_available": [], "visits": []}
            if draw is None:
                found = eligibility(task, dept, is_lead)
                row["not_available"] = [inspector_key(i) for i in found.not_available]
                row["visits"] = [{
                    "visit": v.visit.number, "employer": v.visit.employer.name,
                    "required": v.required, "shortfall": v.shortfall,
                    "eligible": [inspector_key(i) for i in v.eligible],
                    "excluded": [{"inspector": inspector_key(i), "name": i.name,
                                  "reasons": reasons} for i, reasons in v.excluded]}
                    for v in found.visits]
            departments.append(row)
        return {"task_id": task.id, "name": task.name, "status": task.status,
                "inspectors_per_visit": task.inspectors_per_visit, "departments": departments}


@blp.route("/teams/tasks/<int:task_id>/draws")
class TaskTeamDraws(MethodView):
    @roles(*WRITERS)
    @blp.arguments(TeamPrepareSchema)
    @blp.response(201, TeamDrawDumpSchema)
    @blp.alt_response(409, description="The task's targets are not drawn, the department has "
                                       "a team draw already, or the inspectors directory is "
                                       "not confirmed current.")
    def post(self, args, task_id):
        """Prepare a department's team draw (step 1): freezes the eligible inspectors and
        publishes the commitment. Refused when a visit lacks eligible inspectors."""
        task = queries.get_task(task_id)
        prepared = ops.prepare_team_draw(task, args["department_id"], mode=args["mode"],
                                         declared_sources=args["sources"],
                                         secret_specs=args["secrets"], actor=_user())
        return draw_body(prepared.draw, prepared.generated)


@blp.route("/teams/draws/<int:draw_id>")
class TeamDraw(MethodView):
    @roles(*OFFICE_READERS)
    @blp.response(200, TeamDrawDumpSchema)
    def get(self, draw_id):
        """A team draw: commitment, teams (leader first), reserve orders, substitutions."""
        return draw_body(queries.get_draw(draw_id))


@blp.route("/teams/draws/<int:draw_id>/execute")
class TeamDrawExecute(MethodView):
    @roles(*WRITERS)
    @blp.arguments(ExecuteSchema)
    @blp.response(200, TeamDrawDumpSchema)
    @blp.alt_response(409, description="The draw was executed or cancelled already.")
    def post(self, args, draw_id):
        """Execute (step 2): once; a second attempt answers 409 and the first result stands."""
        draw = ops.execute_team_draw(draw_id, source_values=args["sources"],
                                     revealed=args["secrets"], actor=_user())
        return draw_body(draw)


@blp.route("/teams/draws/<int:draw_id>/record")
class TeamDrawRecord(MethodView):
    @roles(*OFFICE_READERS)
    @blp.response(200)
    def get(self, draw_id):
        """The record as published, with the substitutions made since."""
        return queries.public_team_record(queries.get_draw(draw_id))


@blp.route("/teams/members/<int:member_id>/substitutions")
class MemberSubstitutions(MethodView):
    @roles(*WRITERS)
    @blp.arguments(SubstitutionRequestSchema)
    @blp.response(201, SubstitutionDumpSchema)
    @blp.alt_response(409, description="The member is replaced already or awaits a decision, "
                                       "or the visit is under way.")
    def post(self, args, member_id):
        """Ask to replace a drawn member, for a stated reason; an approver decides."""
        return ops.request_substitution(queries.get_member(member_id), args["reason"],
                                        args["note"], _user())


@blp.route("/teams/substitutions")
class Substitutions(MethodView):
    @roles(*OFFICE_READERS)
    @blp.arguments(SubstitutionQuerySchema, location="query")
    @blp.response(200, SubstitutionDumpSchema(many=True))
    def get(self, args):
        """Substitutions, newest first."""
        return queries.substitutions(status=args["status"])


@blp.route("/teams/substitutions/<int:substitution_id>/decision")
class SubstitutionDecision(MethodView):
    @roles(Role.APPROVER)
    @blp.arguments(SubstitutionDecisionSchema)
    @blp.response(200, SubstitutionDumpSchema)
    @blp.alt_response(409, description="Decided already, the member is replaced already, or "
                                       "no one is left in the reserve order.")
    def post(self, args, substitution_id):
        """Approve (mode reserve: the next in reserve order; approver_choice: replacement_id,
        a qualified inspector) or reject."""
        return ops.decide_substitution(queries.get_substitution(substitution_id),
                                       approve=args["decision"] == "approve", mode=args["mode"],
                                       replacement_id=args["replacement_id"], note=args["note"],
                                       actor=_user())


@blp.route("/my/visits")
class MyVisits(MethodView):
    @roles(Role.INSPECTOR)
    @blp.response(200, MyVisitDumpSchema(many=True))
    def get(self):
        """The signed-in inspector's visits: employer, address, window, items, team with the
        leader marked, status. Only visits whose team the inspector is on."""
        me = queries.inspector_of(_user())
        return [{"visit_id": a.visit.id, "number": a.visit.number, "status": a.visit.status,
                 "employer": a.visit.employer.name, "address": a.visit.employer.address,
                 "window_start": a.visit.window_start, "window_end": a.visit.window_end,
                 "leader": a.leader, "tasks": [t.name for t in a.tasks], "items": a.items,
                 "team": [{"name": i.name, "is_leader": m.is_leader, "is_me": i.id == me.id}
                          for m, i in a.team]}
                for a in queries.my_visits(_user())]
