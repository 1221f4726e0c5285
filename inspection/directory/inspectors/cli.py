"""``flask --app app inspectors import FILE [--only-valid]`` and ``inspectors export FILE``."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from ...core.errors import DomainError
from . import importer, operations as ops

inspectors_cli = AppGroup("inspectors", help="The inspectors directory: import and export.")


@inspectors_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--only-valid", is_flag=True,
              help="Import the valid rows and skip the others (default: all or nothing).")
def import_command(path: Path, only_valid: bool) -> None:
    """Import a CSV or XLSX file of inspectors (upsert by certificate number).

    Prints every problem (row, column, reason) when the file has any and exits non-zero:
    1 when nothing was imported (the default, all or nothing), 2 when --only-valid imported
    the valid rows and skipped the others."""
    data = path.read_bytes()
    try:
        batch, result = importer.run_import(data, path.name, only_valid=only_valid)
    except DomainError as error:
        try:
            problems = importer.preview(data, path.name).problems
        except DomainError:
            problems = []
        for problem in problems:
            click.echo(str(problem), err=True)
        click.echo(error.message, err=True)
        sys.exit(1)
    for problem in result.problems:
        click.echo(str(problem), err=True)
    click.echo(f"import {batch.id}: {batch.rows_total} rows, {batch.created} created, "
               f"{batch.updated} updated, {batch.unchanged} unchanged, "
               f"{batch.rows_invalid} invalid rows skipped")
    if result.problems:
        sys.exit(2)  # imported, but rows were skipped


@inspectors_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def export_command(path: Path) -> None:
    """Write every inspector to an XLSX file in the import template's layout."""
    path.write_bytes(importer.export_xlsx(ops.search()))
    click.echo(f"wrote {path}")
