"""The application factory proper (see :func:`inspection.create_app`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from flask_login import AnonymousUserMixin

from . import config as config_module
from .core.openapi import api
from .extensions import csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


class Anonymous(AnonymousUserMixin):
    roles: set[str] = set()
    must_change_password = False

    def has_role(self, *roles) -> bool:
        return False


def build_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides settings (see :mod:`inspection.config`)."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"),
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    settings = config_module.load(Path(app.instance_path), config)
    app.config.update(settings.flask_config())

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    from .core import access, cli, errors, i18n, limits, security, templating, throttle

    limits.init_url_map(app)
    # Access is checked before CSRF, so an anonymous caller hears "sign in", not "bad token".
    app.before_request(access.enforce_access)
    limits.init_app(app)
    csrf.init_app(app)
    _init_login(app)
    api.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    throttle.init_app(app)
    errors.init_app(app)
    templating.init_app(app)

    from .core.api import blp as core_api
    from .core.views import bp as core_views
    app.register_blueprint(core_views)
    api.register_blueprint(core_api)
    from .core.calendar_views import bp as calendar_views
    app.register_blueprint(calendar_views)
    from .core.calendar_api import blp as calendar_api
    api.register_blueprint(calendar_api)

    from . import catalogue, directory, draws, fieldwork, planning, review
    directory.init_app(app)
    catalogue.init_app(app)
    planning.init_app(app)
    draws.init_app(app)
    fieldwork.init_app(app)
    review.init_app(app)
    from . import portal
    portal.init_app(app)
    from . import jobs, reports
    from .review import archive, followup, handling
    jobs.init_app(app)
    handling.init_app(app)
    followup.init_app(app)
    reports.init_app(app)
    archive.init_app(app)

    cli.init_app(app)
    _init_sqlite(app)
    return app


def _init_login(app: Flask) -> None:
    from .core.operations import session_user

    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(identity: str):
        return session_user(identity)


def _init_sqlite(app: Flask) -> None:
    """SQLite: enforce foreign keys, use WAL so readers do not block the writer, and give
    each connection a page cache large enough for the draws' bulk inserts."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # 64 MiB of page cache (the default is 2 MiB): a draw over a large directory
            # checks a foreign key per inserted row, and those look-ups then stay in memory.
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.close()
