"""The office's review forms: HTML form fields turned into the input of the load schemas of
:mod:`.schemas` (shared with the JSON API), and the schemas' errors turned into field errors
in the user's language.

The pages post plain HTML forms (with the CSRF token); the rows of a determination's
findings and of a return's comments are numbered fields (``findings-0-handling`` ...).
:func:`load` runs a schema and raises :class:`ValidationFailed` with the field errors keyed
as the operations key them (``findings.0.due``), so that a view and the API answer the same.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError

from ..core.errors import ValidationFailed

#: Rows of findings a form offers besides those prefilled from the record.
EXTRA_FINDING_ROWS = 2

_LENGTH = re.compile(r"Length must be between (\d+) and (\d+)\.|Longer than maximum length "
                     r"(\d+)\.|Shorter than minimum length (\d+)\.|Length must be (\d+)\.")


def _message(text: Any, value: Any = None) -> str:
    """A marshmallow message in the user's language (the schemas' own messages are lazy
    translations already); ``value`` is the value it is about, when known."""
    text = str(text)
    if text in ("Missing data for required field.", "Field may not be null."):
        return _("Required.")
    if text == "Not a valid date.":
        return _("Not a valid date (YYYY-MM-DD).")
    if text.startswith("Must be one of"):
        return _("Choose one of the listed values.")
    if text == "Unknown field.":
        return _("Unknown field.")
    if text == "String does not match expected pattern.":
        return _("Not in the expected form.")
    if text.startswith(("Not a valid", "Invalid input type", "Must be greater", "Must be less")):
        return _("Not a valid value.")
    match = _LENGTH.fullmatch(text)
    if match:
        low, high, longest, shortest, equal = match.groups()
        if equal:
            return _("Exactly %(n)d characters.", n=int(equal))
        if shortest or (low and not value):
            # "between 1 and N" is said of an empty value as well as of a long one
            return _("Required.")
        return _("At most %(n)d characters.", n=int(high or longest))
    return text


def _at(data: Any, key: Any) -> Any:
    if isinstance(data, Mapping):
        return data.get(key, data.get(str(key)))
    if isinstance(data, list) and str(key).isdigit() and int(key) < len(data):
        return data[int(key)]
    return None


def flatten(messages: Any, prefix: str = "", data: Any = None) -> dict[str, list[str]]:
    """``{"findings": {0: {"due": [...]}}}`` → ``{"findings.0.due": [...]}``, translated
    (``data``: the input, to tell an empty value from a long one)."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, Mapping):
                out.update(flatten(value, name, _at(data, key)))
            else:
                out.setdefault(name, []).extend(
                    _message(m, _at(data, key))
                    for m in (value if isinstance(value, list) else [value]))
    else:
        out[prefix or "_schema"] = [_message(m, data) for m in
                                   (messages if isinstance(messages, list) else [messages])]
    return out


def load(schema: type[Schema] | Schema, data: Any) -> dict[str, Any]:
    """Run a load schema; bad input raises :class:`ValidationFailed` with field errors."""
    if not isinstance(data, Mapping):
        raise ValidationFailed(_("The request body must be a JSON object."))
    instance = schema() if isinstance(schema, type) else schema
    try:
        return instance.load(data)
    except ValidationError as error:
        raise ValidationFailed(_("Some values are not valid."),
                               fields=flatten(error.messages, data=data)) from None


# --- from HTML form fields to schema input ----------------------------------------------------

def _text(form: Mapping, name: str) -> str:
    return (form.get(name) or "").strip()


def _optional(form: Mapping, name: str) -> str | None:
    return _text(form, name) or None


def row_numbers(form: Mapping, prefix: str) -> list[int]:
    """The row numbers of ``<prefix>-<n>-...`` fields, in order."""
    found = set()
    pattern = re.compile(re.escape(prefix) + r"-(\d{1,3})-")
    for key in form.keys():
        match = pattern.match(key)
        if match:
            found.add(int(match.group(1)))
    return sorted(found)


def split_subject(value: str) -> tuple[str | None, str | None]:
    """``"LR-06|LR-06-1"`` → (item, question); ``"LR-06|"`` → (item, None)."""
    item, _sep, question = (value or "").partition("|")
    return (item or None), (question or None)


def return_input(form: Mapping) -> tuple[dict, list[int]]:
    """The return form: ``comments`` and per question ``item_comments-<n>-subject`` /
    ``-comment``. Returns the input and the form row of each item comment."""
    comments, rows = [], []
    for n in row_numbers(form, "item_comments"):
        text = _text(form, f"item_comments-{n}-comment")
        if not text:
            continue
        item, question = split_subject(_text(form, f"item_comments-{n}-subject"))
        comments.append({"item": item, "question": question, "comment": text})
        rows.append(n)
    return {"comments": _text(form, "comments"), "item_comments": comments}, rows


def findings_input(form: Mapping) -> tuple[list[dict], list[int]]:
    """Finding rows ``findings-<n>-subject`` (``item|question``), ``-finding``, ``-handling``,
    ``-due``, ``-note``; a row without a subject is left out. Returns the findings and the
    form row of each."""
    findings, rows = [], []
    for n in row_numbers(form, "findings"):
        item, question = split_subject(_text(form, f"findings-{n}-subject"))
        if not item:
            continue
        findings.append({"item": item, "question": question,
                         "finding": _text(form, f"findings-{n}-finding"),
                         "handling": _optional(form, f"findings-{n}-handling"),
                         "due": _optional(form, f"findings-{n}-due"),
                         "note": _text(form, f"findings-{n}-note")})
        rows.append(n)
    return findings, rows


def renumber(fields: dict[str, list[str]], prefix: str, rows: list[int]) -> dict[str, list[str]]:
    """Field errors ``<prefix>.<i>.<name>`` of the i-th loaded row, keyed by the form's row
    number instead (``<prefix>.<n>.<name>``)."""
    out = {}
    for key, messages in fields.items():
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == prefix and parts[1].isdigit() \
                and int(parts[1]) < len(rows):
            parts[1] = str(rows[int(parts[1])])
            key = ".".join(parts)
        out[key] = messages
    return out


def determination_input(form: Mapping) -> tuple[dict, list[int]]:
    findings, rows = findings_input(form)
    return {"result_category": _text(form, "result_category"), "findings": findings,
            "summary": _text(form, "summary"), "key": _optional(form, "key")}, rows


def correction_input(form: Mapping) -> tuple[dict, list[int]]:
    findings, rows = findings_input(form)
    data = {"origin": _text(form, "origin"), "reason": _text(form, "reason"),
            "result_category": _text(form, "result_category"), "findings": findings,
            "summary": _text(form, "summary")}
    if _text(form, "objection_id"):
        data["objection_id"] = _text(form, "objection_id")
    return data, rows


def decision_input(form: Mapping) -> dict:
    """Approve or reject (two buttons named ``decision``), with the reason."""
    decision = _text(form, "decision")
    data: dict[str, Any] = {"reason": _text(form, "reason")}
    if decision in ("approve", "reject"):
        data["approve"] = decision == "approve"
    return data


def exception_input(form: Mapping) -> dict:
    return {"kind": _text(form, "kind"), "reason": _text(form, "reason")}


def feedback_input(form: Mapping) -> dict:
    data = {"way": _text(form, "way"), "note": _text(form, "note")}
    if _text(form, "delivered_on"):
        data["delivered_on"] = _text(form, "delivered_on")
    return data


def objection_input(form: Mapping, number: str) -> dict:
    return {"visit": number, "credit_code": _text(form, "credit_code").upper(),
            "contact": _text(form, "contact"), "text": _text(form, "text"),
            "key": _optional(form, "key")}


def objection_decision_input(form: Mapping) -> dict:
    return {"status": _text(form, "status"), "outcome": _text(form, "outcome")}
