"""The job queue: long work (record PDFs, exports, reports, archives, reminders) outside the web request (docs/jobs.md)."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's blueprints, CLI commands and hooks."""
    from ..core.openapi import api
    from . import kinds, models, operations, queue  # noqa: F401
    from .api import blp as jobs_api
    from .cli import jobs_cli
    from .views import bp as jobs_bp

    queue.setup(app, operations.queue_run, {"recover": operations.periodic_recover,
                                            "daily": operations.periodic_daily})
    kinds.register_kinds()
    app.register_blueprint(jobs_bp)  # /jobs: my jobs, a job's progress, its file
    api.register_blueprint(jobs_api)  # /api/v1/jobs
    app.cli.add_command(jobs_cli)  # flask --app app jobs worker
