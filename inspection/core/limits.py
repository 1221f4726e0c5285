"""What a request may carry before any view sees it.

- **Ids in URLs** are whole numbers the database can hold: the ``int`` converter of every
  route refuses a number beyond a 32-bit signed integer (PostgreSQL's ``integer``, the type of
  every id column), so ``/draws/99999999999999999999`` is a 404 like any other unknown id,
  not an overflow deep in the driver.
- **JSON bodies** are refused with 400 when they nest deeper than :data:`MAX_JSON_DEPTH`,
  before anything parses them: Python's parser recurses once per level and would otherwise
  fail with a ``RecursionError`` (a 500) on a 2 KB body of nested brackets.
- **Text holds no NUL character** (``\x00``, ``\u0000`` in JSON), in query parameters, form
  fields and JSON bodies alike: PostgreSQL's text columns cannot store it, and a search or a
  save carrying one failed in the driver (a 500) where SQLite took it. A 422 names the field;
  in the path, it is a 404 (no object is named with one).
"""
from __future__ import annotations

import re

import marshmallow as ma
from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import IntegerConverter

from .errors import ValidationFailed
from .fields import MAX_ID, WholeNumber, load

#: The deepest nesting of arrays and objects a JSON body may have. The deepest body the
#: clients send (a record's answers with their photos and signatures) nests six levels.
MAX_JSON_DEPTH = 32

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: 0 to :data:`MAX_ID`, else no match (404)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = None, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min,
                         max=MAX_ID if max is None else max, signed=signed)


def json_depth(body: bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` in a JSON text (brackets inside strings do not
    count). Linear in the body, without recursion."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRINGS.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def refuse_deep_json():
    if request.is_json and request.content_length != 0:
        if json_depth(request.get_data(cache=True)) > MAX_JSON_DEPTH:
            raise BadRequest(_("The JSON body nests deeper than %(n)d levels.",
                               n=MAX_JSON_DEPTH))


def _nul_path(value, path: str = "") -> str | None:
    """The dotted key of the first text holding a NUL character in a JSON value, if any."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if "\x00" in str(key):
            return where
        found = _nul_path(item, where)
        if found is not None:
            return found
    return None


def refuse_nul():
    if "\x00" in request.path:  # no object is named with one
        raise NotFound()
    names = [key for key, value in request.args.items(multi=True)
             if "\x00" in key or "\x00" in value]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        names += [key for key, value in request.form.items(multi=True)
                  if "\x00" in key or "\x00" in value]
    elif request.is_json and b"\\u0000" in request.get_data(cache=True):
        found = _nul_path(request.get_json(silent=True))
        if found is not None:
            names.append(found or "_schema")
    if names:
        message = _("Text may not contain the NUL character.")
        raise ValidationFailed(message, {name: [message] for name in names})


def init_url_map(app: Flask) -> None:
    """Before any blueprint adds its rules."""
    app.url_map.converters["int"] = IdConverter


def init_app(app: Flask) -> None:
    app.before_request(refuse_deep_json)
    app.before_request(refuse_nul)


def int_arg(name: str, default: int | None = None) -> int | None:
    """A whole-number query parameter of a page (``?page=2``): ``default`` when absent or
    blank, else read by the schema field every API parameter uses, so that ``abc`` or a
    number beyond what the database holds is a 422 naming the parameter, as in the API."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    schema = ma.Schema.from_dict({name: WholeNumber()})()
    return load(schema, {name: raw})[name]
