"""Rectification follow-up visits (seed 002 五(三)) and the employer's history
(docs/followup.md)."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's blueprints, CLI commands and hooks."""
    from . import models  # noqa: F401
    from .history import history_section
    from .operations import schedule
    from .views import bp

    app.register_blueprint(bp)  # /review/follow-ups: the office's list, team changes
    # An approved result with rectification orders makes its follow-up in the approval's
    # transaction (review/operations.decide_determination calls the hooks).
    app.extensions.setdefault("determination_approved", []).append(schedule)
    # The directory's employer page shows the visits and results (directory imports no review).
    app.extensions["employer_history"] = history_section
    from .todo import register

    register()  # follow-ups not yet made, on the to-do lists and the deadlines page
