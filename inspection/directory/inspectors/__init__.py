"""The inspectors directory: operations, pages, API, import and export."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register this area's blueprints and CLI commands."""
    from ...core.openapi import api
    from .api import blp
    from .cli import inspectors_cli
    from .views import bp

    app.register_blueprint(bp)
    api.register_blueprint(blp)
    app.cli.add_command(inspectors_cli)
