"""``flask --app app planning seed | plans | tasks``."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..core.errors import DomainError
from ..extensions import db
from . import operations as ops

planning_cli = AppGroup("planning", help="Annual plans and tasks.")


@planning_cli.command("seed")
def seed() -> None:
    """Create the demo 2026 plan and tasks (needs the core demo and the catalogue)."""
    from .demo import seed_planning

    try:
        tasks = seed_planning()
    except DomainError as error:
        raise click.ClickException(error.message) from None
    for task in tasks:
        click.echo(f"task {task.id}\t{task.status}\t{task.name}")


@planning_cli.command("plans")
@click.option("--year", type=int, default=None)
def plans(year: int | None) -> None:
    """Print the plans: year, revision, status, in force, title."""
    for plan in db.session.scalars(ops.list_plans(year=year)):
        force = "in force" if plan.status in ops.IN_FORCE else ""
        click.echo(f"{plan.id}\t{plan.year}\tr{plan.revision}\t{plan.status}\t{force}\t"
                   f"{plan.title}")


@planning_cli.command("tasks")
@click.option("--year", type=int, default=None)
@click.option("--status", default=None)
def tasks(year: int | None, status: str | None) -> None:
    """Print the tasks: id, status, window, employers matching now, name."""
    for task in db.session.scalars(ops.list_tasks(status=status, year=year)):
        click.echo(f"{task.id}\t{task.status}\t{task.window_start}..{task.window_end}\t"
                   f"{ops.count_matching(task)}\t{task.name}")
