"""The pure team assignment (teams.assign) and the verifier's check of team records."""
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspection.draws.engine import rfc3797, teams, verify

ENGINE_DIR = Path(verify.__file__).resolve().parent


def keys(n):
    return [f"INS-{i:06d}" for i in range(1, n + 1)]


@st.composite
def problems(draw, full=False):
    """A permutation of n inspectors and visits each with an eligible subset and a size."""
    n = draw(st.integers(min_value=2, max_value=14))
    pool = keys(n)
    permutation = draw(st.permutations(pool))
    visits = []
    for v in range(draw(st.integers(min_value=0, max_value=12))):
        if full:
            eligible = list(pool)
        else:
            eligible = draw(st.lists(st.sampled_from(pool), unique=True, min_size=1))
        required = draw(st.integers(min_value=1, max_value=len(eligible)))
        visits.append({"visit": f"2026-{v + 1:04d}", "eligible": eligible, "required": required})
    return permutation, visits


@given(problems())
def test_teams_have_the_required_size_no_duplicate_and_only_eligible_members(case):
    permutation, visits = case
    result = teams.assign(permutation, visits)
    assert [r["visit"] for r in result] == [v["visit"] for v in visits]
    for visit, entry in zip(visits, result):
        assert len(entry["team"]) == visit["required"]
        assert len(set(entry["team"])) == len(entry["team"])
        assert set(entry["team"]) <= set(visit["eligible"])          # no recused member ever
        assert not set(entry["reserve"]) & set(entry["team"])          # reserve excludes team
        assert set(entry["reserve"]) | set(entry["team"]) == set(visit["eligible"])
        order = {k: n for n, k in enumerate(permutation)}
        assert entry["reserve"] == sorted(entry["reserve"], key=order.__getitem__)


@given(problems())
def test_same_inputs_same_output(case):
    permutation, visits = case
    assert teams.assign(list(permutation), copy.deepcopy(visits)) == \
        teams.assign(permutation, visits)


@given(problems(full=True))
def test_balance_within_one_when_every_visit_shares_the_pool(case):
    permutation, visits = case
    result = teams.assign(permutation, visits)
    counts = teams.loads(result)
    totals = [counts.get(k, 0) for k in permutation]
    if visits:
        assert max(totals) - min(totals) <= 1


@given(problems(full=True), st.data())
def test_balance_with_a_common_required_size(case, data):
    """Teams of two from one pool: everybody is used before anybody goes twice."""
    permutation, visits = case
    for v in visits:
        v["required"] = min(2, len(permutation))
    counts = teams.loads(teams.assign(permutation, visits))
    totals = [counts.get(k, 0) for k in permutation]
    if visits:
        assert max(totals) - min(totals) <= 1


def test_least_used_first_then_permutation_order():
    perm = ["INS-000003", "INS-000001", "INS-000002", "INS-000004"]
    visits = [{"visit": "1", "eligible": keys(4), "required": 2},
              {"visit": "2", "eligible": keys(4), "required": 2},
              {"visit": "3", "eligible": ["INS-000001", "INS-000002", "INS-000003"],
               "required": 2}]
    result = teams.assign(perm, visits)
    assert result[0] == {"visit": "1", "team": ["INS-000003", "INS-000001"],
                         "reserve": ["INS-000002", "INS-000004"]}
    assert result[1]["team"] == ["INS-000002", "INS-000004"]
    assert result[1]["reserve"] == ["INS-000003", "INS-000001"]
    # all have one visit now: permutation order among the eligible
    assert result[2]["team"] == ["INS-000003", "INS-000001"]
    assert result[2]["reserve"] == ["INS-000002"]


@pytest.mark.parametrize("visits, message", [
    ([{"visit": "1", "eligible": ["INS-000001"], "required": 2}], "1 eligible inspectors, 2"),
    ([{"visit": "1", "eligible": ["INS-000009", "INS-000001"], "required": 1}], "not in the pool"),
    ([{"visit": "1", "eligible": ["INS-000001", "INS-000001"], "required": 1}], "twice"),
    ([{"visit": "1", "eligible": ["INS-000001"], "required": 0}], "required"),
])
def test_refuses_impossible_inputs(visits, message):
    with pytest.raises(ValueError, match=message):
        teams.assign(keys(3), visits)


# --- the verifier --------------------------------------------------------------------------

def team_record(n=8):
    """A complete team record built with the public functions only, and its pool file."""
    pool = keys(n)
    data = verify.pool_file_bytes(pool)
    secrets = [("office", "a1b2c3d4e5f60718293a4b5c6d7e8f90"),
               ("supervisor", "0f1e2d3c4b5a69788796a5b4c3d2e1f0")]
    visits = [{"visit": "2026-0001", "required": 2, "eligible": pool[:6],
               "excluded": [{"inspector": pool[6], "reasons": ["conflict"]}]},
              {"visit": "2026-0002", "required": 2, "eligible": pool[2:], "excluded": []},
              {"visit": "2026-0003", "required": 3, "eligible": pool, "excluded": []}]
    record = {
        "algorithm": "rfc3797-v1", "draw_id": "DRAW-2026-0009", "kind": "team",
        "task": {"id": 1, "title": "t"},
        "commitment": {
            "algorithm": "rfc3797-v1", "draw_id": "DRAW-2026-0009", "kind": "team",
            "parameters": {"team_algorithm": "teams-v1", "pool": "inspectors", "visits": visits},
            "pools": [{"name": "inspectors", "file": "DRAW-2026-0009-pool-inspectors.txt",
                       "sha256": verify.sha256_hex(data), "size": n, "count": n}],
            "sources_declared": [{"name": "lottery"}],
            "secret_commitments": [{"party": p, "sha256": verify.secret_commitment(s)}
                                   for p, s in secrets],
            "committed_at": "2026-03-01T10:00:00+08:00"},
        "execution": {"sources": [[3, 14, 15, 92]],
                      "secrets_revealed": [{"party": p, "secret": s} for p, s in secrets],
                      "executed_at": "2026-03-02T10:00:00+08:00"},
    }
    sources = verify.sources_for(record)
    positions = rfc3797.select(pool, sources, n)
    selected = [pool[p - 1] for p in positions]
    record["results"] = [{"pool": "inspectors", "positions": positions, "selected": selected}]
    record["assignment"] = teams.assign(selected, visits)
    return record, {"inspectors": data}


def test_a_correct_team_record_verifies():
    record, texts = team_record()
    assert verify.verify(record, texts) == []


@pytest.mark.parametrize("change, expected", [
    (lambda r: r["assignment"][0]["team"].reverse(), "visit 2026-0001: the record has team"),
    (lambda r: r["assignment"][1]["reserve"].pop(), "visit 2026-0002: the record has reserve"),
    (lambda r: r["assignment"][2]["team"].__setitem__(0, "INS-000099"), "2026-0003"),
    (lambda r: r["commitment"]["parameters"]["visits"][0]["eligible"].remove(
        r["assignment"][0]["team"][0]), "visit 2026-0001"),
    (lambda r: r["assignment"].pop(), "assigns 2 visits"),
    (lambda r: r.pop("assignment"), "no assignment"),
    (lambda r: r["commitment"]["parameters"].update(team_algorithm="teams-v0"), "teams-v0"),
])
def test_a_changed_team_reserve_or_eligible_list_is_caught(change, expected):
    record, texts = team_record()
    change(record)
    problems = verify.verify(record, texts)
    assert problems, "the change went unnoticed"
    assert any(expected in p for p in problems), problems


def test_a_changed_eligible_list_that_still_assigns_the_same_is_caught_by_a_changed_team():
    """Adding an inspector to a visit's eligible list changes that visit's reserve (or team)."""
    record, texts = team_record()
    visit = record["commitment"]["parameters"]["visits"][0]
    visit["eligible"].append("INS-000008")
    problems = verify.verify(record, texts)
    assert any("2026-0001" in p for p in problems), problems


def test_standalone_verifier_checks_a_team_record(tmp_path):
    record, texts = team_record()
    alone = tmp_path / "alone"
    alone.mkdir()
    for name in ("verify.py", "rfc3797.py", "teams.py"):
        shutil.copy(ENGINE_DIR / name, alone / name)
    (alone / "record.json").write_text(json.dumps(record), encoding="utf-8")
    (alone / "DRAW-2026-0009-pool-inspectors.txt").write_bytes(texts["inspectors"])
    # --no-log: a record made by hand has no entries in a public log.
    run = [sys.executable, "-I", "-S", str(alone / "verify.py"), "--no-log",
           str(alone / "record.json"),
           str(alone / "DRAW-2026-0009-pool-inspectors.txt")]
    ok = subprocess.run(run, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.strip().endswith("OK")
    record["assignment"][0]["reserve"].reverse()
    (alone / "record.json").write_text(json.dumps(record), encoding="utf-8")
    bad = subprocess.run(run, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "visit 2026-0001" in bad.stdout


@settings(max_examples=30)
@given(st.integers(min_value=0, max_value=2), st.integers(min_value=0, max_value=7))
def test_any_swap_in_a_team_is_caught(visit, member):
    record, texts = team_record()
    entry = record["assignment"][visit]
    combined = entry["team"] + entry["reserve"]
    if member >= len(combined) or member < len(entry["team"]) and len(entry["reserve"]) == 0:
        return
    # swap a team member with a reserve (or two reserves): the record no longer matches
    if entry["reserve"]:
        i = member % len(entry["team"])
        entry["team"][i], entry["reserve"][0] = entry["reserve"][0], entry["team"][i]
        assert verify.verify(record, texts)
