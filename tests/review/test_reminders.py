"""Reminders (`flask --app app deadlines remind`) and the inbox (/inbox).

The e-mail path runs against a real SMTP server (aiosmtpd) on 127.0.0.1, started by the test
in its own thread: the message that arrives is parsed as any mail client would."""
from __future__ import annotations

import dataclasses
import email
import socket
from contextlib import contextmanager
from datetime import date, datetime
from email import policy

import pytest
from aiosmtpd.controller import Controller
from flask import current_app
from sqlalchemy import func, select

from inspection.core.models import AuditEntry, Notification, User
from inspection.extensions import db
from inspection.review import operations as ops

from helpers import Client
from review_support import office_and_approver, sealed_visit


#: The sealed record's review is due 2026-04-10 (see test_todo.py): due soon on the 9th,
#: overdue on the 13th.
SOON, LATE = "2026-04-09", "2026-04-13"


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server():
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port, handler
    finally:
        controller.stop()


@contextmanager
def settings(app, **values):
    with app.app_context():
        original = current_app.config["SETTINGS"]
        current_app.config["SETTINGS"] = dataclasses.replace(original, **values)
    try:
        yield
    finally:
        app.config["SETTINGS"] = original


def remind(app, day: str):
    return app.test_cli_runner().invoke(args=["deadlines", "remind", "--date", day])


def _notes(app, username: str) -> list[tuple[str, bool, bool]]:
    with app.app_context():
        user = _user(username)
        return [(n.key, n.emailed_at is not None, n.read_at is not None)
                for n in db.session.scalars(select(Notification).where(
                    Notification.user_id == user.id).order_by(Notification.id))]


@pytest.fixture
def bureau(app, department, login_as):
    """A sealed record waiting for review; office1 has an e-mail address, the draws' office
    user (drawoffice) has none."""
    b = sealed_visit(app, department, login_as)
    office_and_approver(app, login_as)
    with app.app_context():
        _user("office1").email = "office1@example.cn"
        db.session.commit()
    return b


def test_remind_writes_the_days_reminders_once(app, bureau):
    first = remind(app, SOON)
    assert first.exit_code == 0, first.output
    assert "2026-04-09: 2 reminders written (0 already there)" in first.output
    key = f"review:{bureau.visit}:due_soon:2026-04-09"
    assert _notes(app, "office1") == [(key, False, False)]   # no SMTP: inbox only
    assert _notes(app, "drawoffice") == [(key, False, False)]
    assert _notes(app, "approver1") == [] and _notes(app, "insp_a") == []
    again = remind(app, SOON)
    assert again.exit_code == 0 and "0 reminders written (2 already there)" in again.output
    assert len(_notes(app, "office1")) == 1
    # a later day: the reminder of the day, now overdue
    remind(app, LATE)
    assert [k for k, _m, _r in _notes(app, "office1")] == [
        key, f"review:{bureau.visit}:overdue:2026-04-13"]
    with app.app_context():
        note = db.session.scalar(select(Notification).where(Notification.key.like("%overdue%"))
                                 .limit(1))
        assert note.title.startswith("审核 ") and bureau.visit in note.title
        assert note.link == f"/review/visits/{bureau.visit}"
        assert "已逾期" in note.body and "2026-04-10" in note.body
        assert db.session.scalar(select(func.count(AuditEntry.seq)).where(
            AuditEntry.action == "deadlines.remind")) == 2


def test_reminders_are_mailed_through_a_real_smtp_server(app, bureau, login_as):
    login_as("admin", username="admin1")
    with smtp_server() as (port, server), settings(app, SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                                                  SMTP_FROM="reminders@example.cn"):
        result = remind(app, SOON)
        assert result.exit_code == 0, result.output
        # only office1 has an address: the draws' office user is skipped for mail, not for
        # the inbox
        assert "1 e-mails sent, 0 failed, 1 users without an e-mail address" in result.output
        assert [e.rcpt_tos for e in server.envelopes] == [["office1@example.cn"]]
        message = email.message_from_bytes(server.envelopes[0].content, policy=policy.default)
        assert message["To"].addresses[0].addr_spec == "office1@example.cn"
        assert message["From"] == "reminders@example.cn"
        assert message["Subject"] == "【临淄区人力资源和社会保障局】2026-04-09 待办提醒：1 项"
        text = message.get_body(("plain",)).get_content()
        assert f"审核 {bureau.visit} 的检查记录" in text and "即将到期" in text
        assert f"/review/visits/{bureau.visit}" in text
        assert _notes(app, "office1") == [(f"review:{bureau.visit}:due_soon:2026-04-09", True,
                                           False)]
        assert _notes(app, "drawoffice")[0][1] is False
        # twice: nothing new written, nothing mailed again
        again = remind(app, SOON)
        assert "0 reminders written" in again.output and "0 e-mails sent" in again.output
        assert len(server.envelopes) == 1

        # a publication due in 2027, which has no calendar: the administrator is told
        with app.test_request_context():
            det = ops.propose_determination(bureau.visit, "no_problem", [],
                                            actor=_user("office1"))
            ops.decide_determination(det.id, True, actor=_user("approver1"))
            det.decided_at = datetime(2026, 12, 1, 2, 0)      # feedback due 2026-12-08
            publication = ops.publication_of(ops.get_visit(bureau.visit))
            publication.clock_start, publication.workdays = date(2026, 12, 28), 5
            publication.deadline, publication.deadline_year = None, 2027
            _user("admin1").email = "admin1@example.cn"
            db.session.commit()
        result = remind(app, "2026-12-29")
        assert result.exit_code == 0, result.output
        assert sorted(e.rcpt_tos[0] for e in server.envelopes[1:]) == [
            "admin1@example.cn", "office1@example.cn"]
        admin = next(e for e in server.envelopes if e.rcpt_tos == ["admin1@example.cn"])
        message = email.message_from_bytes(admin.content, policy=policy.default)
        assert message["Subject"] == "【临淄区人力资源和社会保障局】2026-12-29 待办提醒：1 项"
        text = message.get_body(("plain",)).get_content()
        assert "录入 2027 年工作日历" in text and "/admin/calendar" in text
        assert _notes(app, "admin1") == [("calendar:2027:missing:2026-12-29", True, False)]
        assert (f"feedback:{bureau.visit}:overdue:2026-12-29", True, False) in \
            _notes(app, "office1")


def test_an_smtp_failure_loses_no_reminder(app, bureau):
    port = _free_port()  # nothing listens there
    with settings(app, SMTP_HOST="127.0.0.1", SMTP_PORT=port):
        failed = remind(app, SOON)
    assert failed.exit_code == 1
    assert "1 failed" in failed.output and "the reminders are in the inbox" in failed.output
    assert _notes(app, "office1") == [(f"review:{bureau.visit}:due_soon:2026-04-09", False,
                                       False)]
    # the server is back: the next run mails what is still unmailed
    with smtp_server() as (port, server), settings(app, SMTP_HOST="127.0.0.1", SMTP_PORT=port):
        again = remind(app, SOON)
        assert again.exit_code == 0, again.output
        assert "0 reminders written" in again.output and "1 e-mails sent" in again.output
        assert [e.rcpt_tos for e in server.envelopes] == [["office1@example.cn"]]
    assert _notes(app, "office1")[0][1] is True


def test_the_inbox(app, login_as):
    client = login_as("office", username="office1")
    other = login_as("office", username="office2")
    with app.app_context():
        me, them = _user("office1"), _user("office2")
        for n, (user, title) in enumerate([(me, "较早的提醒"), (me, "较新的提醒"),
                                           (them, "别人的提醒")]):
            db.session.add(Notification(user_id=user.id, key=f"k{n}", kind="review",
                                        title=title, body="2026-04-10 到期",
                                        link="/deadlines"))
        db.session.commit()
        mine = [n.id for n in db.session.scalars(select(Notification).where(
            Notification.user_id == me.id).order_by(Notification.id))]
        theirs = db.session.scalar(select(Notification.id).where(
            Notification.user_id == them.id))
    html = client.get("/inbox").get_data(as_text=True)
    assert html.index("较新的提醒") < html.index("较早的提醒") and "别人的提醒" not in html
    assert 'data-unread-total="2"' in html
    # a POST without the CSRF token is refused
    assert client.http.post(f"/inbox/{mine[0]}/read").status_code == 400
    # opening a message marks it read and goes to its link
    response = client.post_form(f"/inbox/{mine[0]}/read", {"then": "open"}, token_from="/inbox")
    assert response.status_code == 302 and response.headers["Location"] == "/deadlines"
    # nobody reads another's messages
    assert client.post_form(f"/inbox/{theirs}/read", {}, token_from="/inbox").status_code == 404
    assert _notes(app, "office2")[0][2] is False
    html = client.get("/inbox").get_data(as_text=True)
    assert f'data-notification="{mine[0]}" data-read="yes"' in html
    assert 'data-unread-total="1"' in html and 'data-unread="1"' in html  # the menu too
    response = client.post_form("/inbox/read-all", {}, token_from="/inbox")
    assert response.status_code == 302
    assert all(read for _k, _m, read in _notes(app, "office1"))
    assert 'data-unread=' not in client.get("/inbox").get_data(as_text=True)
    assert other.get("/inbox").status_code == 200
    assert Client(app).get("/inbox").status_code == 302  # sign in first
