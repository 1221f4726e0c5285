"""No query per row: every list page and list endpoint runs a number of SQL statements that
does not grow with its rows.

The same bureau is built at two sizes through the real operations (directories, plans and
tasks, target and team draws, substitutions, records sealed and sent as the phone sends
them, the review's steps up to publication and correction, objections, reminders); every
list is requested at both sizes by a user who sees it, and the statements each request runs
are counted. The count at the larger size must equal the count at the smaller one: a list
that reads its rows one by one (a query per visit, a lazy load in a template) grows.

:data:`LISTS` names every list with how to call it; :data:`NOT_LISTS` every other GET
endpoint with a one-word reason. A test fails when an endpoint of the app is in neither, so
that a new list page cannot be forgotten.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from inspection.core import operations as core_ops
from inspection.core.models import Position, Role, User
from inspection.extensions import db

from helpers import Client, PASSWORD, empty_database, replayed

#: The two sizes: visits, team draws' substitutions, tasks, draws, plans, users, departments,
#: items and inspectors all grow with it (each list stays within one page at the larger).
SMALL, LARGE = 1, 2


# --- the bureau, at a size -------------------------------------------------------------------

@dataclass
class Bureau:
    """What the calls need: ids, numbers and keys (plain values: the builder is replayed)."""

    department: int
    task: int
    plan: int
    target_draw: int
    target_public: str
    team_draw: int
    team_public: str
    pool: str
    extra_tasks: list[int]
    prepared_draws: list[str]                 # public ids of the extra tasks' target draws
    extra_draws: list[int]                    # their ids (the first executed)
    visits: list[str]                         # numbers, in order
    stages: dict[str, list[str]]              # review stage -> visit numbers
    me: str                                   # username of the inspector on most visits
    my_visits: list[str]
    my_inspector: int
    social_inspector: int
    item: int
    publication: int
    seals: list[str]
    employer: int
    users: dict[str, str] = field(default_factory=dict)   # role -> username


#: The review's stages, in the order the visits take them (stories of the demo bureau).
STAGES = ("recorded", "proposed", "published", "determined", "returned", "corrected",
          "determined_overdue")


def _workday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _user(username: str, name: str, dept, roles, position: str | None = None):
    user = core_ops.create_user(username, name, dept, roles, PASSWORD)
    if position:
        user.position = position
        db.session.commit()
    return user


@replayed
def build(department: int, size: int) -> Bureau:
    """Within an app context: the bureau at ``size`` (1, 2 ...)."""
    from inspection.catalogue import operations as catalogue_ops
    from inspection.directory.inspectors import operations as inspector_ops
    from inspection.directory.models import Employer, Inspector
    from inspection.draws.models import Draw, DrawPool, TeamMember
    from inspection.draws.target import operations as target_ops
    from inspection.draws.team import operations as team_ops
    from inspection.fieldwork.models import RecordRevision
    from inspection.planning import plans as plan_ops
    from inspection.planning.demo import plan_values
    from inspection.planning.models import Task
    from inspection.review import operations as review_ops
    from inspection.review import reminders
    from inspection.review.demo import RETURNED, STORIES, after_visit, send_record

    from target_support import World, execute, make_task, prepare
    from team_support import build_bureau, draw_teams, visits as task_visits

    b = build_bureau(department, employers=len(STAGES) * size, lead_inspectors=4,
                     social_inspectors=2 * size)
    team = draw_teams(b)
    team_id, team_public = team.id, team.public_id
    dept = core_ops.get_department(department)
    office = db.session.get(User, b.office_id)
    approver = db.session.get(User, b.approver_id)
    director = _user("director", "Director", dept, (Role.APPROVER,),
                     Position.PRINCIPAL_HEAD.value)
    _user("admin", "Admin", dept, (Role.ADMIN,))
    _user("supervisor", "Supervisor", dept, (Role.SUPERVISOR,))
    for n in range(size):
        _user(f"clerk{n}", f"Clerk {n}", dept, (Role.OFFICE,))
        core_ops.create_department(f"科室{n}", f"KS{n}")

    # every inspector of the lead department has an account (two sign each record)
    for n, inspector_id in enumerate(b.inspectors[department]):
        user = _user(f"insp{n}", f"Inspector {n}", dept, (Role.INSPECTOR,))
        db.session.get(Inspector, inspector_id).user_id = user.id
    db.session.commit()

    visits = task_visits(b)
    # substitutions: every other one approved (the reserve steps in), the rest requested
    for n, visit in enumerate(visits[:2 * size]):
        member = db.session.scalars(select(TeamMember).where(
            TeamMember.visit_id == visit.id, TeamMember.replaced_at.is_(None),
            TeamMember.is_leader.is_(False)).order_by(TeamMember.id)).first()
        sub = team_ops.request_substitution(member, "health", "住院", office)
        if n % 2 == 0:
            team_ops.decide_substitution(sub, approve=True, mode="reserve", actor=approver)

    # the records, and the steps after the visit, one stage per visit in turn
    stories = {s.stage: _on_wages(s, STORIES[0].problems)
               for s in (*reversed(STORIES), RETURNED)}
    people = {"office": office, "approver": approver, "director": director}
    today = review_ops.today()
    stages: dict[str, list[str]] = {}
    for n, visit in enumerate(visits):
        stage = STAGES[n % len(STAGES)]
        day = _workday(visit.window_start + timedelta(days=7 + n))
        send_record(visit, stories[stage], day)
        after_visit(visit, stories[stage], day, today, people)
        stages.setdefault(stage, []).append(visit.number)
    reminders.write_reminders(today)

    # more tasks with their target draws; more plans, items and publications
    world = World(db.session.get(Task, b.task_id).plan_id, b.office_id, department,
                  b.social_id, [])
    extra_tasks, prepared, extra_draws = [], [], []
    for n in range(size + 2):
        task_id = make_task(world, name=f"专项检查{n}",
                            ratios={"A": "0", "B": "0.30", "C": "0", "D": "0"})
        extra_tasks.append(task_id)
        draw = prepare(world, task_id).draw
        prepared.append(draw.public_id)
        extra_draws.append(draw.id)
        # One prepared draw at a time in a year: the first ``size`` are executed (their
        # visits wait for their team draws), the last stays prepared, one is cancelled.
        if n < size:
            execute(world, draw.id)
        elif n < size + 1:
            target_ops.cancel_target_draw(draw, "计划调整", db.session.get(User, b.office_id))
    for n in range(size):   # published: the public portal lists them
        plan = plan_ops.create_plan(plan_values(2030 + n), actor=office)
        plan_ops.submit_plan(plan, actor=office)
        plan_ops.approve_plan(plan, actor=approver)
        plan_ops.publish_plan(plan, published_on=date(2026, 1, 10), actor=office)
    # the plan in force is published: the public portal shows it with the year's tasks
    from inspection.planning.models import AnnualPlan
    plan_ops.publish_plan(db.session.get(AnnualPlan, world.plan_id), date(2026, 1, 10),
                          actor=approver)
    for n in range(size):
        catalogue_ops.create_item(_item_values(department, f"T-{n + 1:02d}"), actor=office)
        catalogue_ops.publish(date(2026, 2, 1) + timedelta(days=n), actor=office)
    social = b.inspectors[b.social_id][0]
    codes = db.session.scalars(select(Employer.credit_code).order_by(Employer.id)
                               .limit(size)).all()
    for code in codes:
        inspector_ops.declare_conflict(db.session.get(Inspector, social), code, "relative",
                                       "亲属", actor=office)

    # the inspector on most visits signs in as "me"
    counts = Counter(db.session.scalars(select(TeamMember.inspector_id).where(
        TeamMember.replaced_at.is_(None), TeamMember.department_id == department)))
    mine = max(sorted(counts), key=lambda i: counts[i])
    me = db.session.get(Inspector, mine)
    my_visits = sorted(v.number for v in visits if db.session.scalar(select(TeamMember.id).where(
        TeamMember.visit_id == v.id, TeamMember.inspector_id == mine,
        TeamMember.replaced_at.is_(None)).limit(1)))
    target = db.session.scalar(select(Draw).where(Draw.task_id == b.task_id,
                                                  Draw.kind == "target"))
    pool = db.session.scalar(select(DrawPool.name).where(DrawPool.draw_id == target.id)
                             .order_by(DrawPool.ordinal).limit(1))
    seals = db.session.scalars(select(RecordRevision.seal).where(
        RecordRevision.seal.is_not(None)).order_by(RecordRevision.id)).all()
    from inspection.catalogue.models import CataloguePublication, CheckItem
    return Bureau(
        department=department, task=b.task_id, plan=world.plan_id, target_draw=target.id,
        target_public=target.public_id, team_draw=team_id,
        team_public=team_public, pool=pool, extra_tasks=extra_tasks,
        prepared_draws=prepared, extra_draws=extra_draws, visits=[v.number for v in visits],
        stages=stages,
        me=db.session.get(User, me.user_id).username, my_visits=my_visits,
        my_inspector=mine, social_inspector=social,
        item=db.session.scalar(select(CheckItem.id).where(CheckItem.code == "LR-06")),
        publication=db.session.scalar(select(CataloguePublication.id)
                                      .order_by(CataloguePublication.id.desc()).limit(1)),
        seals=seals, employer=db.session.scalar(select(Employer.id).order_by(Employer.id)
                                                .limit(1)),
        users={"admin": "admin", "office": office.username, "approver": approver.username,
               "director": "director", "supervisor": "supervisor"})


def _on_wages(story, fallback):
    """The demo's story with only the questions of the item the bureau's task checks
    (LR-06): a finding on another item's question would be refused."""
    import dataclasses

    problems = tuple(p for p in story.problems if p.question.startswith("LR-06"))
    if story.problems and not problems:
        problems = fallback
    return dataclasses.replace(story, problems=problems, not_applicable=tuple(
        q for q in story.not_applicable if q.startswith("LR-06")))


def _item_values(department: int, code: str) -> dict:
    return {"code": code, "name": f"专项事项{code}", "legal_basis": "《劳动保障监察条例》第十一条",
            "content": "检查是否按时足额支付工资。", "department_id": department,
            "target_types": ["enterprise"], "method": "on_site", "kind": "general",
            "ratio": "0.05", "frequency": 1,
            "questions": [{"text": "是否按月支付工资？", "legal_basis": "《劳动法》第五十条",
                           "evidence_hint": "工资表"}]}



# --- the lists, and every other GET endpoint ---------------------------------------------------

#: endpoint -> [(role, path)]: every list page and list endpoint, called as a user who sees
#: it ("anonymous": no account). The path is formatted with the bureau (``{b.task}``).
LISTS: dict[str, list[tuple[str, str]]] = {
    # core
    "core.home": [("office", "/"), ("approver", "/"), ("supervisor", "/"),
                  ("inspector", "/"), ("admin", "/")],
    "core.users": [("admin", "/admin/users")],
    "core.departments": [("admin", "/admin/departments")],
    "core.audit_log": [("admin", "/audit?object_type=draw")],
    "core_api.AuditTrail": [("admin", "/api/v1/audit?object_type=draw")],
    "core_api.Departments": [("office", "/api/v1/departments")],
    "calendar.index": [("office", "/admin/calendar")],
    "calendar_api.CalendarYears": [("office", "/api/v1/calendar/years")],
    # catalogue
    "catalogue.index": [("office", "/catalogue/")],
    "catalogue.detail": [("office", "/catalogue/{b.item}")],
    "catalogue.publication": [("office", "/catalogue/publications/{b.publication}")],
    "catalogue_api.Items": [("office", "/api/v1/catalogue/items")],
    "catalogue_api.Publications": [("office", "/api/v1/catalogue/publications")],
    "catalogue_api.Published": [("office", "/api/v1/catalogue/published")],
    # directories
    "employers.index": [("office", "/employers/")],
    "employers.export": [("office", "/employers/export.xlsx")],
    "employers.regions": [("office", "/employers/regions")],
    "employers_api.Employers": [("office", "/api/v1/employers")],
    "inspectors.index": [("office", "/inspectors/")],
    "inspectors.detail": [("office", "/inspectors/{b.social_inspector}")],
    "inspectors.export": [("office", "/inspectors/export.xlsx")],
    "inspectors_api.Inspectors": [("office", "/api/v1/inspectors")],
    "inspectors_api.Conflicts": [("office", "/api/v1/inspectors/{b.social_inspector}/conflicts")],
    # planning
    "planning.plans": [("office", "/plans/")],
    "planning.plan": [("office", "/plans/{b.plan}")],
    "planning.tasks": [("office", "/tasks/")],
    "plans_api.Plans": [("office", "/api/v1/plans")],
    "tasks_api.Tasks": [("office", "/api/v1/tasks")],
    # target draws
    "draws.index": [("office", "/draws/")],
    "draws.show": [("office", "/draws/{b.target_draw}"),
                   ("office", "/draws/{b.extra_draws[0]}")],
    "draws_api.Draws": [("office", "/api/v1/draws")],
    "draws_api.Draw": [("office", "/api/v1/draws/{b.target_draw}")],
    # team draws
    "teams.index": [("office", "/teams/")],
    "teams.task": [("office", "/teams/tasks/{b.task}"),
                   ("office", "/teams/tasks/{b.extra_tasks[0]}")],
    "teams.draw": [("office", "/teams/draws/{b.team_draw}")],
    "teams.record": [("office", "/teams/draws/{b.team_draw}/record.json")],
    "teams.substitutions": [("office", "/teams/substitutions")],
    "teams.my_visits": [("inspector", "/my/visits")],
    "teams_api.TaskTeams": [("office", "/api/v1/teams/tasks/{b.task}"),
                            ("office", "/api/v1/teams/tasks/{b.extra_tasks[0]}")],
    "teams_api.TeamDraw": [("office", "/api/v1/teams/draws/{b.team_draw}")],
    "teams_api.TeamDrawRecord": [("office", "/api/v1/teams/draws/{b.team_draw}/record")],
    "teams_api.Substitutions": [("office", "/api/v1/teams/substitutions")],
    "teams_api.MyVisits": [("inspector", "/api/v1/my/visits")],
    # the field app
    "field_api.FieldVisits": [("inspector", "/api/v1/field/visits")],
    "field_api.VisitPack": [("inspector", "/api/v1/field/visits/{b.my_visits[0]}/pack")],
    # after the visit
    "review.queue": [("office", "/review/")],
    "review.approvals": [("approver", "/review/approvals")],
    "review_api.Queue": [("office", "/api/v1/review/queue")],
    "review_api.Approvals": [("approver", "/api/v1/review/approvals")],
    "todo.deadlines": [("supervisor", "/deadlines"), ("office", "/deadlines")],
    "todo.inbox": [("office", "/inbox"), ("inspector", "/inbox")],
    # the public portal
    "public_results.results": [("anonymous", "/public/results")],
    "public_results.results_json": [("anonymous", "/public/results.json")],
    "public_draws.show": [("anonymous", "/public/draws/{b.target_public}"),
                          ("anonymous", "/public/draws/{b.team_public}")],
    "public_draws.record": [("anonymous", "/public/draws/{b.target_public}/record.json"),
                            ("anonymous", "/public/draws/{b.team_public}/record.json")],
    "portal.home": [("anonymous", "/public/")],
    "portal.catalogue": [("anonymous", "/public/catalogue")],
    "portal.catalogue_json": [("anonymous", "/public/catalogue.json")],
    "portal.plans": [("anonymous", "/public/plans")],
    "portal.plans_json": [("anonymous", "/public/plans.json")],
    "portal.plan": [("anonymous", "/public/plans/{b.plan}")],
    "portal.plan_json": [("anonymous", "/public/plans/{b.plan}.json")],
    "portal.tasks": [("anonymous", "/public/tasks")],
    "portal.tasks_json": [("anonymous", "/public/tasks.json")],
    "portal.draws": [("anonymous", "/public/draws")],
    "portal.draws_json": [("anonymous", "/public/draws.json")],
    "portal.results_csv": [("anonymous", "/public/results.csv")],
}

#: Lists whose rows this bureau does not make (the steps after publication), each counted at
#: two sizes by the test module named.
COUNTED_ELSEWHERE: dict[str, str] = {
    "followup.index": "tests/review/test_followup.py",
    "reports.index": "tests/reports/test_task_report.py",
    "jobs.index": "tests/jobs/test_jobs.py",
}

#: Every other GET endpoint, and why it is not a list.
NOT_LISTS: dict[str, str] = {
    "handling.letter": "file",
    "handling_api.Letter": "file",
    "handling_api.HandlingState": "single",
    "archive.download": "file",
    "reports.download": "file",
    "jobs.detail": "single",
    "jobs.download": "file",
    "jobs_api.JobState": "single",
    "static": "static",
    "api-docs.openapi_json": "schema",
    "core.login": "form",
    "core.change_password": "form",
    "core.user_new": "form",
    "core.user_edit": "single",
    "core.healthz": "probe",
    "core_api.CsrfToken": "token",
    "core_api.Me": "single",
    "catalogue.new": "form",
    "catalogue.edit": "form",
    "catalogue.publish": "form",
    "catalogue.version": "single",
    "catalogue_api.Item": "single",
    "catalogue_api.Version": "single",
    "employers.new": "form",
    "employers.edit": "form",
    "employers.detail": "single",
    "employers.import_upload": "form",
    "employers.template_csv": "file",
    "employers.template_xlsx": "file",
    "employers_api.EmployerItem": "single",
    "inspectors.new": "form",
    "inspectors.edit": "form",
    "inspectors.import_page": "form",
    "inspectors.template": "file",
    "inspectors_api.InspectorItem": "single",
    "planning.plan_new": "form",
    "planning.plan_edit": "form",
    "planning.task": "single",
    "planning.task_new": "form",
    "planning.task_edit": "form",
    "plans_api.Plan": "single",
    "plans_api.PlanInForce": "single",
    "tasks_api.TaskResource": "single",
    "tasks_api.TaskMatching": "count",
    "draws.new": "form",
    "draws.execute": "form",
    "draws_api.Preview": "count",
    "draws_api.Verify": "single",
    "teams.substitute": "form",
    "teams.substitution": "single",
    "field.shell": "shell",
    "field.manifest": "static",
    "field.service_worker": "static",
    "field_api.VisitRecord": "single",
    "field_joint_api.Arrangement": "single",
    "field_joint_api.Parts": "single",
    "review.visit": "single",
    "review.feedback_letter": "file",
    "review.feedback_proof": "file",
    "review_api.VisitState": "single",
    "review_api.FeedbackLetter": "file",
    "public_results.show": "single",
    "public_records.show": "single",
    "public_draws.pool": "file",
    "public_draws.verifier": "file",
    "public_draws.engine": "file",
    "public_draws.assigner": "file",
    "public_draws.log_checker": "file",
    "public_log.index": "single",
    "public_log.checkpoint": "file",
    "public_log.tile": "file",
    "public_log.entries": "file",
    "public_log.witness_source": "file",
    "public_log.tlog_source": "file",
    "public_draws.log_checker": "file",
    "public_log.index": "single",
    "public_log.checkpoint": "single",
    "public_log.tile": "file",
    "public_log.entries": "file",
    "public_log.tlog_source": "file",
    "public_log.witness_source": "file",
    "portal.catalogue_item": "single",
    "portal.catalogue_item_json": "single",
    "portal.task": "single",
    "portal.task_json": "single",
    "documents.record_page": "single",
    "documents.record_pdf": "file",
    "documents.notice_pdf": "file",
    "documents.order_pdf": "file",
}


#: Calls whose rows are the same at both sizes: the test cannot see them grow (their counts
#: are compared all the same).
SAME_ROWS: dict[tuple[str, int], str] = {
    ("core.home", 2): "a supervisor's home counts, it lists nothing of the bureau's size",
    ("core.home", 3): "the inspector's to-do list holds what waits for them, the same",
    ("core.home", 4): "an administrator's to-do list is the calendar's",
    ("calendar.index", 0): "the calendar's years do not grow with the bureau",
    ("calendar_api.CalendarYears", 0): "the calendar's years do not grow with the bureau",
    ("employers.regions", 0): "the regions do not grow with the bureau",
    ("teams.task", 0): "a task whose teams are drawn shows the number of its visits only",
    ("teams_api.TaskTeams", 0): "a task whose teams are drawn has no eligibility to show",
    ("field_api.VisitPack", 0): "one visit's pack: its items, questions and team",
    ("todo.inbox", 1): "no reminder is due for the inspector",
    ("portal.plans", 0): "one plan is published whatever the size",
    ("portal.plans_json", 0): "one plan is published whatever the size",
}


# --- counting --------------------------------------------------------------------------------

@dataclass
class Measure:
    status: int
    statements: int
    size: int       # bytes of the answer


@dataclass
class Measured:
    calls: dict[tuple[str, int], Measure]
    #: visits whose pack's ETag in the field app's list is not the pack's own
    pack_mismatches: list[str]


def _clients(app, bureau: Bureau) -> dict[str, Client]:
    out = {"anonymous": Client(app)}
    for role, username in [*bureau.users.items(), ("inspector", bureau.me)]:
        client = Client(app)
        assert client.login(username).status_code == 302, username
        out[role] = client
    return out


def _measure(app, size: int) -> Measured:
    """Build the bureau at ``size`` and count the statements of every call of :data:`LISTS`
    (each call made twice, the second counted: what a first request warms once is not a
    row's)."""
    with app.app_context():
        db.session.remove()
        empty_database()
        department = core_ops.create_department("劳动保障监察", "LSJC").id
        bureau = build(department, size)
        db.session.remove()
    clients = _clients(app, bureau)
    counted = [0]

    def count(*_args, **_kw):
        counted[0] += 1

    calls = {}
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for endpoint, made in LISTS.items():
            for n, (role, template) in enumerate(made):
                path = template.format(b=bureau)
                clients[role].get(path)
                counted[0] = 0
                response = clients[role].get(path)
                calls[(endpoint, n)] = Measure(response.status_code, counted[0],
                                               len(response.get_data()))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # The list makes every pack from what it reads for all visits at once: the same ETag
    # as the pack read alone.
    phone = clients["inspector"]
    mismatches = [v["number"] for v in phone.get("/api/v1/field/visits").get_json()
                  if phone.get(f"/api/v1/field/visits/{v['number']}/pack")
                  .headers["ETag"] != f'"{v["pack_etag"]}"']
    return Measured(calls, mismatches)


@pytest.fixture(scope="module")
def measured(app):
    """The counts at both sizes, measured once for the module."""
    return _measure(app, SMALL), _measure(app, LARGE)


CALLS = [(endpoint, n) for endpoint, made in LISTS.items() for n in range(len(made))]


@pytest.mark.parametrize("endpoint, n", CALLS, ids=[f"{e}-{n}" for e, n in CALLS])
def test_statements_do_not_grow_with_rows(measured, endpoint, n):
    small, large = measured[0].calls[(endpoint, n)], measured[1].calls[(endpoint, n)]
    role, template = LISTS[endpoint][n]
    assert small.status == large.status == 200, (template, small, large)
    assert large.statements == small.statements, (
        f"{template} as {role}: {small.statements} statements with the small bureau, "
        f"{large.statements} with the large one")


def test_the_larger_bureau_shows_more_rows(measured):
    """Else the comparison proves nothing: every list is longer at the larger size, but those
    of :data:`SAME_ROWS`."""
    short = [(key, measured[0].calls[key].size, measured[1].calls[key].size) for key in CALLS
             if key not in SAME_ROWS
             and measured[1].calls[key].size <= measured[0].calls[key].size]
    assert not short, short
    assert set(SAME_ROWS) <= set(CALLS)


def test_the_visit_list_gives_each_packs_own_etag(measured):
    assert measured[0].pack_mismatches == measured[1].pack_mismatches == []


def test_every_get_endpoint_is_a_list_or_says_why_not(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert not set(LISTS) & set(NOT_LISTS)
    assert not set(COUNTED_ELSEWHERE) & (set(LISTS) | set(NOT_LISTS))
    forgotten = endpoints - set(LISTS) - set(NOT_LISTS) - set(COUNTED_ELSEWHERE)
    assert not forgotten, f"GET endpoints neither in LISTS nor in NOT_LISTS: {sorted(forgotten)}"
    for module in COUNTED_ELSEWHERE.values():
        assert (Path(__file__).parents[2] / module).is_file(), module
    gone = (set(LISTS) | set(NOT_LISTS) | set(COUNTED_ELSEWHERE)) - endpoints
    assert not gone, f"no longer endpoints of the app: {sorted(gone)}"
    assert all(reason.isalpha() for reason in NOT_LISTS.values())
