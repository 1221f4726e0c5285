"""Fixtures of the team-draw tests (not a test module): a bureau whose task has its targets
drawn (through the real target draw), and inspectors in two departments."""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import select

from inspection.core import operations as core_ops
from inspection.core.models import User
from inspection.directory.inspectors import operations as inspector_ops
from inspection.directory.models import Inspector
from inspection.draws.engine import verify
from inspection.draws.team import operations as team_ops
from inspection.draws.team import queries as team_queries
from inspection.extensions import db
from inspection.fieldwork.models import Visit, VisitTask

from helpers import replayed
from target_support import build_world, execute, make_task, prepare, soon, wait_until_known

PASSWORD = "Correct-horse-42"
SECRETS = {"office": "c3" * 16, "supervisor": "d4" * 16}
#: The public source the tests declare (its name; target_support.soon adds its time).
SOURCE = [{"name": "中国福利彩票双色球 2026040 期开奖号码"}]
REGIONS = ("370305001", "370305002")


@dataclass
class Bureau:
    task_id: int
    lead_id: int
    social_id: int
    office_id: int
    approver_id: int
    #: inspector ids by department id, in creation order
    inspectors: dict[int, list[int]] = field(default_factory=dict)


def make_inspector(dept_id: int, n: int, *, status: str = "available",
                   cert_expires: date = date(2030, 12, 31), region: str | None = None,
                   pool: str = "staff", user_id: int | None = None, name: str | None = None) -> int:
    inspector = Inspector(name=name or f"检查员{dept_id}-{n}", department_id=dept_id,
                          cert_kind="labour_inspector", cert_number=f"LS{dept_id:02d}{n:05d}",
                          cert_expires=cert_expires, status=status, pool=pool,
                          home_region_code=region, user_id=user_id, tags=[])
    db.session.add(inspector)
    db.session.commit()
    return inspector.id


@replayed
def build_bureau(department: int, *, employers: int = 4, lead_inspectors: int = 5,
                 social_inspectors: int = 0, joint: bool = False, confirm: bool = True) -> Bureau:
    """Within an app context: a task with ``employers`` visits (all drawn at 100 %)."""
    world = build_world(department, grades={"B": employers})
    task_id = make_task(world, ratios={"A": "0", "B": "1.00", "C": "0", "D": "0"}, joint=joint)
    prepared = prepare(world, task_id)
    execute(world, prepared.draw.id)
    dept = core_ops.get_department(department)
    approver = core_ops.create_user("teamapprover", "Team Approver", dept, ("approver",),
                                    PASSWORD)
    approver.position = "head"  # substitutions are approved by the head (APPROVE_SUBSTITUTION)
    db.session.commit()
    bureau = Bureau(task_id, department, world.social_id, world.office_id, approver.id)
    bureau.inspectors[department] = [
        make_inspector(department, n, region=REGIONS[n % 2]) for n in range(lead_inspectors)]
    bureau.inspectors[world.social_id] = [
        make_inspector(world.social_id, n, region=REGIONS[n % 2])
        for n in range(social_inspectors)]
    if confirm:
        inspector_ops.confirm_current(office(bureau))
    return bureau


def office(bureau: Bureau) -> User:
    return db.session.get(User, bureau.office_id)


def approver(bureau: Bureau) -> User:
    return db.session.get(User, bureau.approver_id)


def task(bureau: Bureau):
    return team_queries.get_task(bureau.task_id)


def visits(bureau: Bureau) -> list[Visit]:
    return db.session.scalars(select(Visit).join(VisitTask, VisitTask.visit_id == Visit.id)
                              .where(VisitTask.task_id == bureau.task_id)
                              .order_by(Visit.number)).all()


def secret_specs(secrets=SECRETS) -> list[dict]:
    return [{"party": p, "sha256": verify.secret_commitment(s)} for p, s in secrets.items()]


def prepare_team(bureau: Bureau, department_id: int | None = None, mode: str = "public"):
    """Prepare; in the public mode, return once the source (known a moment later) is known,
    so that the draw can be executed at once."""
    the_task, actor = task(bureau), office(bureau)
    specs = secret_specs() if mode != "system" else []
    declared = soon(SOURCE) if mode == "public" else []
    prepared = team_ops.prepare_team_draw(
        the_task, department_id or bureau.lead_id, mode=mode, declared_sources=declared,
        secret_specs=specs, actor=actor)
    wait_until_known(declared)
    return prepared


def execute_team(bureau: Bureau, draw_id: int, values=("3 11 17 22 28 31 9",), secrets=SECRETS):
    return team_ops.execute_team_draw(draw_id, source_values=list(values),
                                      revealed=dict(secrets), actor=office(bureau))


def draw_teams(bureau: Bureau, department_id: int | None = None):
    draw = prepare_team(bureau, department_id).draw
    return execute_team(bureau, draw.id)


@contextmanager
def recusal_settings(**values):
    """Turn the optional recusal settings on for the block (the settings object is frozen:
    swap it for a copy, and put the original back)."""
    original = current_app.config["SETTINGS"]
    current_app.config["SETTINGS"] = dataclasses.replace(original, **values)
    try:
        yield
    finally:
        current_app.config["SETTINGS"] = original


def english(client):
    """Read the pages in English (the bureau's default is Chinese): the choice is kept on the
    signed-in account."""
    response = client.post_form("/language", {"lang": "en", "next": "/"}, token_from="/")
    assert response.status_code == 302
    return client
