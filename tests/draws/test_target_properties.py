"""Property-based tests of the target draw's pure part (pools, counts, cap) with the engine
and the public verifier: no database, so hypothesis can try many cases."""
import hashlib
import math
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from inspection.draws import entropy
from inspection.draws.engine import rfc3797, verify
from inspection.draws.target import operations as target

GRADES = "ABCD"
CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"

codes_st = st.lists(st.text(CODE_CHARS, min_size=18, max_size=18), unique=True, max_size=120)
ratio_st = st.integers(0, 100).map(lambda n: Decimal(n) / 100)
ratios_st = st.fixed_dictionaries({g: ratio_st.map(str) for g in GRADES})
source_st = st.lists(st.integers(0, 99), min_size=1, max_size=7)


@st.composite
def directories(draw):
    """Rows (code, grade), checks this year per code, the cap and the ratios."""
    codes = draw(codes_st)
    rows = [(c, draw(st.sampled_from(GRADES))) for c in codes]
    checks = {c: draw(st.integers(0, 4)) for c in codes if draw(st.booleans())}
    return rows, checks, draw(st.integers(1, 3)), draw(ratios_st)


@given(ratio_st, st.integers(0, 5000))
def test_count_is_ceil_of_ratio_times_size_at_least_one(ratio, size):
    n = target.draw_count(ratio, size)
    assert 0 <= n <= size
    if size == 0 or ratio == 0:
        assert n == 0
    else:
        assert n == max(1, math.ceil(ratio * size))
        assert n >= 1


@given(directories())
def test_pools_are_canonical_disjoint_and_respect_the_cap(data):
    rows, checks, cap, ratios = data
    pools = target.build_pools(rows, checks, cap, ratios)
    assert [p.grade for p in pools.pools] == list(GRADES)
    seen = set()
    for pool in pools.pools:
        assert pool.ids == sorted(pool.ids)
        assert not seen & set(pool.ids)
        seen |= set(pool.ids)
        for code in pool.ids:
            assert checks.get(code, 0) < cap          # at the cap: never in a pool
            assert dict(rows)[code] == pool.grade
        assert pool.count == target.draw_count(Decimal(ratios[pool.grade]), pool.size)
    at_cap = {c for c, _g in rows if checks.get(c, 0) >= cap}
    assert seen | at_cap == {c for c, _g in rows}
    assert pools.excluded_by_cap == len(at_cap)


@given(directories(), st.lists(source_st, min_size=1, max_size=3))
def test_draw_has_exact_counts_no_duplicates_and_is_repeatable(data, sources):
    rows, checks, cap, ratios = data
    pools = target.build_pools(rows, checks, cap, ratios)
    for pool in pools.pools:
        positions = rfc3797.select(pool.ids, sources, pool.count)
        assert len(positions) == pool.count
        assert len(set(positions)) == pool.count
        assert all(1 <= p <= pool.size for p in positions)
        picked = [pool.ids[p - 1] for p in positions]
        assert all(checks.get(c, 0) + 1 <= cap for c in picked)   # the cap is never exceeded
        again = target.build_pools(list(reversed(rows)), dict(checks), cap, dict(ratios))
        assert rfc3797.select(again.pools[GRADES.index(pool.grade)].ids, sources,
                              pool.count) == positions


def _record(pools: target.Pools, sources: list, secret: str):
    texts = {p.grade: verify.pool_file_bytes(p.ids) for p in pools.pools}
    all_sources = sources + [[secret]]
    results = []
    for p in pools.pools:
        positions = rfc3797.select(p.ids, all_sources, p.count)
        results.append({"pool": p.grade, "positions": positions,
                        "selected": [p.ids[i - 1] for i in positions]})
    record = {
        "algorithm": rfc3797.ALGORITHM, "draw_id": "DRAW-2026-0001", "task": {"id": 1},
        "commitment": {
            "pools": [{"name": p.grade, "file": f"pool-{p.grade}.txt",
                       "sha256": hashlib.sha256(texts[p.grade]).hexdigest(), "size": p.size,
                       "count": p.count} for p in pools.pools],
            "sources_declared": [{"name": f"source {i}"} for i in range(len(sources))],
            "secret_commitments": [{"party": "office",
                                    "sha256": verify.secret_commitment(secret)}],
            "committed_at": "2026-03-25T10:00:00+08:00"},
        "execution": {"sources": sources,
                      "secrets_revealed": [{"party": "office", "secret": secret}],
                      "key_string": rfc3797.key_string(all_sources),
                      "executed_at": "2026-03-28T16:30:00+08:00"},
        "results": results}
    return record, texts


@settings(max_examples=60)
@given(directories(), st.lists(source_st, min_size=1, max_size=2), st.data())
def test_verifier_catches_any_change_of_a_pool_file_or_a_source_value(data, sources, more):
    rows, checks, cap, ratios = data
    pools = target.build_pools(rows, checks, cap, ratios)
    record, texts = _record(pools, sources, "5d41402abc4b2a76b9719d911017c592")
    assert verify.verify(record, texts) == []

    # a pool file changed: a line dropped, added or replaced
    grade = more.draw(st.sampled_from(GRADES))
    lines = texts[grade].decode().splitlines()
    how = more.draw(st.sampled_from(["drop", "add", "replace"]))
    if how == "drop" and lines:
        lines.pop(more.draw(st.integers(0, len(lines) - 1)))
    elif how == "replace" and lines:
        i = more.draw(st.integers(0, len(lines) - 1))
        lines[i] = lines[i][:-1] + ("1" if lines[i][-1] != "1" else "2")
    else:
        lines.append("Y" * 18 if "Y" * 18 not in lines else "0" * 18)
    changed = dict(texts, **{grade: "".join(f"{x}\n" for x in lines).encode()})
    assert verify.verify(record, changed)

    # a source value changed to a different number
    i = more.draw(st.integers(0, len(sources) - 1))
    j = more.draw(st.integers(0, len(sources[i]) - 1))
    new = more.draw(st.integers(0, 99).filter(lambda v: v != sources[i][j]))
    altered = [list(s) for s in sources]
    altered[i][j] = new
    if sorted(altered[i]) != sorted(sources[i]):   # a numeric source is a multiset
        tampered = dict(record, execution=dict(record["execution"], sources=altered))
        assert verify.verify(tampered, texts)


def test_split_values_accepts_chinese_separators():
    assert entropy.split_values(" 5，0、8 ") == ["5", "0", "8"]
    assert entropy.split_values("03 09 12,18;25") == ["03", "09", "12", "18", "25"]
