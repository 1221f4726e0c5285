"""Annual plans and tasks."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register the planning blueprints and CLI commands."""
    from . import models  # noqa: F401
