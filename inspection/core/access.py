"""Deny by default: every view declares who may reach it, or nobody can.

Views are marked with one of :func:`public` (the explicit allow-list), :func:`login_only`
(any signed-in user) or :func:`roles` (signed-in users holding one of the roles). The check
runs in one ``before_request`` hook for the whole app; a view without a mark answers 403 to
everybody, so a forgotten decorator fails closed. For class-based views (the API), the mark
may sit on the method (``get``, ``post`` ...) or on the class.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Callable, TypeVar

from flask import current_app, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.exceptions import Forbidden, Unauthorized

from .models import Role, utcnow

F = TypeVar("F", bound=Callable)

PUBLIC = "public"
LOGIN = "login"

#: Endpoints of extensions that we cannot decorate, allowed without login.
PUBLIC_ENDPOINTS = {
    "static",
    "api-docs.openapi_json",  # the API description: no data, and tools read it unauthenticated
}

#: Where a visitor who is not signed in goes instead of the sign-in page: the site's front
#: door (``/``) is the public portal's home for the public, the user's home for staff.
FRONT_DOORS = {"core.home": "portal.home"}

#: Roles with read access to the whole office side (directories, catalogue, plans ...).
OFFICE_READERS = (Role.ADMIN, Role.OFFICE, Role.APPROVER, Role.SUPERVISOR)


def _mark(value) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        fn._access = value  # type: ignore[attr-defined]
        return fn
    return decorate


def public(fn: F) -> F:
    """Reachable without login. Every use widens the allow-list: keep them few."""
    return _mark(PUBLIC)(fn)


def login_only(fn: F) -> F:
    """Any signed-in user, whatever the role."""
    return _mark(LOGIN)(fn)


def roles(*allowed: Role | str) -> Callable[[F], F]:
    """Signed-in users holding at least one of ``allowed``."""
    names = frozenset(r.value if isinstance(r, Role) else r for r in allowed)
    if not names or not names <= {r.value for r in Role}:
        raise ValueError(f"unknown roles in {allowed!r}")
    return _mark(names)


def access_of(endpoint: str | None, method: str):
    """The access mark of an endpoint for a method, or None when it has none."""
    if endpoint is None:
        return None
    if endpoint in PUBLIC_ENDPOINTS:
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return None
    cls = getattr(view, "view_class", None)
    if cls is not None:
        handler = getattr(cls, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(cls, "get", None)
        mark = getattr(handler, "_access", None)
        return mark if mark is not None else getattr(cls, "_access", None)
    return getattr(view, "_access", None)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


#: How often the time of the last request is written into the session (seconds). The
#: cookie is signed and sent again only then, not on every request; the idle check counts
#: from that time, which is at most this much before the last request: a session may end
#: up to this much sooner than SESSION_IDLE_MINUTES after the last request, never later.
SEEN_STEP = 60


def _idle_expired() -> bool:
    """Log out after SESSION_IDLE_MINUTES without a request (checked on the server side)."""
    settings = current_app.config["SETTINGS"]
    now = utcnow().timestamp()
    last = session.get("seen")
    if last is not None and now - last > settings.SESSION_IDLE_MINUTES * 60:
        return True
    if last is None or now - last >= SEEN_STEP:
        session["seen"] = now
    return False


def enforce_access():
    """The app-wide before_request hook."""
    if request.endpoint is None:  # 404/405: the error handlers answer
        return None
    mark = access_of(request.endpoint, request.method)
    if mark == PUBLIC:
        return None
    if current_user.is_authenticated and _idle_expired():
        logout_user()
        session.pop("seen", None)
        session["expired"] = True
    if not current_user.is_authenticated:
        if is_api_request():
            raise Unauthorized(_("Please sign in."))
        door = FRONT_DOORS.get(request.endpoint)
        if door in current_app.view_functions and not session.get("expired"):
            return redirect(url_for(door))
        return redirect(url_for("core.login", next=request.full_path.rstrip("?")))
    if mark is None:
        raise Forbidden(_("This page has no access rule and is closed to everyone."))
    if current_user.must_change_password and request.endpoint not in (
            "core.change_password", "core.logout", "core.set_language", "core_api.CsrfToken",
            "core_api.Me"):
        if is_api_request():
            raise Forbidden(_("You must change your password first."))
        return redirect(url_for("core.change_password"))
    if mark == LOGIN:
        return None
    if not current_user.has_role(*mark):
        raise Forbidden(_("Your role does not allow this."))
    return None


def session_lifetime() -> timedelta:
    return timedelta(minutes=current_app.config["SETTINGS"].SESSION_IDLE_MINUTES)
