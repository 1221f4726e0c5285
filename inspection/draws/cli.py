"""``flask --app app draws verify DRAW_ID``."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..core.errors import DomainError

draws_cli = AppGroup("draws", help="Draws: verify a draw from its stored record and pools.")


@draws_cli.command("verify")
@click.argument("draw_id")
def verify_command(draw_id: str) -> None:
    """Re-check a draw (public id such as DRAW-2026-0001, or the numeric id): prints OK, or
    every problem; exits 0 or 1."""
    from . import commitments

    try:
        draw = commitments.get_draw(draw_id)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    problems = commitments.verify_draw(draw)
    if not problems:
        click.echo(f"OK {draw.public_id}")
        return
    click.echo(f"FAILED: {len(problems)} problems ({draw.public_id})")
    for problem in problems:
        click.echo(f"  {problem}")
    sys.exit(1)
