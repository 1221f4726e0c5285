"""Domain exceptions, and the one place that turns errors into HTTP answers.

Operations raise :class:`DomainError` subclasses with a message for the user; views and the
API never build error answers by hand. Under ``/api/`` every error, 404 and 405 included, is
JSON of one shape::

    {"error": {"code": "not_found", "status": 404, "message": "...", "fields": {...}}}

Elsewhere the user gets a friendly page in their language.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import db
from .access import is_api_request

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain refused the request. ``message`` is shown to the user."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, fields: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media",
          422: "validation_failed", 429: "too_many_attempts", 500: "server_error",
          503: "unavailable"}


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Please sign in."),
        403: _("You do not have permission to do this."),
        404: _("This page does not exist."),
        405: _("This method is not allowed here."),
        409: _("This conflicts with the current state."),
        413: _("The upload is too large."),
        415: _("This kind of content is not accepted."),
        422: _("Some values are not valid."),
        429: _("Too many attempts. Please wait and try again."),
        500: _("Something went wrong on our side. Nothing was saved; please try again."),
        503: _("The service is temporarily unavailable."),
    }


def error_response(status: int, message: str | None = None, code: str | None = None,
                   fields: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
    message = message or _messages().get(status, _messages()[500])
    if is_api_request() or request.accept_mimetypes.best == "application/json":
        body: dict[str, Any] = {"code": code or _CODES.get(status, "error"), "status": status,
                                "message": message}
        if fields:
            body["fields"] = fields
        response = jsonify(error=body)
    else:
        response = make_response(render_template("errors/error.html", status=status,
                                                 message=message))
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _http_message(error: HTTPException) -> str | None:
    """Keep messages we wrote (passed to abort/raise), not werkzeug's English defaults."""
    default = type(error).description
    if error.description and error.description != default:
        return str(error.description)
    return None


def handle_http(error: HTTPException):
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    fields = data.get("messages") or data.get("errors")
    if isinstance(fields, dict) and set(fields) <= {"json", "query", "form", "files",
                                                    "headers", "view_args"}:
        # webargs nests errors by location; flatten one level for a stable shape.
        flat: dict[str, Any] = {}
        for value in fields.values():
            flat.update(value if isinstance(value, dict) else {"_schema": value})
        fields = flat
    message = data.get("message") or _http_message(error)
    if status == 400 and fields and "_schema" in fields:
        message = _("The request body is not valid JSON.")
    elif status == 422 and fields:
        message = message or _("Some values are not valid.")
    headers = dict(error.get_headers()) if status == 405 else {}
    headers.pop("Content-Type", None)
    return error_response(status, message, fields=fields or None, headers=headers)


def handle_domain(error: DomainError):
    db.session.rollback()
    headers = {}
    if isinstance(error, TooManyAttempts):
        headers["Retry-After"] = str(error.retry_after)
    return error_response(error.status, error.message, code=error.code,
                          fields=error.fields or None, headers=headers)


def handle_csrf(error: CSRFError):
    return error_response(400, _("The form has expired or lacks its security token. "
                                 "Please reload the page and try again."), code="csrf_failed")


def handle_unexpected(error: Exception):
    db.session.rollback()
    original = getattr(error, "original_exception", error)
    log.exception("unhandled error", exc_info=original)
    return error_response(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(DomainError, handle_domain)
    app.register_error_handler(InternalServerError, handle_unexpected)
    app.register_error_handler(HTTPException, handle_http)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
