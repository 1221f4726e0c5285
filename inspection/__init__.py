"""The labour-inspection platform ("双随机、一公开").

Importing the package is cheap and imports no Flask: the draw verifier
(``python -m inspection.draws.engine.verify``) must run on the standard library alone.
"""
from __future__ import annotations

from typing import Any, Mapping


def create_app(config: Mapping[str, Any] | None = None):
    """Build the Flask app. ``config`` overrides settings (see :mod:`inspection.config`)."""
    from .factory import build_app

    return build_app(config)
