"""Ratios (a fraction of a pool, e.g. ``Decimal("0.05")`` for 5 %): the one parser.

Standard library only, so that the pure part of the target draw
(``draws/target/operations.py``) and anything else may use it without Flask. The marshmallow
field of schemas is :class:`inspection.core.fields.Ratio`, built on :func:`parse_ratio`.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

#: A stored ratio has at most four decimals (two decimals in percent: 12.25 %).
PLACES = Decimal("0.0001")


def parse_ratio(value: Any, *, low: Decimal | None = None,
                high: Decimal | None = None) -> Decimal:
    """``value`` (a string, Decimal, int or float) as a finite Decimal.

    Raises :class:`ValueError` when it is missing, blank, a bool, unreadable or not finite,
    and, when ``low`` or ``high`` is given, when it lies outside ``[low, high]``."""
    if value is None or isinstance(value, bool):
        raise ValueError(f"not a ratio: {value!r}")
    try:
        ratio = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not a ratio: {value!r}") from None
    if not ratio.is_finite():
        raise ValueError(f"not a ratio: {value!r}")
    if (low is not None and ratio < low) or (high is not None and ratio > high):
        raise ValueError(f"ratio out of [{low}, {high}]: {value!r}")
    return ratio


def ratio_or_none(value: Any) -> Decimal | None:
    """:func:`parse_ratio`, with None for what it refuses."""
    try:
        return parse_ratio(value)
    except ValueError:
        return None


def has_places(ratio: Decimal, places: Decimal = PLACES) -> bool:
    """True when ``ratio`` needs no more decimals than ``places`` (0.0001: two in percent)."""
    return ratio == ratio.quantize(places)


def from_percent(text: Any) -> Decimal | str | None:
    """A percent typed in a form ("12.5", "12.5 %") as a fraction (``Decimal("0.125")``);
    None when blank. Unreadable text comes back as it is, so that the schema names the
    field."""
    text = str(text or "").strip().rstrip("%").strip()
    if not text:
        return None
    try:
        return parse_ratio(text) / 100
    except ValueError:
        return text


def percent(ratio: Any) -> str:
    """0.05 -> '5%', 0.125 -> '12.5%'."""
    value = (Decimal(ratio) * 100).normalize()
    return f"{value:f}%"
