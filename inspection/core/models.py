"""Departments, users and their roles, the audit trail and the login throttle."""
from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timezone

from flask_login import UserMixin
from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


def utcnow() -> datetime:
    """Now in UTC, naive (the database columns hold UTC without a zone), to the microsecond."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Role(str, enum.Enum):
    """What a user may do. A user holds one or more."""

    ADMIN = "admin"
    OFFICE = "office"
    APPROVER = "approver"
    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"


class Position(str, enum.Enum):
    """A user's position in their department; bureau settings say which positions approve
    which act (:mod:`inspection.core.authority`, DOMAIN.md "Approvers differ by act")."""

    HEAD = "head"                      # 负责人 (本部门负责人)
    DEPUTY_HEAD = "deputy_head"        # 分管负责人
    PRINCIPAL_HEAD = "principal_head"  # 主要负责人


class Department(db.Model):
    """A department of the bureau (劳动保障监察, 社会保险, 就业, 人力资源 ...)."""

    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="department")

    def __repr__(self) -> str:
        return f"<Department {self.code} {self.name}>"


class UserRole(db.Model):
    __tablename__ = "user_role"
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class User(UserMixin, db.Model):
    """An account. Never deleted: disabled accounts keep their audit history."""

    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The user must choose a new password at next login (after a reset by an admin).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(10))
    #: Position in the department (:class:`Position`), None for staff without one.
    position: Mapped[str | None] = mapped_column(String(20))
    #: Where reminders are mailed when SMTP is configured (optional).
    email: Mapped[str | None] = mapped_column(String(200))
    #: Part of the session identity: changing it logs the user out everywhere.
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    department: Mapped[Department] = relationship(back_populates="users")
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan",
                                                     lazy="selectin")

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}

    def has_role(self, *roles: str | Role) -> bool:
        wanted = {r.value if isinstance(r, Role) else r for r in roles}
        return bool(self.roles & wanted)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    #: The key of the sign-in this object was loaded for (see :class:`LoginSession`); set by
    #: ``operations.start_session`` and by the session loader, never stored on the row.
    session_key = None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}:{self.session_key or ''}"

    def __repr__(self) -> str:
        return f"<User {self.username}>"


@dataclass(frozen=True)
class DepartmentRef:
    """The signed-in user's department as read with the user (:class:`SignedInUser`): what
    the pages and ``/api/v1/me`` show of it. The row itself is ``Department``."""

    id: int
    name: str
    code: str
    active: bool


#: The account's columns, by attribute name (they are also the column names).
_USER_COLUMNS = frozenset(c.key for c in User.__table__.columns)
#: What :class:`SignedInUser` writes through to the account's row (columns and relationships).
_USER_MAPPED = _USER_COLUMNS | {"role_rows", "department"}


class SignedInUser(UserMixin):
    """The user of a signed-in request, read from one row per role in one statement
    (``operations.session_user``): no ORM object is built for the many requests that only
    read who is signed in. It answers what ``current_user`` is asked everywhere: the
    account's columns, :attr:`roles` and :meth:`has_role`, :attr:`department` (id, name,
    code), ``get_id`` and ``is_active`` for Flask-Login.

    Anything else (a relationship, say) and every write of a column or relationship go to
    the account's ORM row, loaded from the session on first need (:meth:`account`): an
    operation that changes the signed-in user's own account (language, password, sign-out)
    changes the row and commits as before, and this object shows the new value too."""

    def __init__(self, columns: dict, roles: frozenset[str], department: DepartmentRef,
                 session_key: str):
        d = self.__dict__
        d.update(columns)
        d["_roles"] = roles
        d["_department"] = department
        d["_account"] = None
        d["session_key"] = session_key

    # --- what Flask-Login and the role checks ask
    @property
    def roles(self) -> frozenset[str]:
        return self._roles

    def has_role(self, *roles: str | Role) -> bool:
        held = self._roles
        for r in roles:
            if (r.value if isinstance(r, Role) else r) in held:
                return True
        return False

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def department(self):
        return self._department

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}:{self.session_key or ''}"

    # --- the account's row, for writes and for anything not read above
    def account(self) -> User:
        """The account's ORM row in the current session (loaded once, on first need)."""
        account = self.__dict__["_account"]
        if account is None:
            account = db.session.get(User, self.id)
            account.session_key = self.session_key
            self.__dict__["_account"] = account
        return account

    def __getattr__(self, name: str):
        # Only for names this object does not hold (relationships, methods of User).
        if name.startswith("__") or name == "_account":
            raise AttributeError(name)
        return getattr(self.account(), name)

    def __setattr__(self, name: str, value) -> None:
        if name in _USER_MAPPED:
            setattr(self.account(), name, value)
            if name == "role_rows":
                self.__dict__["_roles"] = frozenset(r.role for r in self.account().role_rows)
                return
            if name == "department":
                self.__dict__["department_id"] = value.id
                self.__dict__["_department"] = DepartmentRef(value.id, value.name, value.code,
                                                             value.active)
                return
        elif name == "session_key" and self.__dict__["_account"] is not None:
            self.__dict__["_account"].session_key = value
        self.__dict__[name] = value

    def __repr__(self) -> str:
        return f"<SignedInUser {self.username}>"


class AuditHead(db.Model):
    """One row: the sequence number and hash of the newest audit entry.

    Every writer updates this row first, which takes a row lock (PostgreSQL) or the write lock
    (SQLite), so two workers can never append after the same entry: the chain cannot fork.
    """

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditEntry(db.Model):
    """One state change. Append-only; ``hash`` chains it to the entry before."""

    __tablename__ = "audit_entry"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    actor_roles: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64), index=True)
    object_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[dict] = mapped_column(JSON)
    client_address: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_audit_entry_object", "object_type", "object_id"),)


class LoginSession(db.Model):
    """One signed-in session, named by the SHA-256 of a random key that only the session
    cookie holds. Signing out deletes the row, so a copy of the cookie made before is
    worthless; a changed password or a disabled account deletes every row of the user."""

    __tablename__ = "login_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LoginFailure(db.Model):
    """A failed login, kept for the throttle window (per account and per address)."""

    __tablename__ = "login_failure"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_login_failure_key_at", "key", "at"),)


class CalendarYear(db.Model):
    """A year's working-day calendar entered by the bureau from the State Council's notice
    (:mod:`inspection.core.workdays`). It takes precedence over the library's table. Its days
    that differ from the weekend rule are :class:`CalendarDay` rows."""

    __tablename__ = "calendar_year"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: Where the dates come from, e.g. 国办发明电〔2026〕X号.
    source: Mapped[str] = mapped_column(String(200), default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    entered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CalendarDay(db.Model):
    """A day of a bureau-entered year that is not what the weekend rule says: a statutory
    holiday on a weekday (``is_workday`` False) or an adjusted working weekend day (调休,
    ``is_workday`` True)."""

    __tablename__ = "calendar_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_year.year", ondelete="CASCADE"),
                                      index=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(100), default="")


class Notification(db.Model):
    """A message in a user's inbox in the app (reminders of deadlines and the like).
    ``key`` makes a reminder idempotent: the same reminder is written once per user."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_notification_user_key"),)
