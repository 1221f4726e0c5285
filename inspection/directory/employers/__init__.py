"""The employers directory (检查对象名录库): operations, pages, API, import and export."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register this area's blueprints and CLI commands."""
    from ...core.openapi import api
    from .api import blp as employers_api
    from .cli import employers_cli
    from .views import bp

    app.register_blueprint(bp)
    api.register_blueprint(employers_api)
    app.cli.add_command(employers_cli)
