"""RFC 3797 random selection ("Publicly Verifiable NomCom Random Selection"), as algorithm
``rfc3797-v1``.

Why this algorithm: anyone can re-run a draw from the published record with nothing but
MD5 and a few lines of code, and nobody, the bureau included, knows the outcome before the
public random values exist. This module is the engine; it is pure (standard library only,
no database, no clock, no global random state) and must stay that way, because
``verify.py`` loads it as a single file next to itself, outside the application.

The algorithm (RFC 3797 section 4; the worked example of section 6 is in the tests):

1. **Key string.** Every source becomes a string ended with ``/``; the key string is their
   concatenation in the listed order, e.g. ``9319./2.5.8.10.12./9.18.26.34.41.45./``.

   * A *numeric* source (one number, or several, e.g. a lottery's balls) is written as
     decimal numbers without leading zeros (a single ``0`` when the integer part is zero),
     each terminated by a period; a number with a fraction has the period between the whole
     and the fractional part instead, without trailing zeros (``1.25``, ``2.50`` -> ``2.5``,
     ``2.0`` -> ``2.``). Values are sorted from smallest to largest. Accepted values: ``int``,
     ``decimal.Decimal``, finite ``float`` (written via its shortest ``repr``), and strings
     that are decimal numerals (``"09"``, ``"3.10"``). Numbers must not be negative
     (the RFC's sources are positive numbers).
   * A *text* source (extension, see below) is one where at least one value is a string
     that is not a numeral; all its values must then be strings. Each value is canonicalised
     (Unicode NFKC, lower case, every character other than ``0-9`` and ``a-z`` deleted),
     must not come out empty, and is followed by a period. Text values keep the order given.
   * Before either test a string is NFKC-normalised and stripped, so full-width digits
     typed on a Chinese keyboard (``"０９"``) are the numeral ``9``.
   * A source may be a bare value instead of a list: ``9319`` is ``[9319]``.

2. **Random values.** For step ``i = 0, 1, 2, ...`` take the MD5 of the counter, the key
   string (ASCII) and the counter again, the counter being ``i`` as a 2-byte big-endian
   integer; read the 16-byte digest as a 128-bit big-endian unsigned integer.

3. **Selection.** With ``m`` candidates still in the pool, the candidate at 1-based index
   ``(value mod m) + 1`` of the remaining list (kept in the original order) is selected and
   removed. The result is the selected candidates' original 1-based positions, in the order
   selected; drawing ``k`` gives the first ``k`` of any longer draw with the same inputs.

Extensions, which leave every draw the RFC can express unchanged:

* **More than 65,536 selections.** The RFC's counter has 2 bytes. For ``i >= 65536`` the
  counter is written as a 4-byte big-endian integer, before and after the key string (so
  the hashed message is 8 bytes longer than the RFC's and can never equal one of them).
  Steps ``0 .. 65535`` are exactly the RFC's. At most ``2**32`` selections.
* **Text sources.** RFC 3797 defines numeric sources. Text is used for the bureau's
  committed secrets (see ``verify.py``), which should be lower-case hex so that
  canonicalisation changes nothing. The RFC discourages alphanumeric sources; the rule
  above is this module's definition and part of ``rfc3797-v1``.

The 128-bit value mod ``m`` is biased by less than ``m / 2**128``: nothing for any pool.

Efficiency: the remaining list is not materialised. The removed positions are kept in a
sorted list while they are few (a typical draw takes a few per cent of a pool), then counted
by a Fenwick tree, so the ``r``-th remaining candidate is found with a few bisections, or in
``O(log N)``; a draw of ``k`` from ``N`` costs at most ``O(N)`` (one zeroed list) plus
``O(k log N)``. Either way gives the same candidate: the result depends only on the
inputs above.
"""
from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from bisect import bisect_right
from decimal import Decimal
from typing import Any, Iterable, Iterator, NamedTuple, Sized

ALGORITHM = "rfc3797-v1"
RFC_COUNTER_LIMIT = 1 << 16   # steps with the RFC's 2-byte counter
MAX_SELECTIONS = 1 << 32      # steps with the 4-byte extension
#: Steps taken with the sorted list of removed positions before the Fenwick tree (see
#: :func:`_steps`); a list insertion then still costs less than a descent of the tree.
SPARSE_STEPS = 1 << 14

_NUMERAL = re.compile(r"[0-9]+(?:\.[0-9]+)?\Z")
_TEXT_KEEP = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")


class Step(NamedTuple):
    """One selection step, as printed in a public record (cf. the RFC's example table)."""
    counter: int      # i: 0 for the first selection
    md5: str          # the digest, upper-case hex as in the RFC
    remaining: int    # candidates left before this step: the divisor
    index: int        # 1-based index in the remaining list: (value mod remaining) + 1
    position: int     # 1-based position of the selected candidate in the original pool


# --- key string -------------------------------------------------------------------------------

def key_string(sources: Iterable[Any]) -> str:
    """The RFC 3797 key string of ``sources`` (a list of sources, each a list of values).

    Raises ``ValueError`` (or ``TypeError`` for a wrong type) for no sources, an empty
    source, a negative or non-finite number, a source mixing numbers and text, or text that
    is empty once canonicalised.
    """
    if isinstance(sources, (str, bytes)) or not isinstance(sources, Iterable):
        raise TypeError("sources must be a list of sources")
    parts = [_source_string(source, n) for n, source in enumerate(sources, 1)]
    if not parts:
        raise ValueError("at least one random source is required")
    return "".join(part + "/" for part in parts)


def _source_string(source: Any, n: int) -> str:
    values = list(source) if isinstance(source, (list, tuple)) else [source]
    if not values:
        raise ValueError(f"source {n} has no values")
    parsed = [_parse_value(value, n) for value in values]
    numbers = [value for value in parsed if isinstance(value, Decimal)]
    if len(numbers) == len(parsed):
        return "".join(_number_string(number) for number in sorted(numbers))
    if any(not isinstance(value, str) for value in values):
        raise ValueError(f"source {n} mixes numbers and text")
    return "".join(_text_string(value, n) + "." for value in values)


def _parse_value(value: Any, n: int) -> Decimal | str:
    """A number as a Decimal, or text as its NFKC-normalised, stripped string."""
    if isinstance(value, bool):
        raise TypeError(f"source {n}: {value!r} is not a number or text")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"source {n}: {value!r} is not a finite number")
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"source {n}: {value!r} is not a finite number")
        number = value
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if not _NUMERAL.match(text):
            return text
        number = Decimal(text)
    else:
        raise TypeError(f"source {n}: {value!r} is not a number or text")
    if number < 0:
        raise ValueError(f"source {n}: {value!r} is negative")
    return number


def _number_string(number: Decimal) -> str:
    """``12`` -> ``12.``; ``0.50`` -> ``0.5``; ``2.0`` -> ``2.``; ``1E+2`` -> ``100.``."""
    whole, _, fraction = format(number.copy_abs(), "f").partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}"


def _text_string(text: str, n: int) -> str:
    kept = "".join(c for c in unicodedata.normalize("NFKC", text).lower() if c in _TEXT_KEEP)
    if not kept:
        raise ValueError(f"source {n}: text {text!r} has no letters a-z or digits 0-9")
    return kept


# --- selection --------------------------------------------------------------------------------

def counter_bytes(i: int) -> bytes:
    """The counter written around the key string at step ``i`` (2 bytes, 4 from 65,536)."""
    if 0 <= i < RFC_COUNTER_LIMIT:
        return i.to_bytes(2, "big")
    if RFC_COUNTER_LIMIT <= i < MAX_SELECTIONS:
        return i.to_bytes(4, "big")
    raise ValueError(f"step {i} is outside 0 .. {MAX_SELECTIONS - 1}")


def select(pool: Sized, sources: Iterable[Any], count: int) -> list[int]:
    """Draw ``count`` candidates from ``pool`` (any sized sequence; only its length is used).

    Returns the 1-based positions of the selected candidates in ``pool``, in the order
    selected. ``count`` may be anything from 0 to ``len(pool)``.
    """
    size = len(pool)
    key = key_string(sources).encode("ascii")
    _check_count(size, count)
    return [step[4] for step in _steps(size, key, count)]


def trace(pool_size: int, sources: Iterable[Any], count: int) -> Iterator[Step]:
    """Each selection step of the draw ``select`` makes, for the public record.

    The inputs are checked at once; the steps are produced lazily.
    """
    if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 0:
        raise ValueError(f"pool size must be a whole number >= 0, not {pool_size!r}")
    key = key_string(sources).encode("ascii")
    _check_count(pool_size, count)
    return (Step(i, digest.hex().upper(), remaining, index, position)
            for i, digest, remaining, index, position in _steps(pool_size, key, count))


def _check_count(size: int, count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"count must be a whole number, not {count!r}")
    if count < 0:
        raise ValueError(f"count must not be negative, not {count}")
    if count > size:
        raise ValueError(f"cannot select {count} from a pool of {size}")
    if count > MAX_SELECTIONS:
        raise ValueError(f"at most {MAX_SELECTIONS} selections")


def _steps(size: int, key: bytes, count: int) -> Iterator[tuple[int, bytes, int, int, int]]:
    """(counter, digest, remaining, index, position) for each step.

    The remaining list is never materialised; the ``index``-th remaining position is found
    in one of two equivalent ways, whichever is cheaper at the time (both give the same
    position, by definition):

    * while few candidates are removed (the first :data:`SPARSE_STEPS` steps, and at most a
      quarter of the pool), ``gone`` is the sorted list of removed positions: the position
      ``p`` sought is the least with ``p = index + #(gone <= p)``, reached by iterating
      ``n = #(gone <= index + n)`` up from ``#(gone <= index)`` until it no longer grows
      (a bisection of a C list, rarely more), and inserted in ``gone``;
    * after that, ``removed`` is a Fenwick tree counting removed candidates over positions
      ``1 .. P``, ``P`` the power of two >= ``size``: node ``j`` covers ``lowbit(j)``
      positions, so the number still present under it is ``lowbit(j) - removed[j]``.
      Descending by powers of two finds the ``index``-th present position in
      ``O(log size)``. The padding positions ``size+1 .. P`` count as present but come after
      every real one, so the descent never stops on them; the descent never reads node
      ``P``, so updates stop below it.

    A draw of ``k`` from ``N`` costs ``O(k log k)`` bisections plus a short list insertion
    per step while sparse, then ``O(N)`` (one zeroed list) plus ``O(k log N)``.
    """
    md5 = hashlib.md5
    from_bytes = int.from_bytes
    sparse = min(count, SPARSE_STEPS, size // 4)
    gone: list[int] = []
    insert = gone.insert
    for i in range(sparse):
        counter = i.to_bytes(2, "big")                 # sparse < RFC_COUNTER_LIMIT
        digest = md5(counter + key + counter, usedforsecurity=False).digest()
        remaining = size - i
        index = from_bytes(digest, "big") % remaining + 1
        n = bisect_right(gone, index)
        while n < len(gone) and gone[n] <= index + n:  # a removed position in the way
            n = bisect_right(gone, index + n, n + 1)   # gone[:n + 1] <= index + n
        position = index + n
        insert(n, position)
        yield i, digest, remaining, index, position
    if sparse == count:
        return
    top = 1 << (size - 1).bit_length() if size else 0
    removed = [0] * (top + 1)
    for node in gone:
        while node < top:
            removed[node] += 1
            node += node & -node
    # The descent's steps, top/2 down to 1, made once.
    steps = tuple(1 << j for j in reversed(range(top.bit_length() - 1)))
    for i in range(sparse, count):
        counter = i.to_bytes(2, "big") if i < RFC_COUNTER_LIMIT else counter_bytes(i)
        digest = md5(counter + key + counter, usedforsecurity=False).digest()
        remaining = size - i
        index = from_bytes(digest, "big") % remaining + 1
        position, rank = 0, index
        for step in steps:
            present = step - removed[position + step]
            if present < rank:
                position += step
                rank -= present
        position += 1
        node = position
        while node < top:
            removed[node] += 1
            node += node & -node
        yield i, digest, remaining, index, position
