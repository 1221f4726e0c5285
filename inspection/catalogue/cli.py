"""``flask --app app catalogue seed | publish | list``."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..core.errors import DomainError
from . import operations as ops

catalogue_cli = AppGroup("catalogue", help="The catalogue of check items.")


@catalogue_cli.command("seed")
def seed() -> None:
    """Create the eight standard items and publish the list once (keeps what exists)."""
    from .demo import seed_catalogue

    try:
        items = seed_catalogue()
    except DomainError as error:
        raise click.ClickException(error.message) from None
    last = ops.last_publication()
    click.echo(f"{len(items)} active items; last published on "
               f"{last.published_on.isoformat() if last else 'never'}")


@catalogue_cli.command("publish")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Public from this day (default today, Asia/Shanghai).")
@click.option("--note", default="")
def publish(day, note: str) -> None:
    """Publish the current versions of all active items."""
    try:
        pub = ops.publish(day.date() if day else None, note=note)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"published {len(pub.version_ids)} items, public from "
               f"{pub.published_on.isoformat()}")


@catalogue_cli.command("list")
@click.option("--on", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Show the list public on this day instead of the current one.")
def list_items(day) -> None:
    """Print the current (or published) versions: code, version, kind, ratio, questions."""
    versions = ops.published_catalogue(day.date()) if day else ops.current_versions()
    for v in versions:
        click.echo(f"{v.item.code}\tv{v.number}\t{v.kind}\t{ops.percent(v.ratio)}\t"
                   f"{len(v.questions)}\t{v.name}")
