"""The limit against scraping the public portal: at most ``PUBLIC_REQUESTS_PER_MINUTE``
requests per client address per minute to anything under ``/public/`` (pages, JSON, CSV, a
draw's files, the record check), then ``429`` with ``Retry-After`` and a message in the
visitor's language: JSON for a file (``.json``, ``.csv`` ...), the error page otherwise.

It counts with the login throttle's mechanism (:mod:`inspection.core.throttle`) rather than a
third one: in Redis when ``REDIS_URL`` is set, else in the database (table ``login_failure``,
keys ``public:<address>``), so that every gunicorn worker sees the same count, and each
request reserves its place atomically (simultaneous requests get exactly the limit). In the
database a key's old rows go when the same address comes back; the rows of addresses that
never come back are swept now and then (:func:`_sweep`). Behind a reverse proxy the address
is the client's when ``TRUSTED_PROXIES`` says how many proxies to trust
(``core/security.py``); otherwise every visitor shares the proxy's address and its limit.
"""
from __future__ import annotations

import itertools
import math
from datetime import timedelta

from flask import Flask, Response, current_app, json, request
from flask_babel import gettext as _
from sqlalchemy import delete

from ..core.errors import error_response
from ..core.models import LoginFailure, utcnow
from ..core.throttle import DatabaseThrottle, throttle

#: The window of the limit, in seconds.
WINDOW = 60
PREFIX = "public:"
#: Sweep the database's stale rows of the limit once in this many requests of a process.
SWEEP_EVERY = 1000
_requests = itertools.count()


def counted(path: str) -> bool:
    return path == "/public" or path.startswith("/public/")


def _is_file(path: str) -> bool:
    """A download (``results.csv``, ``record.json``, ``verify.py`` ...) rather than a page."""
    return "." in path.rsplit("/", 1)[-1]


def too_many(wait: int, limit: int) -> Response:
    message = _("Too many requests from your address: at most %(n)d a minute. Please wait "
                "%(s)d seconds and try again.", n=limit, s=wait)
    headers = {"Retry-After": str(wait)}
    if _is_file(request.path):
        body = {"error": {"code": "too_many_requests", "status": 429, "message": message}}
        return Response(json.dumps(body, ensure_ascii=False) + "\n", status=429,
                        headers=headers, mimetype="application/json")
    return error_response(429, message, code="too_many_requests", headers=headers)


def check():
    """The before_request hook: count this request, or answer 429."""
    limit = current_app.config["SETTINGS"].PUBLIC_REQUESTS_PER_MINUTE
    if not limit or request.endpoint is None or not counted(request.path):
        return None
    counter = throttle()
    wait = counter.count(PREFIX + (request.remote_addr or "unknown"), limit, WINDOW)
    if wait:
        return too_many(max(1, math.ceil(wait)), limit)
    _sweep(counter)
    return None


def _sweep(counter) -> None:
    """Delete the limit's rows that left the window, for every address (Redis expires its
    keys by itself)."""
    if not isinstance(counter, DatabaseThrottle) or next(_requests) % SWEEP_EVERY:
        return
    from ..extensions import db

    with db.engine.begin() as conn:
        conn.execute(delete(LoginFailure).where(
            LoginFailure.key.startswith(PREFIX, autoescape=True),
            LoginFailure.at <= utcnow() - timedelta(seconds=WINDOW)))


def init_app(app: Flask) -> None:
    app.before_request(check)
