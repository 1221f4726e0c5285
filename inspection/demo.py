"""The demo bureau: ``flask --app app seed-demo`` fills an empty database, deterministically
apart from today's date (the plan is this year's, the tasks' windows include today, and the
results after the visit are at every stage: :mod:`inspection.review.demo`) and the draws'
freshly generated secrets."""
from __future__ import annotations

import hashlib
import time as time_module
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from .catalogue.demo import seed_catalogue
from .core import operations as ops
from .core.models import Position, Role, User
from .core.passwords import DEMO_PASSWORD
from .core.timeutil import LOCAL, to_local
from .directory.employers import operations as employers
from .directory.employers.demo import seed_employers, seed_regions
from .directory.inspectors import operations as inspectors
from .directory.inspectors.demo import seed_inspectors
from .directory.models import Inspector
from .draws import commitments
from .draws.target import operations as target
from .draws.team import operations as team_ops
from .draws.team import queries as team_queries
from .extensions import db
from .planning.demo import catalogue_published_on, demo_today, seed_planning
from .review.demo import seed_review

DEPARTMENTS = [
    ("劳动保障监察", "LSJC"),
    ("社会保险", "SHBX"),
    ("就业", "JY"),
    ("人力资源", "RLZY"),
    ("法制", "FZ"),
]

#: username, full name, department code, roles
USERS = [
    ("admin", "系统管理员", "RLZY", [Role.ADMIN]),
    ("office", "王晓梅", "LSJC", [Role.OFFICE]),
    ("approver", "李建国", "LSJC", [Role.APPROVER]),
    ("director", "孙立华", "LSJC", [Role.APPROVER]),
    ("inspector1", "张伟", "LSJC", [Role.INSPECTOR]),
    ("inspector2", "刘洋", "SHBX", [Role.INSPECTOR]),
    ("leader", "陈志强", "LSJC", [Role.INSPECTOR]),
    ("supervisor", "赵敏", "FZ", [Role.SUPERVISOR]),
]
#: Positions in the department (who approves what: :mod:`inspection.core.authority`): 李建国 is
#: head (负责人) of 劳动保障监察 and approves determinations and substitutions; 孙立华 is its
#: principal head (主要负责人) and signs corrections (APPROVE_CORRECTION).
POSITIONS = {"approver": Position.HEAD.value, "director": Position.PRINCIPAL_HEAD.value}
#: Every demo account has an address of the reserved domain ``example.invalid`` (RFC 2606),
#: which no mail server delivers to.
EMAIL_DOMAIN = "example.invalid"
#: The account made after the team draw for a team-mate of inspector1 (:func:`seed_partner`),
#: so that two demo accounts can sign one record (a record needs two inspectors' signatures).
PARTNER = "inspector3"


#: How ``seed-demo`` names the stages after the visit it made (:mod:`inspection.review.demo`).
STAGE_NAMES = {
    "recorded": "sealed, waiting for the office's review",
    "returned": "returned to the team (inspector1's phone)",
    "proposed": "determination waiting for approval (approver)",
    "determined_overdue": "approved, publication overdue",
    "determined": "approved, to publish",
    "published": "published, objection under review",
    "corrected": "published and corrected (director)",
}


def seed_core() -> None:
    depts = {code: ops.create_department(name, code) for name, code in DEPARTMENTS}
    for username, name, dept, roles in USERS:
        ops.create_user(username, name, depts[dept], roles, DEMO_PASSWORD)
    admin = ops.find_user("admin")
    for username, _name, _dept, _roles in USERS:
        user = ops.find_user(username)
        ops.update_user(user, display_name=user.display_name, department=user.department,
                        roles=user.roles, actor=admin, position=POSITIONS.get(username, ""),
                        email=f"{username}@{EMAIL_DOMAIN}")


#: How long after the commitment the demo's public value is published: longer than preparing
#: a demo draw takes (the source must become known after the commitment, and the draw can be
#: executed only once it is known).
DEMO_SOURCE_DELAY = timedelta(seconds=1)


def demo_source(now: datetime | None = None) -> dict:
    """A public source for a demo draw: a value "published" :data:`DEMO_SOURCE_DELAY` after
    ``now`` (the moment of the commitment), named as the demo's own, since seeding cannot wait
    for a real lottery draw. Its time has passed long before anyone looks at the demo."""
    known = (now or to_local(commitments.utcnow())).astimezone(LOCAL) + DEMO_SOURCE_DELAY
    known = known.replace(microsecond=0) + timedelta(seconds=1)
    return {"name": f"演示用公开随机数 {known:%Y-%m-%d %H:%M:%S} 公布值（演示数据）",
            "available_at": known.isoformat()}


def wait_until(moment: datetime) -> None:
    """Sleep until ``moment`` on the clock the draws' time lock reads (tests move that clock
    forward instead of sleeping)."""
    wait = (moment - to_local(commitments.utcnow())).total_seconds()
    if wait > 0:
        time_module.sleep(wait + 0.01)


def demo_value(source: dict) -> str:
    """The demo source's "published" value: waits until its time has come (the server would
    refuse it before), then gives three digits made from that time, as a 3D lottery draw
    would."""
    wait_until(datetime.fromisoformat(source["available_at"]))
    digits = hashlib.sha256(source["available_at"].encode()).digest()
    return " ".join(str(b % 10) for b in digits[:3])


def seed_draws(tasks) -> None:
    """Run the draws of the first demo task the way the office would: confirm both
    directories, commit to a public source published a moment later and two parties' secrets,
    execute once the value is known, then draw the team, so that the demo inspectors find
    visits assigned to them. The task is announced: its draws are published in full, and
    anyone can re-run them."""
    office = ops.find_user("office")
    employers.confirm_current(office, "演示：抽取前确认名录为最新")
    inspectors.confirm_current(office, "演示：抽取前确认名录为最新")
    task = tasks[0]
    parties = [{"party": "劳动保障监察", "generate": True}, {"party": "法制", "generate": True}]
    source = demo_source()
    prepared = target.prepare_target_draw(task, "public", [source], parties, office)
    target.execute_target_draw(prepared.draw, [demo_value(source)], prepared.generated, office)
    source = demo_source()
    prepared = team_ops.prepare_team_draw(task, task.lead_department_id, mode="public",
                                          declared_sources=[source], secret_specs=parties,
                                          actor=office)
    team_ops.execute_team_draw(prepared.draw.id, source_values=[demo_value(source)],
                               revealed=prepared.generated, actor=office)
    seed_partner()


def seed_partner() -> None:
    """Make the account :data:`PARTNER` for a team-mate of inspector1 who has none, the
    first found in the order of inspector1's visits (else for any drawable inspector of their
    department), so that two demo accounts can sign one record."""
    me = ops.find_user("inspector1")
    candidates = [db.session.get(Inspector, member.inspector_id)
                  for assignment in team_queries.my_visits(me)
                  for member in team_queries.members_of(assignment.visit)]
    candidates += db.session.scalars(select(Inspector).where(
        Inspector.department_id == me.department_id).order_by(Inspector.id)).all()
    inspector = next((i for i in candidates if i.user_id is None), None)
    if inspector is None:
        return
    user = ops.create_user(PARTNER, inspector.name, inspector.department, [Role.INSPECTOR],
                           DEMO_PASSWORD)
    ops.update_user(user, display_name=user.display_name, department=user.department,
                    roles=user.roles, actor=ops.find_user("admin"),
                    email=f"{PARTNER}@{EMAIL_DOMAIN}")
    inspector.user_id = user.id
    db.session.commit()


@click.command("seed-demo")
@with_appcontext
@click.option("--employers", "employer_count", default=3000, show_default=True,
              type=click.IntRange(0, 5_000_000), help="How many demo employers to make.")
def seed_demo(employer_count: int) -> None:
    """Fill an empty database with the demo bureau (refuses when users exist)."""
    if not current_app.config["SETTINGS"].DEMO_MODE:
        raise click.ClickException("demo mode is off: set INSPECTION_DEMO_MODE=1 to seed the "
                                   "demo bureau (its published password works only then)")
    if db.session.scalar(select(func.count(User.id))):
        click.echo("the database has users already: demo not seeded")
        return
    today = demo_today()
    seed_core()
    seed_regions()
    seed_employers(count=employer_count)
    seed_inspectors()
    seed_catalogue(catalogue_published_on(today))
    seed_draws(seed_planning(today))
    stages = seed_review(today)
    click.echo(f"demo bureau seeded with {employer_count} employers; every demo account's "
               f"password is {DEMO_PASSWORD}")
    for stage, numbers in stages.items():
        click.echo(f"  {STAGE_NAMES.get(stage, stage)}: {', '.join(numbers)}")
    extra = db.session.scalars(select(User.username).where(
        User.username.not_in([u[0] for u in USERS] + [PARTNER])).order_by(User.id)).all()
    if extra:
        click.echo(f"  team members' accounts: {', '.join(extra)}")
