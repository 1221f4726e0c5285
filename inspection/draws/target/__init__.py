"""The target draw (随机抽取检查对象): which employers a task visits; operations, pages, API."""


def init_app(app) -> None:
    """Register the target draw's pages and API."""
    from ...core.openapi import api
    from .api import blp
    from .views import bp

    app.register_blueprint(bp)
    api.register_blueprint(blp)
