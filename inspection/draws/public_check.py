"""What a draw's public page says about checking it without trusting the bureau: the recipe
of RFC 3797 with this draw's own values filled in (the key string made from its sources, the
first step of each pool, what to type into the RFC's reference program) and, for a team
draw, how the team rule shared out the inspectors, including the ones who always work
together. Everything is worked out with the engine the verifier uses (``engine/``), from the
record as published, so the page cannot say one thing and the record another.

Nothing is shown before the record is public in full: while an unannounced draw's list is
withheld (:mod:`.disclosure`) its secrets and key string are not public either.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from .engine import rfc3797
from .engine.verify import sources_for

#: The RFC's reference program keeps positions in unsigned shorts.
REFERENCE_POOL_LIMIT = 65535
#: ... reads up to 16 numbers on a source's line, each into a C long (64 bits here).
REFERENCE_VALUES_LIMIT = 16
REFERENCE_LONG_LIMIT = 2 ** 63


def guide(draw, shown=None) -> dict | None:
    """The page's "check it without trusting us" values, or None when there is nothing to
    show yet (not executed, withheld, or a record the verifier would refuse anyway)."""
    record = draw.record
    if not record or draw.status != "executed" or (shown is not None and not shown.complete):
        return None
    try:
        sources = sources_for(record)
        key = rfc3797.key_string(sources)
        steps = _sources(record)
        pools = _pools(record, sources)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None
    out = {"key": key, "sources": steps, "pools": pools,
           "reference": _reference(steps, pools), "team": None}
    if record.get("kind") == "team":
        out["team"] = _team(record)
    return out


def _sources(record: dict) -> list[dict]:
    """Each source in key-string order: what it is, its values as published, its part of
    the key string, and the line to type into the RFC's reference program (None for text)."""
    declared = record["commitment"].get("sources_declared") or []
    revealed = {e["party"]: e["secret"] for e in record["execution"]["secrets_revealed"]}
    rows = []
    for n, values in enumerate(record["execution"]["sources"]):
        values = values if isinstance(values, list) else [values]
        rows.append({"declared": declared[n] if n < len(declared) else {}, "party": None,
                     "values": values, "part": rfc3797.key_string([values]),
                     "line": _program_line(values)})
    for entry in record["commitment"]["secret_commitments"]:
        secret = revealed[entry["party"]]
        rows.append({"declared": None, "party": entry["party"], "values": [secret],
                     "part": rfc3797.key_string([[secret]]), "line": _program_line([secret])})
    return rows


def _numbers(values: list) -> list[Decimal] | None:
    parsed = [rfc3797._parse_value(v, 1) for v in values]
    return parsed if all(isinstance(p, Decimal) for p in parsed) else None


def _program_line(values: list) -> str | None:
    """A numeric source as the reference program reads it: whole numbers as they are (it
    sorts them itself); with any fraction, ``float`` and every value as x.y, sorted (it does
    not sort those)."""
    numbers = _numbers(values)
    if numbers is None:
        return None
    if all(n == n.to_integral_value() for n in numbers):
        return " ".join(rfc3797._number_string(n)[:-1] for n in numbers)
    written = [rfc3797._number_string(n) for n in sorted(numbers)]
    return "float " + " ".join(w + "0" if w.endswith(".") else w for w in written)


def _pools(record: dict, sources: list) -> list[dict]:
    """Per pool: its file, size and count, and the first step of its draw (the MD5 of the
    key string between two zero bytes, the divisor, the line it picks) with that line's id."""
    results = {r["pool"]: r for r in record.get("results", [])}
    rows = []
    for pool in record["commitment"]["pools"]:
        result = results.get(pool["name"], {})
        first = next(iter(rfc3797.trace(pool["size"], sources, min(1, pool["count"]))), None)
        selected = result.get("selected") or []
        rows.append({"name": pool["name"], "file": pool["file"], "size": pool["size"],
                     "count": pool["count"], "first": first,
                     "first_id": selected[0] if selected else None})
    return rows


def _reference(sources: list[dict], pools: list[dict]) -> dict:
    """Whether the RFC's reference program can re-run this draw as it is, and what to type:
    one line per numeric source, in order, and the text sources (the secrets) together as
    its "extra key material", which it appends followed by "./"."""
    numeric = [s for s in sources if s["line"] is not None]
    text = [s for s in sources if s["line"] is None]
    in_order = sources == numeric + text
    fits = all(p["size"] <= REFERENCE_POOL_LIMIT for p in pools) and all(
        len(s["values"]) <= REFERENCE_VALUES_LIMIT
        and all(abs(n) < REFERENCE_LONG_LIMIT for n in _numbers(s["values"])) for s in numeric)
    tail = "".join(s["part"] for s in text)
    return {"usable": in_order and fits, "lines": [s["line"] for s in numeric],
            "extra": tail[:-2] if tail else "", "big_pool": any(
                p["size"] > REFERENCE_POOL_LIMIT for p in pools)}


def _team(record: dict) -> dict[str, Any]:
    """The draw order and the groups of inspectors who were on exactly the same visits
    (two or more of them: with every visit open to the same inspectors, the rule cuts the
    draw order into consecutive teams that come round again, so these keep working
    together)."""
    params = record["commitment"].get("parameters") or {}
    order = next((r["selected"] for r in record["results"]
                  if r["pool"] == params.get("pool")), [])
    rank = {key: n for n, key in enumerate(order)}
    visits_of: dict[str, list[str]] = {}
    for entry in record.get("assignment", []):
        for key in entry["team"]:
            visits_of.setdefault(key, []).append(entry["visit"])
    together: dict[tuple, list[str]] = {}
    for key, visits in visits_of.items():
        together.setdefault(tuple(visits), []).append(key)
    groups = sorted(([sorted(keys, key=lambda k: rank.get(k, len(rank))), len(visits)]
                     for visits, keys in together.items() if len(keys) > 1),
                    key=lambda g: rank.get(g[0][0], len(rank)))
    return {"order": order, "required": params.get("required_per_visit"),
            "visits": len(record.get("assignment", [])),
            "groups": [{"keys": keys, "visits": n} for keys, n in groups]}
