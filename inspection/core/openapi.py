"""The JSON API's flask-smorest objects: the :data:`api` every package registers its
blueprints with, the :class:`Blueprint` they use, and the description's error responses.
Apart from :mod:`inspection.extensions` because the description needs the access marks and the
schemas of :mod:`inspection.core`, which sit above the extensions."""
from __future__ import annotations

from functools import wraps
from http import HTTPStatus

from apispec import BasePlugin
from flask import request
from flask_babel import gettext
from flask_smorest import Api as _SmorestApi
from flask_smorest import Blueprint as _SmorestBlueprint
from werkzeug.exceptions import UnprocessableEntity

from .access import PUBLIC, access_of
from .fields import MAX_ID, WholeNumber
from .schemas import ErrorSchema

#: What an error status means anywhere in the API (an operation may say more in its own
#: ``alt_response``). The body is always ``{"error": {...}}``
#: (:class:`~.schemas.ErrorSchema`).
ERROR_STATUSES = {
    400: "The request could not be read: a body that is not JSON or nests too deep, or a "
         "change sent without a valid CSRF token in the X-CSRFToken header.",
    401: "Not signed in, or the session has ended.",
    403: "Signed in, but the role does not allow this (or the password must be changed "
         "first).",
    404: "No such object.",
    409: "Not possible in the object's current state.",
    413: "The body is too large.",
    422: "Some values are not valid, or the JSON body the operation needs is missing; "
         "``fields`` names each refused value with its messages.",
}

_UNSAFE = {"post", "put", "patch", "delete"}


class ErrorResponses(BasePlugin):
    """Documents, once for every operation, the errors its shape implies, and gives every
    documented error response the one error schema:

    - 401 and 403 on every operation that is not public (see :mod:`.access`);
    - 400 on every change (POST, PUT, PATCH, DELETE): the CSRF token and the JSON body;
    - 404 where the path names an object;
    - 422 where the operation reads a body or query parameters.

    Other statuses (409 ...) are documented by the operations that answer them, with
    ``alt_response``; no catch-all ``default`` response hides an undocumented one."""

    def __init__(self, api: "Api"):
        self.api = api

    def init_spec(self, spec):
        self.spec = spec

    def _public(self, rule, method: str) -> bool:
        with self.api._app.app_context():
            return access_of(rule.endpoint, method.upper()) == PUBLIC

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            if method not in _UNSAFE | {"get", "head", "options"}:
                continue
            responses = operation.setdefault("responses", {})
            codes = set() if rule is not None and self._public(rule, method) else {401, 403}
            if method in _UNSAFE:
                codes.add(400)
            if rule is not None and rule.arguments:
                codes.add(404)
            if "requestBody" in operation or any(
                    isinstance(p, dict) and p.get("in") == "query"
                    for p in operation.get("parameters", [])):
                codes.add(422)
            present = {str(code) for code in responses}
            for code in codes:
                if str(code) not in present:
                    responses[code] = HTTPStatus(code).name
            for code, response in responses.items():
                if str(code).isdigit() and int(code) >= 400 and isinstance(response, dict) \
                        and not response.get("content"):
                    response["content"] = {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}


def _whole_number_range(self, field, ret, **kwargs):
    """A WholeNumber takes no number beyond what the database stores: say so."""
    if not isinstance(field, WholeNumber):
        return {}
    return {"minimum": ret.get("minimum", -MAX_ID - 1), "maximum": ret.get("maximum", MAX_ID)}


class Api(_SmorestApi):
    """flask-smorest without its app-wide JSON error handler: ours answers JSON under /api
    and friendly HTML pages elsewhere (see :mod:`inspection.core.errors`). Its description
    documents that answer, ``{"error": {...}}``, for every error (see :class:`ErrorResponses`)."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        pass

    def _init_spec(self, *, extra_plugins=None, **kwargs):
        plugins = [*(extra_plugins or ()), ErrorResponses(self)]
        super()._init_spec(extra_plugins=plugins, **kwargs)
        self.ma_plugin.converter.add_attribute_function(_whole_number_range)

    def _register_responses(self):
        self.spec.components.schema("Error", schema=ErrorSchema)
        for status, description in ERROR_STATUSES.items():
            self.spec.components.response(HTTPStatus(status).name, {
                "description": description,
                "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Error"}}}}, lazy=True)


class Blueprint(_SmorestBlueprint):
    """flask-smorest's Blueprint, for every part of the API. A JSON body its operation
    requires (``arguments`` with ``location="json"``, ``required=True``, the default) must
    be there: a request without one, or not sent as ``application/json``, is a 422 rather
    than the schema's defaults applied to nothing (an empty POST must not publish the
    catalogue)."""

    def arguments(self, schema, *, location="json", required=True, **kwargs):
        parse = super().arguments(schema, location=location, required=required, **kwargs)
        if location != "json" or not required:
            return parse

        def decorator(func):
            parsed = parse(func)

            @wraps(parsed)
            def view(*args, **kw):
                if not request.is_json or not request.get_data(cache=True).strip():
                    raise UnprocessableEntity(gettext(
                        "This request needs a JSON body (Content-Type: application/json)."))
                return parsed(*args, **kw)
            return view
        return decorator


api = Api()
