"""Visits and everything done on site."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register the field-work blueprints and CLI commands."""
    from ..core.openapi import api
    from . import models  # noqa: F401
    from .api import blp as field_api

    api.register_blueprint(field_api)  # /api/v1/field: the field app's sync (docs/field-sync.md)
    from .joint_api import blp as joint_api

    api.register_blueprint(joint_api)  # /api/v1/field: joint visits, the team leader
    from .field_views import bp as field_bp

    app.register_blueprint(field_bp)
    from .document_views import bp as documents_bp, public_bp as public_records_bp

    app.register_blueprint(documents_bp)  # /visits/<number>/record.pdf ...
    app.register_blueprint(public_records_bp)  # /public/records/<seal>
    from .results import shown_label

    # A result category as pages show it, in the page's language (the legal wording in Chinese).
    app.jinja_env.globals["result_name"] = shown_label
