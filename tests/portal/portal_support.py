"""What the portal's tests share besides fixtures."""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager


@contextmanager
def settings(app, **values):
    """Settings changed for the block (the settings object is frozen: swap in a copy)."""
    original = app.config["SETTINGS"]
    app.config["SETTINGS"] = dataclasses.replace(original, **values)
    try:
        yield
    finally:
        app.config["SETTINGS"] = original
