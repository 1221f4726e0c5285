"""The team assignment (``teams-v1``): who goes on which visit, given the draw's permutation.

A team draw is one RFC 3797 selection over the department's eligible inspectors, drawing all
of them: the result is a full permutation (draw order). This module turns that permutation
and the per-visit eligibility written in the commitment into teams and reserve orders. It is
pure and uses the standard library only, so that ``verify.py`` can load it as a sibling file
and re-run the assignment from a published record.

The rule (documented in docs/draws.md, "Team draws"):

1. Visits are taken in the order given (the commitment lists them by visit number).
2. For each visit, its eligible inspectors are ordered by (number of visits assigned so far in
   this draw, rank in the permutation); the first ``required`` of them form the team, in that
   order. The first member of the lead department's team is the team leader.
3. The other eligible inspectors of the visit, in permutation order, are its reserve order
   (递补): the next unused one steps in when an approved substitution asks for it.

Because every visit takes the least-used eligible inspectors first, an inspector's number of
visits stays within one of everybody else's whenever the visits share the same eligible
inspectors; exclusions (recusal) can only make it uneven where the pool does not allow better.
"""
from __future__ import annotations

from typing import Iterable, Sequence

ALGORITHM = "teams-v1"


def assign(permutation: Sequence[str], visits: Iterable[dict]) -> list[dict]:
    """The teams and reserve orders.

    ``permutation``: inspector keys in draw order (each once).
    ``visits``: dicts with ``visit`` (an identifier), ``eligible`` (inspector keys, any order)
    and ``required`` (team size, at least 1).
    Returns one ``{"visit", "team", "reserve"}`` per visit, in the same order.
    Raises ``ValueError`` for a key missing from the permutation, a repeated key, or a visit
    with fewer eligible inspectors than required.
    """
    rank: dict[str, int] = {}
    for n, key in enumerate(permutation):
        if not isinstance(key, str) or not key:
            raise ValueError(f"permutation entry {n + 1} is not an inspector key")
        if key in rank:
            raise ValueError(f"inspector {key} appears twice in the permutation")
        rank[key] = n
    load = dict.fromkeys(rank, 0)
    out = []
    for visit in visits:
        label = visit.get("visit")
        eligible = list(visit.get("eligible") or [])
        required = visit.get("required")
        if not isinstance(required, int) or isinstance(required, bool) or required < 1:
            raise ValueError(f"visit {label}: required {required!r} is not a whole number >= 1")
        if len(set(eligible)) != len(eligible):
            raise ValueError(f"visit {label}: an eligible inspector is listed twice")
        for key in eligible:
            if key not in rank:
                raise ValueError(f"visit {label}: eligible inspector {key} is not in the pool")
        if len(eligible) < required:
            raise ValueError(f"visit {label}: {len(eligible)} eligible inspectors, "
                             f"{required} required")
        by_load = sorted(eligible, key=lambda k: (load[k], rank[k]))
        team = by_load[:required]
        for key in team:
            load[key] += 1
        chosen = set(team)
        reserve = sorted((k for k in eligible if k not in chosen), key=rank.__getitem__)
        out.append({"visit": label, "team": team, "reserve": reserve})
    return out


def loads(assignment: Iterable[dict]) -> dict[str, int]:
    """Number of visits per inspector in an assignment."""
    counts: dict[str, int] = {}
    for entry in assignment:
        for key in entry["team"]:
            counts[key] = counts.get(key, 0) + 1
    return counts
