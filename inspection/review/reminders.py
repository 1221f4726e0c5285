"""Reminders of deadlines and the inbox in the app.

``flask --app app deadlines remind [--date YYYY-MM-DD]`` (run daily by cron) writes the day's
reminders: for each active user, one :class:`~inspection.core.models.Notification` per to-do
item that is due soon or overdue (and, for administrators, per calendar year to enter), keyed
``kind:object:state:date`` so that a second run on the same day writes nothing new. When
``SMTP_HOST`` is set, each user with an e-mail address gets one message a day listing the
reminders not yet mailed (``emailed_at``); an SMTP failure is reported (exit status 1) and
loses nothing: the inbox rows are committed before any mail is sent, and the next run mails
what is still unmailed.

Reading a notification (``read_at``) is the reader's own state, not a record of the case: it
is not written to the audit trail. A run that wrote or mailed anything is.
"""
from __future__ import annotations

import smtplib
import ssl
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale, gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..core import audit
from ..core.errors import NotFound
from ..core.models import Notification, User, utcnow
from ..extensions import db
from . import todo

#: Notifications shown per page of the inbox.
PER_PAGE = 50


# --- the inbox ------------------------------------------------------------------------------

def inbox_query(user: User):
    """The user's notifications, newest first (paginate it)."""
    return (select(Notification).where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc()))


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (a second time changes nothing)."""
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != user.id:
        raise NotFound(_("No such message."))
    if row.read_at is None:
        row.read_at = utcnow()
        db.session.commit()
    return row


def mark_all_read(user: User) -> int:
    done = db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())).rowcount
    db.session.commit()
    return done


# --- the day's reminders --------------------------------------------------------------------

def reminder_key(item: todo.Item, day: date) -> str:
    return f"{item.kind}:{item.object}:{item.state}:{day.isoformat()}"


def _wanted(item: todo.Item) -> bool:
    return item.state in todo.REMIND_STATES or item.kind == todo.CALENDAR


def _locale(user: User) -> str:
    return user.locale or current_app.config["SETTINGS"].DEFAULT_LOCALE


def _body(item: todo.Item) -> str:
    """The notification's text: the state and the due date, the task and department."""
    parts = [todo.state_labels()[item.state]]
    if item.due_text:
        parts.append(item.due_text)
    if item.task:
        parts.append(item.task)
    if item.department:
        parts.append(item.department)
    return " · ".join(parts)


def write_reminders(day: date) -> dict[str, Any]:
    """Write the day's reminders to every active user's inbox; returns counts."""
    lists = todo.bureau_todo(day)
    wanted = [(user, item) for user, items in lists for item in items if _wanted(item)]
    keys = sorted({reminder_key(item, day) for _user, item in wanted})
    existing: set[tuple[int, str]] = set()
    if keys:
        existing = set(db.session.execute(select(Notification.user_id, Notification.key)
                                          .where(Notification.key.in_(keys))).tuples())
    written = 0
    for user, item in wanted:
        key = reminder_key(item, day)
        if (user.id, key) in existing:
            continue
        with force_locale(_locale(user)):
            db.session.add(Notification(user_id=user.id, key=key, kind=item.kind,
                                        title=item.title[:300], body=_body(item),
                                        link=item.link[:300], created_at=utcnow()))
        existing.add((user.id, key))
        written += 1
    return {"users": len(lists), "due": len(wanted), "written": written,
            "users_with_reminders": len({u.id for u, _i in wanted}), "keys": keys}


def _message(user: User, rows: list[Notification], day: date) -> EmailMessage:
    settings = current_app.config["SETTINGS"]
    base = (settings.PUBLIC_URL or "").rstrip("/")
    with force_locale(_locale(user)):
        subject = _("[%(bureau)s] Reminders for %(date)s: %(count)d to do",
                    bureau=settings.BUREAU_NAME, date=day.isoformat(), count=len(rows))
        lines = [_("Dear %(name)s,", name=user.display_name), "",
                 _("These deadlines need your attention (%(date)s):", date=day.isoformat()),
                 ""]
        for n, row in enumerate(rows, start=1):
            lines.append(f"{n}. {row.title}")
            if row.body:
                lines.append(f"   {row.body}")
            if row.link:
                lines.append(f"   {base}{row.link}")
        lines += ["", _("The same reminders are in your inbox in the app."), "",
                  f"-- {settings.BUREAU_NAME}"]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.SMTP_FROM
    message["To"] = formataddr((user.display_name, user.email))
    message["Message-ID"] = make_msgid(domain=settings.SMTP_FROM.rpartition("@")[2] or None)
    message.set_content("\n".join(lines))
    return message


def _connect(settings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.SMTP_HOST, settings.SMTP_PORT, timeout=30)
    try:
        if settings.SMTP_STARTTLS:
            smtp.starttls(context=ssl.create_default_context())
        if settings.SMTP_USER:
            smtp.login(settings.SMTP_USER, settings.SMTP_PASSWORD)
    except Exception:
        smtp.close()
        raise
    return smtp


def send_mail(day: date, keys: list[str]) -> dict[str, Any]:
    """One e-mail per user listing the day's reminders not yet mailed; sets ``emailed_at``
    as each message is accepted. Returns counts and the errors."""
    settings = current_app.config["SETTINGS"]
    result = {"emailed": 0, "mail_failed": 0, "no_email": 0, "errors": []}
    if not settings.SMTP_HOST or not keys:
        return result
    rows = db.session.execute(
        select(Notification, User).join(User, User.id == Notification.user_id)
        .where(Notification.key.in_(keys), Notification.emailed_at.is_(None),
               User.active.is_(True))
        .order_by(User.id, Notification.id)).all()
    by_user: dict[int, tuple[User, list[Notification]]] = {}
    for row, user in rows:
        by_user.setdefault(user.id, (user, []))[1].append(row)
    to_mail = []
    for user, notes in by_user.values():
        if (user.email or "").strip():
            to_mail.append((user, notes))
        else:
            result["no_email"] += 1
    if not to_mail:
        return result
    try:
        smtp = _connect(settings)
    except (OSError, smtplib.SMTPException) as error:
        result["mail_failed"] = len(to_mail)
        result["errors"].append(f"SMTP {settings.SMTP_HOST}:{settings.SMTP_PORT}: {error}")
        return result
    try:
        for user, notes in to_mail:
            try:
                smtp.send_message(_message(user, notes, day))
            except smtplib.SMTPServerDisconnected as error:
                result["mail_failed"] += 1
                result["errors"].append(f"{user.username}: {error}")
                smtp = _connect(settings)  # one new try for the rest; raises if down
                continue
            except smtplib.SMTPException as error:
                result["mail_failed"] += 1
                result["errors"].append(f"{user.username}: {error}")
                continue
            now = utcnow()
            for note in notes:
                note.emailed_at = now
            db.session.commit()
            result["emailed"] += 1
    except (OSError, smtplib.SMTPException) as error:
        sent = result["emailed"] + result["mail_failed"]
        result["mail_failed"] += len(to_mail) - sent
        result["errors"].append(f"SMTP {settings.SMTP_HOST}:{settings.SMTP_PORT}: {error}")
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return result


def remind(day: date | None = None) -> dict[str, Any]:
    """The day's reminders: inbox rows first (committed), then the e-mails."""
    day = day or todo.local_today()
    for attempt in (1, 2):
        try:
            written = write_reminders(day)
            db.session.commit()
            break
        except IntegrityError:
            # another run wrote the same reminders meanwhile: read them and go on
            db.session.rollback()
            if attempt == 2:
                raise
    mailed = send_mail(day, written.pop("keys"))
    result = {"date": day.isoformat(), **written, **mailed}
    if result["written"] or result["emailed"] or result["mail_failed"]:
        audit.record("deadlines.remind", "notification", None,
                     {k: v for k, v in result.items() if k != "errors"}, actor=None)
        db.session.commit()
    return result


# --- the command ----------------------------------------------------------------------------

deadlines_cli = AppGroup("deadlines", help="Deadlines of the work after the visit.")


@deadlines_cli.command("remind")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The day to remind of (default: today in Asia/Shanghai).")
def remind_command(day) -> None:
    """Write the day's reminders to each user's inbox; e-mail them when SMTP is set."""
    result = remind(day.date() if day else None)
    click.echo(f"{result['date']}: {result['written']} reminders written "
               f"({result['due'] - result['written']} already there) for "
               f"{result['users_with_reminders']} of {result['users']} active users; "
               f"{result['emailed']} e-mails sent, {result['mail_failed']} failed, "
               f"{result['no_email']} users without an e-mail address")
    for error in result["errors"]:
        click.echo(f"error: {error}", err=True)
    if result["mail_failed"]:
        raise click.ClickException(f"{result['mail_failed']} e-mails were not sent; the "
                                   "reminders are in the inbox and the next run mails them")
