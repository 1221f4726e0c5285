"""The public portal's tests run against the demo bureau (``seed-demo``), seeded through the
command as ``make run`` does: built for real once, then replayed from its rows
(:func:`helpers.replayed`)."""
from __future__ import annotations

import pytest
from flask import current_app

from helpers import replayed
from portal_support import settings

#: Enough employers for the demo's visits at every stage (seconds, not minutes).
EMPLOYERS = "900"


@replayed
def seeded_demo() -> dict:
    """(In an app context, demo mode on.) The demo bureau, and what the tests look for."""
    from sqlalchemy import select

    from inspection.fieldwork.models import RecordRevision
    from inspection.extensions import db

    result = current_app.test_cli_runner().invoke(args=["seed-demo", "--employers", EMPLOYERS])
    assert result.exit_code == 0, result.output
    db.session.remove()
    seals = db.session.scalars(select(RecordRevision.seal).where(
        RecordRevision.seal.is_not(None)).order_by(RecordRevision.id)).all()
    db.session.remove()
    return {"seals": list(seals)}


@pytest.fixture
def demo(app):
    """The demo bureau in the database: ``{"seals": [...]}``."""
    with settings(app, DEMO_MODE=True):
        with app.app_context():
            found = seeded_demo()
    return found
