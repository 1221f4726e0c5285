"""The employers directory: operations, pages, API, import and export."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register this area's blueprints and CLI commands."""
