"""Draws (随机抽取): the verifiable selection engine, target draws and team draws.

Importing this package must not import Flask: ``python -m inspection.draws.verify`` runs on
the standard library alone. Keep app wiring inside :func:`init_app`.
"""


def init_app(app) -> None:
    """Register the draws' blueprints and CLI commands."""
    from . import models  # noqa: F401
