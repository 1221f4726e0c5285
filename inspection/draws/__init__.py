"""Draws (随机抽取): the verifiable selection engine, target draws and team draws.

Importing this package must not import Flask: ``python -m inspection.draws.verify`` runs on
the standard library alone. Keep app wiring inside :func:`init_app`.
"""


def init_app(app) -> None:
    """Register the draws' blueprints and CLI commands."""
    from ..extensions import api
    from . import models  # noqa: F401
    from .api import blp
    from .cli import draws_cli
    from .public_views import bp as public_bp
    from .views import bp

    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
    api.register_blueprint(blp)
    app.cli.add_command(draws_cli)
    from .team_views import register as register_teams

    register_teams(app)  # the team draw's pages and API (inspection/draws/team_views.py)
