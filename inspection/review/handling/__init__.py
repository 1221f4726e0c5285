"""Handling what was found: penalties, transfers and referrals (移交/移送) with their deadlines and outcomes (seed 001 第十四条, 004 第十九条(三), 000 四), and the employer's grade proposals (seed 000 六, 004 第二十三条). docs/handling.md."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's blueprints, CLI commands and hooks."""
    from flask_babel import gettext as _

    from ...core.openapi import api
    from ...jobs.registry import Kind, register
    from . import models  # noqa: F401
    from . import operations, todo
    from .api import blp
    from .views import bp

    app.register_blueprint(bp)        # /review/handling: the forms of the review page
    api.register_blueprint(blp)       # /api/v1/review/.../handling, grade proposals
    todo.register()                   # to-do lines and deadlines (review/todo.py sources)
    register(Kind("handling_letter", lambda: _("Referral letter"), operations.store_letter))
    # The review page includes templates/review/handling/_section.html, which reads this.
    app.add_template_global(operations.state, "handling_state")
    app.add_template_global(operations.kind_labels, "handling_kind_labels")
