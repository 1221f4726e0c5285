"""Command-line tools: ``flask --app app init-db | users create | audit verify | seed-demo``."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade

from ..extensions import db
from . import audit, operations as ops
from .errors import DomainError, NotFound
from .models import Role

users_cli = AppGroup("users", help="Manage user accounts.")
audit_cli = AppGroup("audit", help="Check the audit trail.")


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Bring the database to the newest schema (safe to run again)."""
    upgrade()
    audit.ensure_head()
    db.session.commit()
    click.echo("database is at the newest schema")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([r.value for r in Role]), help="Repeat for several roles.")
@click.option("--department", required=True, help="Department name or code (made if missing).")
@click.option("--name", "display_name", default="", help="Full name shown in the app.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(username: str, roles: tuple[str, ...], department: str, display_name: str,
                password: str) -> None:
    """Create a user (the first admin, typically)."""
    try:
        try:
            dept = ops.get_department(department)
        except NotFound:
            dept = ops.create_department(department, _free_code())
            click.echo(f"created department {dept.name} ({dept.code})")
        user = ops.create_user(username, display_name or username, dept, roles, password)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"created user {user.username} with roles {', '.join(sorted(user.roles))}")


def _free_code() -> str:
    from sqlalchemy import func, select

    from .models import Department
    n = db.session.scalar(select(func.count(Department.id))) + 1
    return f"D{n:02d}"


@audit_cli.command("verify")
def verify_audit() -> None:
    """Walk the hash chain; exit 1 naming the first bad entry."""
    count, problem = audit.verify()
    if problem:
        click.echo(f"audit trail BROKEN at {problem} ({count} entries before it are sound)",
                   err=True)
        sys.exit(1)
    click.echo(f"audit trail OK: {count} entries")


def init_app(app: Flask) -> None:
    from ..demo import seed_demo

    app.cli.add_command(init_db)
    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(seed_demo)
    from .calendar_cli import calendar_cli
    app.cli.add_command(calendar_cli)
