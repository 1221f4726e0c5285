"""The case file of a closed task, its archive and retention (seed 000 五; docs/archive.md)."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's blueprint, CLI commands, job kind and deadline line."""
    from flask_babel import lazy_gettext as _l

    from ...jobs.registry import Kind, register
    from ..todo import Source, register_source
    from . import models  # noqa: F401
    from . import operations as ops
    from .cli import archive_cli, retention_cli
    from .panel import archive_panel
    from .views import bp

    app.register_blueprint(bp)  # /archive/tasks/<id>, .../case-file.zip, .../retention
    app.cli.add_command(archive_cli)  # flask --app app archive verify FILE
    app.cli.add_command(retention_cli)  # flask --app app retention purge [--dry-run]
    register(Kind("task_archive", lambda: str(_l("Case-file archive")), ops.run_archive,
                  ("office",)))
    register_source(Source(ops.ARCHIVE_KIND, lambda: str(_l("Case file to archive")),
                           ops.archive_item_title, ops.archive_items))
    app.add_template_global(archive_panel, "archive_task_panel")
