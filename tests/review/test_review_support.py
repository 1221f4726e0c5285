"""Helpers of the office's review tests (no tests here; named so because the files of this
area are test_review_*): a sealed visit with a problem found on site, the office, a head
approver and a principal head, the team's sealed correction, audit and statement counts."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, func, select

from inspection.core.models import AuditEntry, User
from inspection.extensions import db
from inspection.fieldwork.models import Visit

from review_support import Sealed, office_and_approver, seal_and_send, set_position  # noqa: I001

from field_support import new_key, record, settings, setup  # noqa: E402,F401 (paths set by review_support)
from seal_support import inspector, put_record, representative, sign, team_users  # noqa: E402

DUE = "2026-12-30"


def non_compliant(field) -> list[dict]:
    """Answers of a record: the first question broken, with an order to rectify."""
    first, *rest = field.questions
    return ([{"item": field.item, "question": first, "answer": "non_compliant",
              "note": "未与3名员工签订书面劳动合同",
              "order": {"kind": "rectify", "due": DUE, "text": "补签劳动合同"}}]
            + [{"item": field.item, "question": q, "answer": "compliant"} for q in rest])


def sealed_problem(app, department, login_as, **extra) -> Sealed:
    """My visit's record with a problem and an order, sealed and sent (``recorded``)."""
    client, field = setup(app, department, login_as)
    team = team_users(app, field, login_as)
    body, key = seal_and_send(client, field, team, category="rectification_ordered",
                              answers=non_compliant(field), **extra)
    return Sealed(visit=field.mine, field=field, inspector=client, team=team, body=body,
                  key=key)


def bureau(app, department, login_as, **extra):
    """(sealed visit, office, head approver, principal head) clients."""
    s = sealed_problem(app, department, login_as, **extra)
    office, approver = office_and_approver(app, login_as)
    principal = login_as("approver", username="principal1")
    set_position(app, "principal1", "principal_head")
    return s, office, approver, principal


def team_corrects(s, reason: str = "按审核意见补充说明") -> None:
    """The team seals a corrected record of the returned visit through the field API."""
    body = dict(record(s.field, record_id=s.body["record_id"], revision=2,
                       category="rectification_ordered", answers=non_compliant(s.field)),
                corrects=s.key, correction_reason=reason)
    signed = sign(s.inspector, body, [inspector(u) for u in s.team] + [representative()])
    response = put_record(s.inspector, signed, new_key())
    assert response.status_code == 201, response.get_json()


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def credit_code(app, number: str) -> str:
    with app.app_context():
        return db.session.scalar(select(Visit).where(Visit.number == number)).employer.credit_code


def visit_status(app, number: str) -> str:
    with app.app_context():
        return db.session.scalar(select(Visit.status).where(Visit.number == number))


def audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEntry.seq)))


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("review.%")).order_by(AuditEntry.seq)))


@contextmanager
def statements(app):
    """Count the SQL statements run inside the block: ``with statements(app) as seen:``."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
