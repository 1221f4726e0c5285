"""Annual plans (年度抽查计划) and tasks (抽查任务): operations, pages, API, demo."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register the planning blueprints and CLI commands."""
    from ..core.openapi import api
    from . import models  # noqa: F401
    from .api import plans_blp, tasks_blp
    from .cli import planning_cli
    from .views import bp

    app.register_blueprint(bp)
    api.register_blueprint(plans_blp)
    api.register_blueprint(tasks_blp)
    app.cli.add_command(planning_cli)
