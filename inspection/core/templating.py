"""Jinja helpers shared by every page."""
from __future__ import annotations

from flask import Flask

from .access import access_of
from .forms import ROLE_LABELS
from .timeutil import format_local


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_dt"] = format_local

    @app.context_processor
    def helpers():
        from flask_login import current_user

        def can(endpoint: str, method: str = "GET") -> bool:
            """Whether the current user may open an endpoint: menus show only what works."""
            mark = access_of(endpoint, method)
            if mark in ("public",):
                return True
            if not current_user.is_authenticated or mark is None:
                return False
            return mark == "login" or current_user.has_role(*mark)

        return {"can": can, "settings": app.config["SETTINGS"], "role_labels": ROLE_LABELS}
