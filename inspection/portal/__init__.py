"""The public portal (一公开): the catalogue, the plans, the tasks, the draws and the results,
read by anyone without an account, as pages and as JSON and CSV (docs/portal.md)."""


def init_app(app) -> None:
    from . import throttling
    from .views import bp

    app.register_blueprint(bp)
    throttling.init_app(app)
