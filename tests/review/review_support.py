"""Fixtures of the review tests (not a test module): a visit whose sealed record arrived
through the real field API, and office and approver users with positions.

    b = sealed_bureau(app, department, login_as)   # b.visit, b.inspector (client), b.team
    office = b.office; approver = b.approver (head of the lead department)
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from inspection.core.models import User
from inspection.extensions import db
from inspection.fieldwork.models import Visit

from field_support import record, setup
from seal_support import inspector, put_record, representative, sign, team_users


@dataclass
class Sealed:
    visit: str                 # the visit's number
    field: object              # field_support.Field
    inspector: object          # the signed-in inspector's Client
    team: list[int]            # user ids of the team (mine first)
    body: dict                 # the sealed record body as sent
    key: str                   # its revision key


def set_position(app, username: str, position: str | None) -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        user.position = position
        db.session.commit()


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def seal_and_send(client, field, team: list[int], *, category: str = "no_problem",
                  answers=None, **extra) -> tuple[dict, str]:
    """A record of my visit, signed by the team and a representative, sealed and sent."""
    answers = answers or [{"item": field.item, "question": q, "answer": "compliant"}
                          for q in field.questions]
    body = record(field, answers=answers, category=category, **extra)
    signed = sign(client, body, [inspector(u) for u in team] + [representative()])
    from field_support import new_key

    key = new_key()
    response = put_record(client, signed, key)
    assert response.status_code == 201, response.get_json()
    return signed, key


def sealed_visit(app, department, login_as, **kw) -> Sealed:
    """A bureau with its draws, my visit's record sealed and sent (status ``recorded``)."""
    client, field = setup(app, department, login_as)
    team = team_users(app, field, login_as)
    body, key = seal_and_send(client, field, team, **kw)
    with app.app_context():
        status = db.session.scalar(select(Visit.status).where(Visit.number == field.mine))
    assert status == "recorded", status
    return Sealed(visit=field.mine, field=field, inspector=client, team=team, body=body, key=key)


def office_and_approver(app, login_as, position: str = "head"):
    """(office client, approver client): the approver holds ``position`` in the department
    that leads the task (the tests' one department)."""
    office = login_as("office", username="office1")
    approver = login_as("approver", username="approver1")
    set_position(app, "approver1", position)
    return office, approver
