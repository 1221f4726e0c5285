"""``flask --app app archive verify FILE``, ``archive retain TASK --years N --reason TEXT``
and ``flask --app app retention purge [--dry-run]`` (docs/archive.md)."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ...core.errors import DomainError
from . import operations as ops

archive_cli = AppGroup("archive", help="Check and keep the case-file archives.")
retention_cli = AppGroup("retention", help="Remove what is past its retention period.")


@archive_cli.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def verify(path: str) -> None:
    """Check a case-file ZIP against its manifest (exit 1 naming the first mismatch)."""
    ok, message = ops.verify_file(path)
    if not ok:
        click.echo(f"archive BROKEN: {message}", err=True)
        sys.exit(1)
    click.echo(f"archive OK: {message}")


@archive_cli.command("retain")
@click.argument("task_id", type=int)
@click.option("--years", type=int, required=True, help="Years after archiving.")
@click.option("--reason", required=True, help="The rule that sets the longer period.")
def retain(task_id: int, years: int, reason: str) -> None:
    """Keep a task's case file longer than the bureau's default."""
    try:
        row = ops.set_retention(task_id, years, reason, actor=None)
    except DomainError as error:
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in (error.fields or {}).items())
        raise click.ClickException(error.message + (f" ({detail})" if detail else "")) from None
    click.echo(f"task {task_id}: kept until {row.retention_until.isoformat()}")


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="List what is due; change nothing.")
def purge(dry_run: bool) -> None:
    """Remove the case files past retention, leaving a tombstone in the audit trail."""
    rows = ops.purge(dry_run=dry_run)
    verb = "due" if dry_run else "removed"
    for row in rows:
        kept = " (file kept: another archive not yet due holds it)" if row["file_kept"] else ""
        click.echo(f"{verb}: task {row['task_id']} archive {row['sha256']} "
                   f"({row['size']} bytes, {row['entries']} files, kept until "
                   f"{row['retention_until']}){kept}")
    click.echo(f"{len(rows)} archive(s) {verb}" + (" (dry run: nothing changed)"
                                                    if dry_run else ""))
