"""The catalogue of check items (随机抽查事项清单)."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register the catalogue's blueprints and CLI commands."""
    from . import models  # noqa: F401
