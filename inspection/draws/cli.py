"""``flask --app app draws verify DRAW_ID`` and ``flask --app app log submit``."""
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


log_cli = AppGroup("log", help="The public log of draws: submit its checkpoints to witnesses.")


@log_cli.command("submit")
def submit_command() -> None:
    """Submit the log's newest checkpoint (and those since each witness's last) to the
    witnesses of LOG_WITNESSES and keep their cosignatures: one line per witness; exits 1
    when a witness failed (for cron, or to retry after a failed job)."""
    from . import witnesses

    outcomes = witnesses.submit_all()
    if not outcomes:
        click.echo("no witnesses configured (LOG_WITNESSES)")
        return
    for outcome in outcomes:
        click.echo(f"{'OK' if outcome.ok else 'FAILED'} {outcome.witness}: {outcome.message}")
    if not all(outcome.ok for outcome in outcomes):
        sys.exit(1)
