"""Fixtures of the target-draw tests (not a test module): a small bureau with regions,
departments, the standard catalogue, employers of every grade, an approved plan and tasks."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from inspection.catalogue.demo import seed_catalogue
from inspection.catalogue.models import CheckItem
from inspection.core import operations as core_ops
from inspection.core.models import User
from inspection.core.timeutil import LOCAL
from inspection.directory import credit_code as cc
from inspection.directory.employers import operations as employers
from inspection.directory.employers.demo import seed_regions
from inspection.directory.models import Employer
from inspection.draws.engine import verify
from inspection.draws.target import operations as target
from inspection.extensions import db
from inspection.planning.models import AnnualPlan, Task, TaskDepartment, TaskItem

from helpers import CLOCK, replayed

SECRETS = {"劳动保障监察": "a1" * 16, "法制机构": "b2" * 16}
#: The public source the tests declare (its name; :func:`soon` adds its time).
SOURCE = [{"name": "中国福利彩票3D 2026088期开奖号码"}]
#: How long after it is declared the tests' source becomes known: longer than a preparation
#: takes, even on a loaded machine, so that the commitment comes first, as the server
#: requires. Nothing waits for it: the tests' draws clock moves on (helpers.DrawClock).
KNOWN_AFTER = timedelta(seconds=5)


def soon(sources=SOURCE, after: timedelta = KNOWN_AFTER) -> list[dict]:
    """``sources`` declared as known a moment from now (Beijing time, to the microsecond)."""
    at = (CLOCK.local() + after).isoformat(timespec="microseconds")
    return [dict(source, available_at=at) for source in sources]


def wait_until_known(sources) -> None:
    """Move the draws' clock to just after every source's value is known: the draw may then
    be executed."""
    latest = max((datetime.fromisoformat(s["available_at"]) for s in sources), default=None)
    if latest is not None:
        CLOCK.wait_until(latest)


def unique_codes(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < n:
        out.add(cc.random_code(rng))
    return sorted(out)


@dataclass
class World:
    plan_id: int
    office_id: int
    dept_id: int
    social_id: int
    codes: list[str]


@replayed
def build_world(department: int, grades: dict[str, int] | None = None, cap: int = 2,
                year: int = 2026, confirm: bool = True) -> World:
    """Within an app context: the whole fixture; employers by grade counts."""
    grades = grades or {"A": 10, "B": 30, "C": 20, "D": 5}
    social = core_ops.create_department("社会保险", "SHBX")
    seed_regions()
    seed_catalogue()
    dept = core_ops.get_department(department)
    office = core_ops.create_user("drawoffice", "Draw Office", dept, ("office",),
                                  "Correct-horse-42")
    codes = unique_codes(sum(grades.values()))
    it = iter(codes)
    n = 0
    for grade, count in grades.items():
        for _ in range(count):
            n += 1
            db.session.add(Employer(credit_code=next(it), name=f"淄博测试{grade}{n}有限公司",
                                    employer_type="enterprise", region_code="370305001",
                                    industry="C", risk_grade=grade))
    plan = AnnualPlan(year=year, title=f"{year} 年度抽查计划", status="approved",
                      yearly_cap=cap)
    db.session.add(plan)
    db.session.commit()
    if confirm:
        employers.confirm_current(office)
    return World(plan.id, office.id, department, social.id, codes)


def make_task(world: World, name: str = "工资支付专项", ratios: dict | None = None,
              window=(date(2026, 4, 1), date(2026, 6, 30)), items=("LR-06",),
              status: str = "approved", filters: dict | None = None,
              joint: bool = False) -> int:
    ratios = ratios or {"A": "0.10", "B": "0.10", "C": "0.20", "D": "0.40"}
    task = Task(plan_id=world.plan_id, name=name, lead_department_id=world.dept_id,
                window_start=window[0], window_end=window[1], status=status,
                grade_ratios=ratios, task_type="directed" if filters else "undirected",
                filters=filters or {})
    task.departments.append(TaskDepartment(department_id=world.dept_id, is_lead=True))
    if joint:
        task.departments.append(TaskDepartment(department_id=world.social_id))
    for code in items:
        item = db.session.scalar(select(CheckItem).where(CheckItem.code == code))
        task.items.append(TaskItem(item_version_id=item.current.id))
    db.session.add(task)
    db.session.commit()
    return task.id


def office(world: World) -> User:
    return db.session.get(User, world.office_id)


def secret_specs(secrets: dict[str, str] = SECRETS) -> list[dict]:
    return [{"party": p, "sha256": verify.secret_commitment(s)} for p, s in secrets.items()]


def prepare(world: World, task_id: int, mode: str = "public", sources=None,
            secrets: dict[str, str] = SECRETS):
    """Prepare; with the default source (known a moment later), return once it is known, so
    that the draw can be executed at once."""
    specs, actor = secret_specs(secrets), office(world)
    declared = (soon() if sources is None else sources) if mode == "public" else []
    prepared = target.prepare_target_draw(task_id, mode, declared, specs, actor)
    if sources is None:
        wait_until_known(declared)
    return prepared


def execute(world: World, draw_id: int, values=("5 0 8",), secrets: dict[str, str] = SECRETS):
    return target.execute_target_draw(draw_id, list(values), dict(secrets), office(world))


@pytest.fixture
def world(app, department):
    with app.app_context():
        return build_world(department)
