"""The pool file checks made with whole-file operations (``verify.parse_pool_file``'s fast
path, ``commitments.pool_file``) accept and refuse exactly what the per-line checks do, and
the self-verification takes pre-parsed ids only for the very bytes they were parsed from."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from inspection.draws import commitments
from inspection.draws.engine import verify

#: Characters that make lines interesting: white space of every kind, line breaks, non-ASCII.
ODD = ["\n", " ", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u2028",
       "\u3000", "\ufeff", "A", "B", "9", "一", "é"]


def per_line(data: bytes) -> list[str]:
    """The per-line checks alone (the reference)."""
    if not data:
        return []
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        raise ValueError("bom")
    if "\r" in text:
        raise ValueError("cr")
    if not text.endswith("\n"):
        raise ValueError("no final lf")
    ids = text[:-1].split("\n")
    for before, after in zip([None, *ids], ids):
        if not after or after != after.strip():
            raise ValueError("empty or white space")
        if before is not None and not before < after:
            raise ValueError("order")
    return ids


def outcome(check, data):
    try:
        return check(data)
    except ValueError:
        return "refused"


texts = st.lists(st.sampled_from(ODD), max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_fast_checks_agree_with_the_per_line_checks(text):
    data = text.encode("utf-8")
    assert outcome(verify.parse_pool_file, data) == outcome(per_line, data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(ODD[1:]), min_size=0, max_size=4).map("".join),
                max_size=8))
def test_pool_file_agrees_with_pool_file_bytes(ids):
    expected = outcome(verify.pool_file_bytes, ids)
    try:
        found = commitments.pool_file(ids)[0]
    except ValueError:
        found = "refused"
    assert found == expected


def test_parsed_ids_are_taken_only_for_the_same_bytes():
    data = verify.pool_file_bytes(["91A", "91B", "91C"])
    wrong = ["91A", "91B", "91X"]
    pool = {"name": "A", "file": "a.txt", "sha256": verify.sha256_hex(data), "size": 3,
            "count": 1}
    for given_data, expect in ((data, wrong), (bytes(bytearray(data)), ["91A", "91B", "91C"])):
        problems: list[str] = []
        checked = verify._check_pools({"pools": [pool]}, {"A": data}, problems,
                                      {"A": (given_data, wrong)})
        assert not problems and checked == [(pool, expect)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["91A", "91B", "91C", "92A", "9", "A"]), max_size=8),
       st.sampled_from([0, 1, 2]))
def test_pools_made_by_grade_say_whether_they_are_increasing(codes, cap):
    from inspection.draws.target import operations as target

    pools = target.pools_by_grade({"A": list(codes)}, {"91B": 2}, cap, {"A": "0.5"})
    pool = pools.pools[0]
    assert pool.increasing == (len(set(codes)) == len(codes))
    expected = outcome(verify.pool_file_bytes, pool.ids)
    try:
        found = commitments.pool_file(pool.ids, pool.increasing)[0]
    except ValueError:
        found = "refused"
    assert found == expected
