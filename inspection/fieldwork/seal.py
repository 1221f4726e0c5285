"""Sealing a visit record: its canonical JSON and the two hashes signers and verifiers use.

The hashes are pure functions (no database, no clock, no Flask): the phone runs the same
algorithm (``static/field/seal.js``, specified in ``docs/field-sync.md`` with a test vector).
:func:`seal_problems` finds what does not match as codes; :func:`check_seal`, the seal's step
of a record save's checks (:mod:`inspection.fieldwork.record_checks`), words them.

**Canonical JSON** is RFC 8785 (JSON Canonicalization Scheme), written by the maintained
``rfc8785`` package (Trail of Bits) rather than by hand: object keys sorted by their UTF-16
code units, no whitespace, strings escaped as ECMAScript's ``JSON.stringify`` does (``\\"``,
``\\\\``, ``\\b \\f \\n \\r \\t``, other controls below U+0020 as ``\\u00xx``, everything else
as is), numbers written as ECMAScript writes a double (``1``, not ``1.0``; ``1e+21``;
``1e-7``), UTF-8. Text must be valid Unicode (a lone surrogate is refused) and an integer must
be exact in a double (at most 2^53 - 1 in magnitude); the library's errors come out as
:class:`NotCanonical`. The phone uses the vendored ``canonicalize`` npm package, the same
scheme.

**Two hashes** of a record body (a save of the record as the phone sends it):

* the **content hash** (:func:`content_hash`): SHA-256 of the canonical JSON of the body
  without ``seal``, ``signatures``, ``revision`` and ``saved_at``. It covers the answers,
  notes, orders, result category, notice, arrival time and place, the photos' hashes and
  times, the refusal and its witnesses, ``record_id``, ``visit``, ``corrects``, and anything
  else the phone sent. Every signer signs this hash (``signs`` in each signature): any change
  to the content gives another hash, so the signatures made before no longer match it;
* the **seal** (:func:`seal_of`): SHA-256 of the canonical JSON of the body without ``seal``,
  ``revision`` and ``saved_at``, so it covers the content *and* the signatures' entries
  (signer, the hashes of the strokes, SVG and PNG, what each signs, when). The seal is what
  the documents print and what the public verification page is keyed by.

**Joint visits** (seed 000 三(八): in a joint check each department's inspectors sign their own
department's record form): the body of a joint visit's record lists its ``departments``, each
with the items and questions it answers for (``[{"department_id", "name", "lead", "items",
"questions"}]``, from the visit pack). An inspector signer names their ``department_id``, and
signs the **part hash** of their department (:func:`part_hash`): the content with only the
answers to that department's questions and only the photos of those questions (and the photos
of no question), plus ``"department_id"``. The representative and witnesses sign the content
hash of the whole record. Without ``departments`` every signer signs the content hash.

``revision`` and ``saved_at`` are bookkeeping of the phone's saves, not content: sending the
same sealed content as another revision keeps its seal. The seal cannot cover itself, and a
signature cannot sign a hash that includes its own hash: hence two hashes.
"""
from __future__ import annotations

import hashlib
from typing import Any

import rfc8785
from flask_babel import gettext as _

#: Keys of a record body outside the seal.
NOT_IN_SEAL = ("seal", "revision", "saved_at")
#: Keys outside the content that signers sign.
NOT_IN_CONTENT = NOT_IN_SEAL + ("signatures",)
MAX_SAFE_INTEGER = 2 ** 53 - 1


class NotCanonical(ValueError):
    """The value cannot be written canonically (not JSON data, a lone surrogate, an
    integer beyond 2^53 - 1, NaN or infinity)."""


def canonical(value: Any) -> bytes:
    """The RFC 8785 canonical JSON of ``value``, UTF-8 (by the ``rfc8785`` package).

    Raises :class:`NotCanonical` for anything the scheme cannot write: the library's own
    errors (NaN, infinity, an integer beyond 2^53 - 1, a lone surrogate in a text, a key that
    is not text, a value that is not JSON data) and the ``UnicodeEncodeError`` it lets out
    for a lone surrogate in a key."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeError, TypeError) as error:
        raise NotCanonical(str(error)) from None


def _without(body: dict, keys: tuple[str, ...]) -> dict:
    if not isinstance(body, dict):
        raise NotCanonical("a record body is a JSON object")
    return {k: v for k, v in body.items() if k not in keys}


def canonical_record(body: dict) -> bytes:
    """What the seal covers: the canonical JSON of the body without ``seal``, ``revision``
    and ``saved_at``."""
    return canonical(_without(body, NOT_IN_SEAL))


def canonical_content(body: dict) -> bytes:
    """What every signer signs: the canonical JSON of the body without ``seal``,
    ``signatures``, ``revision`` and ``saved_at``."""
    return canonical(_without(body, NOT_IN_CONTENT))


def seal_of(body: dict) -> str:
    """The seal of a record body: SHA-256 (hex) of :func:`canonical_record`."""
    return hashlib.sha256(canonical_record(body)).hexdigest()


def content_hash(body: dict) -> str:
    """The hash every signature signs: SHA-256 (hex) of :func:`canonical_content`."""
    return hashlib.sha256(canonical_content(body)).hexdigest()


def part_content(body: dict, department_id: Any) -> dict | None:
    """What the inspectors of one department of a joint visit sign: the content (as
    :func:`canonical_content`) with only that department's answers and photos, and
    ``department_id``. None when the body lists no such department."""
    departments = body.get("departments") if isinstance(body, dict) else None
    if not isinstance(departments, list):
        return None
    part = next((d for d in departments if isinstance(d, dict)
                 and d.get("department_id") == department_id
                 and not isinstance(department_id, bool)), None)
    if part is None:
        return None
    questions = set(part.get("questions") or [])
    content = _without(body, NOT_IN_CONTENT)
    content["answers"] = [a for a in body.get("answers") or []
                          if isinstance(a, dict) and a.get("question") in questions]
    content["photos"] = [p for p in body.get("photos") or []
                         if isinstance(p, dict) and (not p.get("question")
                                                     or p.get("question") in questions)]
    content["department_id"] = department_id
    return content


def part_hash(body: dict, department_id: Any) -> str | None:
    """SHA-256 (hex) of the canonical JSON of :func:`part_content`, or None."""
    content = part_content(body, department_id)
    return None if content is None else hashlib.sha256(canonical(content)).hexdigest()


def expected_signs(body: dict, signer: Any, content: str | None = None) -> str | None:
    """The hash a signer of this body signs: an inspector of a joint visit's record their
    department's part hash (None when their department is not listed), everyone else the
    content hash (``content`` when the caller has it already)."""
    if body.get("departments") and isinstance(signer, dict) and signer.get("kind") == "inspector":
        return part_hash(body, signer.get("department_id"))
    return content if content is not None else content_hash(body)


def is_sealed(body: dict) -> bool:
    return isinstance(body, dict) and bool(body.get("seal"))


def seal_problems(body: dict) -> dict[str, list[str]]:
    """Why a sealed body's seal or signatures do not match its content, as codes by field
    (``{"seal": ["mismatch"], "signatures.1.signs": ["other_content"]}``); empty when they
    match or the body is not sealed. The caller words the messages."""
    if not is_sealed(body):
        return {}
    problems: dict[str, list[str]] = {}
    try:
        seal, content = seal_of(body), content_hash(body)
    except NotCanonical:
        return {"_schema": ["not_canonical"]}
    if body.get("seal") != seal:
        problems["seal"] = ["mismatch"]
    signatures = body.get("signatures") or []
    if not signatures:
        problems["signatures"] = ["none"]
    for n, signature in enumerate(signatures):
        if not isinstance(signature, dict):
            problems[f"signatures.{n}.signs"] = ["other_content"]
            continue
        try:
            expected = expected_signs(body, signature.get("signer"), content)
        except NotCanonical:
            return {"_schema": ["not_canonical"]}
        if expected is None:
            problems[f"signatures.{n}.signer.department_id"] = ["no_part"]
        elif signature.get("signs") != expected:
            problems[f"signatures.{n}.signs"] = ["other_content"]
    return problems


def _seal_messages() -> dict[str, str]:
    return {
        "mismatch": _("The seal does not match the record's content: the record was changed "
                      "after it was sealed, or the seal was computed wrongly."),
        "none": _("A sealed record carries the signatures that sign it."),
        "other_content": _("This signature was made for another version of the record: a "
                           "change after signing voids the signatures. Save the record "
                           "unsealed and sign again."),
        "not_canonical": _("The record cannot be sealed: it holds text that is not valid "
                           "Unicode or a number beyond the exact range."),
        "no_part": _("This inspector's department is not one of the record's departments."),
    }


def check_seal(body: dict) -> dict[str, list[str]]:
    """:func:`seal_problems` as field errors with their messages (empty when the body is not
    sealed or its seal and signatures match its content)."""
    problems = seal_problems(body)
    if not problems:
        return {}
    words = _seal_messages()
    return {key: [words[c] for c in codes] for key, codes in problems.items()}
