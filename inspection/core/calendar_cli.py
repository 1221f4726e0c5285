"""``flask --app app calendar import FILE | years``: the bureau's working-day calendar."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from . import calendar_ops, workdays
from .errors import DomainError
from .timeutil import format_local

calendar_cli = AppGroup("calendar", help="The working-day calendar (see docs/workdays.md).")


@calendar_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_year(file: Path) -> None:
    """Enter (or replace) a year's calendar from a CSV or JSON FILE."""
    data = file.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file}: not UTF-8 text") from None
    try:
        year, source, days = workdays.parse_calendar(text, file.name)
        replaced = any(y["year"] == year and y["source"] == workdays.BUREAU
                       for y in workdays.known_years())
        calendar_ops.enter_year(year, source, days, None, original=data, filename=file.name)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    holidays = sum(1 for d in days if not d.is_workday)
    click.echo(f"{'replaced' if replaced else 'entered'} the calendar of {year}: "
               f"{holidays} holidays, {len(days) - holidays} adjusted working days"
               + (f" ({source})" if source else ""))


@calendar_cli.command("years")
def list_years() -> None:
    """List the years with a calendar and where each comes from."""
    for y in workdays.known_years():
        line = f"{y['year']}  {y['source']:<7}  {y['reference']}"
        if y["source"] == workdays.BUREAU:
            line += (f"  entered by {y['entered_by'] or 'system'} "
                     f"at {format_local(y['entered_at'])}"
                     f"  ({y['holidays']} holidays, {y['workdays']} adjusted working days)")
        click.echo(line)
