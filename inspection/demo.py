"""The demo bureau: ``flask --app app seed-demo`` fills an empty database, deterministically."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from .catalogue.demo import seed_catalogue
from .core import operations as ops
from .core.models import Role, User
from .core.passwords import DEMO_PASSWORD
from .directory.employers.demo import seed_employers, seed_regions
from .directory.inspectors.demo import seed_inspectors
from .extensions import db

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
    ("inspector1", "张伟", "LSJC", [Role.INSPECTOR]),
    ("inspector2", "刘洋", "SHBX", [Role.INSPECTOR]),
    ("leader", "陈志强", "LSJC", [Role.INSPECTOR]),
    ("supervisor", "赵敏", "FZ", [Role.SUPERVISOR]),
]


def seed_core() -> None:
    depts = {code: ops.create_department(name, code) for name, code in DEPARTMENTS}
    for username, name, dept, roles in USERS:
        ops.create_user(username, name, depts[dept], roles, DEMO_PASSWORD)


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
    seed_core()
    seed_regions()
    seed_employers(count=employer_count)
    seed_inspectors()
    seed_catalogue()
    click.echo(f"demo bureau seeded with {employer_count} employers; every demo account's "
               f"password is {DEMO_PASSWORD}")
