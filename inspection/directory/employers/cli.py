"""``flask --app app employers import FILE [--only-valid]``, ``employers template FILE`` and
``employers export FILE``."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from ...core.errors import DomainError
from ...core.operations import find_user
from . import importer

employers_cli = AppGroup("employers", help="The employers directory.")


@employers_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--only-valid", is_flag=True, help="Import the valid rows and skip the others.")
@click.option("--actor", default="", help="User name recorded as having imported (default: system).")
def import_command(file: Path, only_valid: bool, actor: str) -> None:
    """Import employers from a CSV or XLSX file (upsert by credit code, one transaction).

    Exits 1 and lists every problem (row, column, reason) when rows are invalid; nothing is
    written then unless --only-valid."""
    user = find_user(actor) if actor else None
    if actor and user is None:
        raise click.ClickException(f"no such user: {actor}")
    try:
        report = importer.import_file(file, actor=user, only_valid=only_valid)
    except importer.ImportRejected as error:
        _problems(error.report)
        click.echo(error.message, err=True)
        sys.exit(1)
    except DomainError as error:
        click.echo(error.message, err=True)
        sys.exit(1)
    if report.rows_invalid:
        _problems(report)
    click.echo(f"import #{report.batch_id}: {report.rows_total} rows, {report.created} created, "
               f"{report.updated} updated, {report.unchanged} unchanged, "
               f"{report.rows_invalid} invalid rows skipped")


def _problems(report: importer.Report) -> None:
    for p in report.problems:
        click.echo(f"row {p.row}, {p.label} [{p.column}] {p.value!r}: {p.reason}", err=True)
    hidden = report.problem_count - len(report.problems)
    if hidden > 0:
        click.echo(f"... and {hidden} more problems", err=True)


@employers_cli.command("template")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def template_command(file: Path) -> None:
    """Write the import template (.xlsx or .csv, by the file's extension)."""
    data = importer.template_csv() if file.suffix.lower() == ".csv" else importer.template_xlsx()
    file.write_bytes(data)
    click.echo(f"template written to {file}")


@employers_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_command(file: Path) -> None:
    """Write the whole directory to an XLSX file (streamed; for exports too big for a web
    request: about 2 minutes per million rows)."""
    from ...core import audit
    from ...extensions import db
    from ..tabular import write_xlsx
    from . import operations as ops

    file.write_bytes(write_xlsx(importer.COLUMNS, ops.export_rows(ops.Filters(), "zh_CN"),
                                "employers"))
    audit.record("employer.export", "employer", None, {"file": file.name})
    db.session.commit()
    click.echo(f"exported to {file}")
