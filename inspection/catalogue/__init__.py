"""The catalogue of check items (随机抽查事项清单)."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register the catalogue's blueprints and CLI commands."""
    from ..core.openapi import api
    from . import models  # noqa: F401
    from .api import blp
    from .cli import catalogue_cli
    from .views import bp

    app.register_blueprint(bp)
    api.register_blueprint(blp)
    app.cli.add_command(catalogue_cli)
