"""marshmallow fields shared by the domains' schemas, and :func:`load`, which runs a load
schema and turns its errors into one :class:`~.errors.ValidationFailed` naming every bad field
by its dotted key (``grade_rules.A.ratio``), the shape the API's 422 answers and the forms use.
"""
from __future__ import annotations

from datetime import timezone
from typing import Any, Iterable, Mapping

import marshmallow as ma
from flask_babel import gettext as _

from .errors import ValidationFailed
from .ratios import parse_ratio

#: The largest whole number the database stores: PostgreSQL's ``integer``, the type of every
#: id and count column.
MAX_ID = 2**31 - 1


class Ratio(ma.fields.Field):
    """A ratio (``"0.05"``, ``Decimal``, int) loaded as a finite Decimal by the one parser,
    :func:`inspection.core.ratios.parse_ratio`; dumped as its plain text."""

    default_error_messages = {"invalid": "Not a valid ratio."}

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_ratio(value)
        except ValueError:
            raise self.make_error("invalid") from None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format(value, "f")


class WholeNumber(ma.fields.Integer):
    """A whole number: an int, or text of digits. Unlike marshmallow's Integer, ``2.5`` (or
    ``"2.5"``) is refused rather than truncated to 2, ``True`` is not 1, and a number the
    database cannot store (beyond a 32-bit signed integer, the type of every id and count
    column) is refused as out of range instead of failing in the driver. Every schema takes
    its whole numbers, ids and query parameters included, through this field."""

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        if isinstance(value, str):
            text = value.strip()
            if not text.lstrip("+-").isdigit() or len(text) > 40:
                raise self.make_error("invalid")
            value = text
        number = super()._validated(value)
        if number is not None and not -MAX_ID - 1 <= number <= MAX_ID:
            raise ma.ValidationError(_("Out of range: at most %(n)d.", n=MAX_ID))
        return number


class UtcDateTime(ma.fields.DateTime):
    """A moment stored as naive UTC (see :func:`inspection.core.models.utcnow`), sent as
    RFC 3339 with its zone, ``2026-04-01T08:30:00.123456Z``: what OpenAPI's ``date-time``
    means, and what JavaScript's ``Date`` reads as UTC rather than as local time.
    ``timespec`` as :meth:`datetime.isoformat` (``"seconds"`` drops the fraction)."""

    def __init__(self, *, timespec: str = "auto", **kwargs):
        super().__init__(**kwargs)
        self.timespec = timespec

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec=self.timespec) + "Z"


class Text(ma.fields.String):
    """Free text, stripped; ``None`` or a missing key reads as empty, anything else as its
    text. With ``not_blank`` an empty text is refused ("This field is required.");
    ``max_length`` refuses a longer one ("At most n characters.")."""

    def __init__(self, *, not_blank: bool = False, max_length: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.not_blank = not_blank
        self.max_length = max_length

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is None or value is ma.missing:
            value = ""
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = (value if isinstance(value, str) else str(value)).strip()
        if self.not_blank and not text:
            raise ma.ValidationError(_("This field is required."))
        if self.max_length is not None and len(text) > self.max_length:
            raise ma.ValidationError(_("At most %(n)d characters.", n=self.max_length))
        return text


def flat_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error messages as ``{"a.b.c": ["...", ...]}`` (``_schema`` errors
    of a nested schema go to its own key)."""
    flat: dict[str, list[str]] = {}

    def add(key: str, values: Iterable[Any]) -> None:
        flat.setdefault(key or "_schema", []).extend(str(m) for m in values)

    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            if isinstance(value, Mapping):
                for sub, values in flat_errors(value, name).items():
                    add(sub, values)
            else:
                add(name, value if isinstance(value, (list, tuple)) else [value])
    else:
        add(prefix, messages if isinstance(messages, (list, tuple)) else [messages])
    return flat


def load(schema: ma.Schema, data: Mapping[str, Any],
         order: Iterable[str] | None = None) -> dict[str, Any]:
    """``schema.load(data)``, or :class:`ValidationFailed` naming each bad field with its own
    messages, in the order of ``order`` (default: the schema's fields), its message quoting
    the first."""
    try:
        return schema.load(data)
    except ma.ValidationError as error:
        fields = flat_errors(error.messages)
        rank = {name: n for n, name in enumerate(order or schema.fields)}
        fields = dict(sorted(fields.items(),
                             key=lambda kv: rank.get(kv[0].split(".")[0], len(rank))))
        first = next(iter(fields.values()))[0]
        raise ValidationFailed(_("Please correct the marked fields: %(first)s", first=first),
                               fields) from None
