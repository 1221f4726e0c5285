"""The RFC 3797 engine: the RFC's own worked example, the key-string rules, the counter
extension past 65,536 and the Fenwick-tree selection against a plain reference."""
from __future__ import annotations

import ast
import bisect
import hashlib
import time
from decimal import Decimal
from pathlib import Path

import pytest

from inspection.draws.engine import rfc3797
from inspection.draws.engine.rfc3797 import key_string, select, trace

# RFC 3797 section 6, "A Fully Worked Example".
RFC_SOURCES = [9319, [2, 5, 12, 8, 10], [9, 18, 26, 34, 41, 45]]
RFC_KEY = "9319./2.5.8.10.12./9.18.26.34.41.45./"
RFC_POOL = [
    "John", "Mary", "Bashful", "Dopey", "Sleepy", "Grouchy", "Doc", "Sneazy", "Handsome",
    "Cassandra", "Pollyanna", "Pendragon", "Pandora", "Faith", "Hope", "Charity", "Lee",
    "Longsuffering", "Chastity", "Smith", "Pride", "Sloth", "Envy", "Anger", "Kasczynski",
]
# The RFC's table: MD5 of the key string bracketed by 0x0000, 0x0001, ... 0x000F.
RFC_DIGESTS = [
    "990DD0A5692A029A98B5E01AA28F3459", "3691E55CB63FCC37914430B2F70B5EC6",
    "FE814EDF564C190AC1D25753979990FA", "1863CCACEB568C31D7DDBDF1D4E91387",
    "F4AB33DF4889F0AF29C513905BE1D758", "13EAEB529F61ACFB9A29D0BA3A60DE4A",
    "992DB77C382CA2BDB9727001F3CDCCD9", "63AB4258ECA922976811C7F55C383CE7",
    "DFBC5AC97CED01B3A6E348E3CC63F40D", "31CB111C4A4EBE9287CEAE16FE51B909",
    "07FA46C122F164C215BBC72793B189A3", "AC52F8D75CCBE2E61AFEB3387637D501",
    "53306F73E14FC0B2FBF434218D25948E", "B5D1403501A81F9A47318BE7893B347C",
    "85B10B356AA06663EF1B1B407765100A", "3269E6CE559ABD57E2BA6AAB495EB9BD",
]
# "Resulting first ten selected, in order selected", then the next in line (Sloth, 22).
RFC_SELECTED = ["Lee", "Doc", "Mary", "Charity", "Kasczynski",
                "Envy", "Sneazy", "Anger", "Chastity", "Pandora"]
RFC_POSITIONS_16 = [17, 7, 2, 16, 25, 23, 8, 24, 19, 13, 22, 5, 18, 9, 1, 4]


def naive_select(size: int, sources, count: int) -> list[int]:
    """The RFC's algorithm written out plainly: a list, pop by index."""
    key = key_string(sources).encode("ascii")
    remaining = list(range(1, size + 1))
    picked = []
    for i in range(count):
        width = 2 if i < 65536 else 4
        counter = i.to_bytes(width, "big")
        value = int.from_bytes(hashlib.md5(counter + key + counter).digest(), "big")
        picked.append(remaining.pop(value % len(remaining)))
    return picked


def removed_list_select(size: int, sources, count: int) -> list[int]:
    """A second independent reference for big pools: the sorted list of removed positions.

    The ``r``-th remaining position ``p`` satisfies ``p = r + #(removed <= p)``; iterate to
    the fixed point. Quadratic in the worst case but fine for k << N.
    """
    key = key_string(sources).encode("ascii")
    removed: list[int] = []
    picked = []
    for i in range(count):
        counter = i.to_bytes(2 if i < 65536 else 4, "big")
        rank = int.from_bytes(hashlib.md5(counter + key + counter).digest(), "big") % (size - i) + 1
        position = rank
        while True:
            nxt = rank + bisect.bisect_right(removed, position)
            if nxt == position:
                break
            position = nxt
        bisect.insort(removed, position)
        picked.append(position)
    return picked


# --- the RFC's worked example -----------------------------------------------------------------

def test_rfc_example_key_string():
    assert key_string(RFC_SOURCES) == RFC_KEY
    # The same values as typed: the single number as a string, the balls unsorted.
    assert key_string(["9319", ["2", "5", "12", "8", "10"], "9 18 26 34 41 45".split()]) == RFC_KEY


def test_rfc_example_digests_and_divisors():
    steps = list(trace(len(RFC_POOL), RFC_SOURCES, 16))
    assert [step.md5 for step in steps] == RFC_DIGESTS
    assert [step.counter for step in steps] == list(range(16))
    assert [step.remaining for step in steps] == list(range(25, 9, -1))
    assert [step.position for step in steps] == RFC_POSITIONS_16


def test_rfc_example_selection():
    positions = select(RFC_POOL, RFC_SOURCES, 10)
    assert [RFC_POOL[p - 1] for p in positions] == RFC_SELECTED
    assert positions == [17, 7, 2, 16, 25, 23, 8, 24, 19, 13]
    # "Should one of the above turn out to be ineligible ... the next would be Sloth (22)."
    assert RFC_POOL[select(RFC_POOL, RFC_SOURCES, 11)[-1] - 1] == "Sloth"


def test_trace_index_is_within_remaining_list():
    pool = RFC_POOL[:]
    for step in trace(len(RFC_POOL), RFC_SOURCES, 16):
        assert step.index == int(step.md5, 16) % step.remaining + 1
        assert RFC_POOL[step.position - 1] == pool.pop(step.index - 1)


# --- key strings ------------------------------------------------------------------------------

@pytest.mark.parametrize("sources, key", [
    ([[10, 9]], "9.10./"),
    ([["10", "9"]], "9.10./"),
    ([["09", "3"]], "3.9./"),
    ([0], "0./"),
    ([[0, 0]], "0.0./"),
    ([Decimal("1.250")], "1.25/"),
    ([[Decimal("2.0"), 1]], "1.2./"),
    ([[1.25, 3, 5]], "1.253.5./"),
    ([0.5], "0.5/"),
    ([Decimal("1E+2")], "100./"),
    ([["3.10"]], "3.1/"),
    (["０９"], "9./"),                                  # full-width digits
    ([[2, 2, 1]], "1.2.2./"),                           # repeats kept
    ([12345678901234567890123], "12345678901234567890123./"),
    (["a3f9c2"], "a3f9c2./"),                           # text: a committed secret
    ([["Hello, World!", "Zebra"]], "helloworld.zebra./"),  # text keeps the given order
    ([["b", "a"]], "b.a./"),
    ([["abc", "5"]], "abc.5./"),                       # a numeral inside a text source
    ([9319, "deadbeef", [1, 2]], "9319./deadbeef./1.2./"),
])
def test_key_string_rules(sources, key):
    assert key_string(sources) == key


@pytest.mark.parametrize("sources, error", [
    ([], ValueError),
    ([[]], ValueError),
    ([-1], ValueError),
    ([[3, Decimal("-0.5")]], ValueError),
    ([float("nan")], ValueError),
    ([Decimal("Infinity")], ValueError),
    ([["abc", 5]], ValueError),            # a number in a text source
    (["!!!"], ValueError),                 # text with nothing left
    (["中文"], ValueError),
    ([True], TypeError),
    ([None], TypeError),
    ("9319", TypeError),
    (9319, TypeError),
])
def test_key_string_rejects(sources, error):
    with pytest.raises(error):
        key_string(sources)


def test_select_rejects_empty_sources():
    with pytest.raises(ValueError):
        select(RFC_POOL, [], 3)


# --- selection ------------------------------------------------------------------------------

def test_deterministic():
    sources = [[3, 14, 15, 92, 65], "0f1e2d3c4b5a69788796a5b4c3d2e1f0"]
    first = select(range(5000), sources, 300)
    assert select(list(range(5000)), sources, 300) == first
    assert select(range(5000), [["65", "92", "15", "14", "3"], "0f1e2d3c4b5a69788796a5b4c3d2e1f0"],
                  300) == first
    assert select(range(5000), sources, 100) == first[:100]   # a shorter draw is a prefix
    assert select(range(5000), [[3, 14, 15, 92, 66], sources[1]], 300) != first


def test_whole_pool_is_a_permutation():
    for size in (1, 2, 7, 25, 64, 100):
        positions = select(range(size), RFC_SOURCES, size)
        assert sorted(positions) == list(range(1, size + 1))


def test_count_limits():
    assert select(RFC_POOL, RFC_SOURCES, 0) == []
    assert select([], RFC_SOURCES, 0) == []
    with pytest.raises(ValueError):
        select(RFC_POOL, RFC_SOURCES, 26)
    with pytest.raises(ValueError):
        select([], RFC_SOURCES, 1)
    with pytest.raises(ValueError):
        select(RFC_POOL, RFC_SOURCES, -1)
    with pytest.raises(TypeError):
        select(RFC_POOL, RFC_SOURCES, 2.0)
    with pytest.raises(ValueError):
        trace(-1, RFC_SOURCES, 0)
    with pytest.raises(ValueError):
        trace(3, RFC_SOURCES, 4)            # checked at the call, not on first step


def test_fast_selection_equals_naive_reference():
    sources_list = [RFC_SOURCES, [[7, 1, 33], "6b1c0e"], [Decimal("12.5"), 0, [4, 4]]]
    for size in range(1, 301):
        counts = sorted({0, 1, 2, size // 3, size // 2, size - 1, size})
        for sources in sources_list:
            for count in counts:
                if 0 <= count <= size:
                    fast = select(range(size), sources, count)
                    assert fast == naive_select(size, sources, count), (size, sources, count)


def test_counter_extension_past_65536():
    size, count = 70_000, 65_540
    steps = list(trace(size, RFC_SOURCES, count))
    key = RFC_KEY.encode("ascii")
    for step in (steps[0], steps[65_535]):
        two = step.counter.to_bytes(2, "big")
        assert step.md5 == hashlib.md5(two + key + two).hexdigest().upper()
    for step in steps[65_536:]:
        four = step.counter.to_bytes(4, "big")
        assert step.md5 == hashlib.md5(four + key + four).hexdigest().upper()
    positions = [step.position for step in steps]
    assert len(set(positions)) == count
    assert positions[:65_536] == select(range(size), RFC_SOURCES, 65_536)   # RFC part unchanged
    assert positions == naive_select(size, RFC_SOURCES, count)
    assert rfc3797.counter_bytes(65_535) == b"\xff\xff"
    assert rfc3797.counter_bytes(65_536) == b"\x00\x01\x00\x00"
    with pytest.raises(ValueError):
        rfc3797.counter_bytes(1 << 32)


def test_big_draw_from_a_million():
    sources = [[1, 8, 9, 14, 17, 20, 23], 76998828, "c0ffee"]
    started = time.perf_counter()
    positions = select(range(1_000_000), sources, 20_000)
    elapsed = time.perf_counter() - started
    print(f"\n20,000 of 1,000,000 drawn in {elapsed:.3f}s")   # shown with -s; not asserted
    assert len(positions) == 20_000 == len(set(positions))
    assert min(positions) >= 1 and max(positions) <= 1_000_000
    assert positions == removed_list_select(1_000_000, sources, 20_000)


def test_engine_is_pure():
    """Standard library only, and nothing that reads a clock or global random state."""
    tree = ast.parse(Path(rfc3797.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "bisect", "hashlib", "math", "re", "unicodedata", "decimal",
                        "typing"}


def test_the_contract_path_selects_as_the_rfc():
    """DESIGN.md's contract names ``inspection.draws.rfc3797.select``: other tools import that
    path, so it must keep answering as the engine does."""
    from inspection.draws.rfc3797 import select as contract_select

    picks = contract_select(RFC_POOL, RFC_SOURCES, 10)
    assert [RFC_POOL[p - 1] for p in picks] == RFC_SELECTED
