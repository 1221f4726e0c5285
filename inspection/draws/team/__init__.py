"""The team draw (随机选派检查人员), substitutions (调整更换/递补) and the inspectors'
assignments: operations, pages, API."""


def init_app(app) -> None:
    """Register the team draw's pages (``/teams/``, ``/my/visits``) and API."""
    from ...core.openapi import api
    from .api import blp
    from .views import bp

    app.register_blueprint(bp)
    api.register_blueprint(blp)
