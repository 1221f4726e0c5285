"""Visits and everything done on site."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register the field-work blueprints and CLI commands."""
    from . import models  # noqa: F401
