"""The review queue: visits whose sealed record waits for review, oldest first, paginated,
loaded in a fixed number of SQL statements whatever the number of rows."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from inspection.extensions import db
from inspection.fieldwork.models import RecordRevision, Visit

from test_review_support import sealed_problem, statements


def _more_recorded(app, s, older: bool = False) -> list[str]:
    """Turn the bureau's other visits into sealed records waiting for review (rows made
    directly, as the field API leaves them), arriving after mine (or before, ``older``)."""
    with app.app_context():
        mine = db.session.scalar(select(RecordRevision).where(
            RecordRevision.revision_uuid == s.key))
        others = db.session.scalars(select(Visit).where(Visit.number != s.visit)
                                    .order_by(Visit.id)).all()
        numbers = []
        for k, visit in enumerate(others, start=1):
            shift = timedelta(minutes=-k if older else k)
            db.session.add(RecordRevision(
                revision_uuid=str(uuid.uuid4()), record_id=str(uuid.uuid4()), revision=1,
                visit_id=visit.id, author_id=mine.author_id,
                body=dict(mine.body, visit=visit.number), body_sha256=mine.body_sha256,
                received_at=mine.received_at + shift, result_category="no_problem",
                seal=f"{k:064x}"))
            visit.status = "recorded"
            numbers.append(visit.number)
        db.session.commit()
        return numbers


def _count(app, client, path) -> int:
    with statements(app) as seen:
        response = client.get(path)
    assert response.status_code == 200
    return len(seen)


def test_the_queue_is_oldest_first_paginated_and_in_fixed_statements(app, department,
                                                                     login_as):
    s = sealed_problem(app, department, login_as)
    office = login_as("office", username="office1")
    # warm up (the first request of a client reads more: session, calendar)
    office.get("/review/")
    office.get("/api/v1/review/queue")
    few = {path: _count(app, office, path) for path in ("/review/", "/api/v1/review/queue")}
    others = _more_recorded(app, s)
    assert len(others) >= 3
    many = {path: _count(app, office, path) for path in ("/review/", "/api/v1/review/queue")}
    assert few == many, (few, many)
    assert max(many.values()) <= 12, many

    queue = office.get("/api/v1/review/queue").get_json()
    assert [i["visit"] for i in queue["items"]] == [s.visit] + others  # oldest first
    assert queue["total"] == 1 + len(others) and queue["pages"] == 1
    page = office.get("/api/v1/review/queue?per_page=2&page=2").get_json()
    assert page["page"] == 2 and page["pages"] == (len(others) + 2) // 2
    assert [i["visit"] for i in page["items"]] == others[1:3]
    assert office.get("/api/v1/review/queue?per_page=0").status_code == 422

    html = office.get("/review/").get_data(as_text=True)
    positions = [html.index(n) for n in [s.visit] + others]
    assert positions == sorted(positions)
