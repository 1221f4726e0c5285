"""After the visit: review and determination, publication, feedback to the employer,
objections and corrections (DOMAIN.md "After the visit", docs/review.md)."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register the review blueprints and CLI commands."""
    from ..core.openapi import api
    from . import models  # noqa: F401
    from .api import blp as review_api
    from .views import bp as review_bp

    app.register_blueprint(review_bp)  # /review: the office's queue, review page, approvals
    api.register_blueprint(review_api)  # /api/v1/review
    from .reminders import deadlines_cli
    from .todo_views import bp as todo_bp

    app.register_blueprint(todo_bp)  # /deadlines, /inbox (to-do lists: review/todo.py)
    app.cli.add_command(deadlines_cli)  # flask --app app deadlines remind
    from . import public
    from .public_views import bp as public_results_bp

    app.register_blueprint(public_results_bp)  # /public/results (公示, no account)
    # The QR check of a sealed record (fieldwork) shows the published result through this
    # hook, so that fieldwork does not import review.
    app.extensions["published_result"] = public.published_result
