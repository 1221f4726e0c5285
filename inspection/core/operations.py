"""Accounts, departments and sign-in: the operations views, API, CLI and tests all call.

Each operation validates, changes the state, writes the audit trail and commits, all or
nothing. Failures raise :mod:`inspection.core.errors` exceptions with a message for the user.
"""
from __future__ import annotations

import hashlib
import secrets
import string
from datetime import timedelta
from typing import Iterable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, func, select

from ..extensions import db
from . import audit
from .errors import Conflict, DomainError, NotFound, TooManyAttempts, ValidationFailed
from .models import (Department, DepartmentRef, LoginSession, Position, Role, SignedInUser, User,
                     UserRole, utcnow)
from .passwords import (demo_password_refused, hash_password, needs_rehash, policy_problems,
                        verify_password)
from .throttle import throttle

# A valid hash of a random password: unknown users cost the same time as known ones.
_DUMMY_HASH = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(16))
    return _DUMMY_HASH


def _roles(values: Iterable[str | Role]) -> list[str]:
    names = sorted({v.value if isinstance(v, Role) else str(v) for v in values})
    known = {r.value for r in Role}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValidationFailed(_("Unknown role: %(role)s", role=", ".join(unknown)),
                               {"roles": [_("Unknown role.")]})
    if not names:
        raise ValidationFailed(_("A user needs at least one role."),
                               {"roles": [_("Choose at least one role.")]})
    return names


def _check_password(password: str, username: str) -> None:
    problems = policy_problems(password, username)
    if problems:
        raise ValidationFailed(" ".join(problems), {"password": problems})


def get_department(name_or_id: str | int) -> Department:
    if isinstance(name_or_id, int):
        dept = db.session.get(Department, name_or_id)
    else:
        dept = db.session.scalar(select(Department).where(
            (Department.name == name_or_id) | (Department.code == name_or_id)))
    if dept is None:
        raise NotFound(_("No such department: %(name)s", name=name_or_id))
    return dept


def create_department(name: str, code: str, actor: User | None = None) -> Department:
    name, code = name.strip(), code.strip().upper()
    if not name or not code:
        raise ValidationFailed(_("A department needs a name and a code."))
    if db.session.scalar(select(Department).where(
            (Department.name == name) | (Department.code == code))):
        raise Conflict(_("A department with this name or code exists already."))
    dept = Department(name=name, code=code)
    db.session.add(dept)
    db.session.flush()
    audit.record("department.create", "department", dept.id, {"name": name, "code": code},
                 actor=actor)
    db.session.commit()
    return dept


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(
        func.lower(User.username) == username.strip().lower()))


def create_user(username: str, display_name: str, department: Department,
                roles: Iterable[str | Role], password: str,
                actor: User | None = None, must_change_password: bool = False) -> User:
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise ValidationFailed(_("The user name must be 1 to 64 characters without spaces."),
                               {"username": [_("Not a valid user name.")]})
    if find_user(username) is not None:
        raise Conflict(_("The user name %(name)s is taken.", name=username),
                       {"username": [_("This user name is taken.")]})
    role_names = _roles(roles)
    _check_password(password, username)
    user = User(username=username, display_name=display_name.strip() or username,
                department=department, password_hash=hash_password(password),
                must_change_password=must_change_password)
    user.role_rows = [UserRole(role=r) for r in role_names]
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id,
                 {"username": username, "department": department.name, "roles": role_names},
                 actor=actor)
    db.session.commit()
    return user


def update_user(user: User, *, display_name: str, department: Department,
                roles: Iterable[str | Role], actor: User, position: str | None = None,
                email: str | None = None) -> User:
    """Change an account. ``position`` (head, deputy_head, principal_head or None) and
    ``email`` are left as they are when not given (None); "" clears them."""
    role_names = _roles(roles)
    if user.id == actor.id and Role.ADMIN.value not in role_names:
        raise DomainError(_("You cannot remove your own admin role."))
    changes = {}
    if position is not None:
        new_position = position or None
        if new_position not in (None, *(p.value for p in Position)):
            raise ValidationFailed(_("Not a position."), {"position": [_("Not a position.")]})
        if new_position != user.position:
            changes["position"] = [user.position, new_position]
            user.position = new_position
    if email is not None:
        new_email = email.strip() or None
        if new_email and ("@" not in new_email or any(c.isspace() for c in new_email)):
            raise ValidationFailed(_("Not an e-mail address."),
                                   {"email": [_("Not an e-mail address.")]})
        if new_email != user.email:
            changes["email"] = [user.email, new_email]
            user.email = new_email
    if display_name.strip() and display_name.strip() != user.display_name:
        changes["display_name"] = [user.display_name, display_name.strip()]
        user.display_name = display_name.strip()
    if department.id != user.department_id:
        changes["department"] = [user.department.name, department.name]
        user.department = department
    old_roles = sorted(user.roles)
    if old_roles != role_names:
        changes["roles"] = [old_roles, role_names]
        user.role_rows = [UserRole(role=r) for r in role_names]
    if changes:
        audit.record("user.update", "user", user.id, changes, actor=actor)
        db.session.commit()
    return user


def set_active(user: User, active: bool, actor: User) -> User:
    if user.id == actor.id and not active:
        raise DomainError(_("You cannot disable your own account."))
    if user.active != active:
        user.active = active
        if not active:
            _end_sessions(user)
        audit.record("user.enable" if active else "user.disable", "user", user.id,
                     {"username": user.username}, actor=actor)
        db.session.commit()
    return user


def temporary_password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(3))


def reset_password(user: User, actor: User, new_password: str | None = None) -> str:
    """Set a new password chosen by an admin (or a random one, returned); the user must change
    it at next login, and all their sessions end."""
    password = new_password or temporary_password()
    _check_password(password, user.username)
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    _end_sessions(user)
    audit.record("user.reset_password", "user", user.id, {"username": user.username},
                 actor=actor)
    db.session.commit()
    throttle().clear(f"user:{user.username.lower()}")
    return password


def change_password(user: User, current: str, new: str, repeat: str) -> None:
    if not verify_password(user.password_hash, current):
        raise ValidationFailed(_("The current password is wrong."),
                               {"current_password": [_("Wrong password.")]})
    if new != repeat:
        raise ValidationFailed(_("The two new passwords differ."),
                               {"repeat_password": [_("Does not match.")]})
    if new == current:
        raise ValidationFailed(_("The new password must differ from the current one."),
                               {"new_password": [_("Same as the current password.")]})
    _check_password(new, user.username)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    _end_sessions(user)  # the caller starts a new session for this browser
    audit.record("user.change_password", "user", user.id, {"username": user.username},
                 actor=user)
    db.session.commit()


def _wait_message(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return _("Too many failed sign-ins. Try again in %(n)d minutes.", n=minutes)


def authenticate(username: str, password: str, address: str | None) -> User:
    """Check a sign-in. Failures are counted per account and per address and are kept even
    though the sign-in fails: they are the throttle's memory and the audit trail's."""
    settings = current_app.config["SETTINGS"]
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    user_key = f"user:{username.strip().lower()}"
    addr_key = f"addr:{address or 'unknown'}"
    t = throttle()
    wait, user_try = t.attempt(user_key, settings.LOGIN_MAX_FAILURES_PER_ACCOUNT, window)
    if wait:
        raise TooManyAttempts(_wait_message(wait), retry_after=wait)
    wait, addr_try = t.attempt(addr_key, settings.LOGIN_MAX_FAILURES_PER_ADDRESS, window)
    if wait:
        t.release(user_key, user_try)
        raise TooManyAttempts(_wait_message(wait), retry_after=wait)
    user = find_user(username) if username.strip() else None
    ok = verify_password(user.password_hash if user else _dummy_hash(), password)
    if not ok:  # the reserved attempts stay, as failures
        audit.record("login.failed", "user", user.id if user else None,
                     {"username": username.strip()[:64]}, actor=None)
        db.session.commit()
        raise DomainError(_("Wrong user name or password."))
    t.release(addr_key, addr_try)
    if not user.active:
        t.release(user_key, user_try)
        raise DomainError(_("This account is disabled. Ask an administrator."))
    if demo_password_refused(password):
        t.release(user_key, user_try)
        raise DomainError(_("The demo password is refused outside demo mode. "
                            "Ask an administrator to reset your password."))
    t.clear(user_key)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record("login", "user", user.id, {"username": user.username}, actor=user)
    db.session.commit()
    return user


def _session_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(user: User) -> None:
    """A new signed-in session for ``user``; its key reaches the session cookie through
    ``user.get_id()``. The user's session rows older than a month are cleared on the way."""
    user.session_key = secrets.token_urlsafe(32)
    db.session.add(LoginSession(id=_session_id(user.session_key), user_id=user.id))
    db.session.execute(delete(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.created_at < utcnow() - timedelta(days=31)))
    db.session.commit()


#: The signed-in user of a request, in one statement: the account (active, its token
#: unchanged) joined to the login session (not ended) and its department, one row per role.
#: Built once; each request only binds its values.
_SESSION_USER = (
    select(*User.__table__.c, Department.name, Department.code, Department.active,
           UserRole.role)
    .join(LoginSession, LoginSession.user_id == User.id)
    .join(Department, Department.id == User.department_id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .where(User.id == bindparam("user_id"), User.active.is_(True),
           User.session_token == bindparam("token"), LoginSession.id == bindparam("session")))
_USER_KEYS = tuple(c.key for c in User.__table__.c)


def session_user(identity: str) -> SignedInUser | None:
    """The user of a session cookie's identity ``"<id>:<token>:<key>"``, if that session
    still stands: the account active, its token unchanged, the session not ended. Asked on
    every signed-in request, so read in one statement as plain rows (no ORM object): a
    :class:`SignedInUser`, which loads the account's row only when something writes to it."""
    user_id, token, key = (identity.split(":") + ["", ""])[:3]
    if not user_id.isdigit() or len(user_id) > 18 or not key:
        return None
    rows = db.session.connection().execute(
        _SESSION_USER, {"user_id": int(user_id), "token": token,
                        "session": _session_id(key)}).all()
    if not rows:
        return None
    first = rows[0]
    n = len(_USER_KEYS)
    columns = dict(zip(_USER_KEYS, first[:n]))
    department = DepartmentRef(columns["department_id"], first[n], first[n + 1], first[n + 2])
    roles = frozenset(row[n + 3] for row in rows if row[n + 3] is not None)
    return SignedInUser(columns, roles, department, key)


def _end_sessions(user: User) -> None:
    """Every session of ``user`` ends (the caller commits)."""
    user.session_token = secrets.token_hex(16)
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def record_logout(user: User) -> None:
    """Sign-out: this session's row goes, so its cookie (and any copy of it) is refused."""
    if user.session_key:
        db.session.execute(delete(LoginSession).where(
            LoginSession.id == _session_id(user.session_key)))
    audit.record("logout", "user", user.id, {"username": user.username}, actor=user)
    db.session.commit()


def set_locale(user: User, locale: str) -> None:
    if user.locale != locale:
        user.locale = locale
        audit.record("user.set_locale", "user", user.id, {"locale": locale}, actor=user)
        db.session.commit()
