"""The public verifier: a good record passes, each tampered part is named, and the two files
work alone with nothing but the standard library."""
from __future__ import annotations

import copy
import hashlib
import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from inspection.draws.engine import rfc3797, verify as verifier
from inspection.draws.engine.verify import (parse_pool_file, pool_file_bytes, secret_commitment,
                                     sources_for, verify)

ROOT = Path(__file__).resolve().parents[2]
ENGINE_DIR = ROOT / "inspection" / "draws" / "engine"
SECRETS = {"bureau": "5d41402abc4b2a76b9719d911017c592",
           "supervisor": "7e240de74fb1ed08fa08d38063f6a6a9"}


def credit_codes(prefix: str, n: int) -> list[str]:
    """Made-up, deterministic 18-character ids (not valid check digits; the draw ignores them)."""
    return [("91" + prefix + hashlib.sha256(f"{prefix}{i}".encode()).hexdigest()[:15]).upper()
            for i in range(n)]


def make_record(pools: dict[str, list[str]], counts: dict[str, int]) -> dict:
    files = {name: pool_file_bytes(ids) for name, ids in pools.items()}
    record = {
        "algorithm": rfc3797.ALGORITHM,
        "draw_id": "DRAW-2025-0042",
        "task": {"id": 42, "title": "2025 年第一季度工资支付专项随机抽查"},
        "commitment": {
            "pools": [{"name": name, "file": f"pool-{name}.txt",
                       "sha256": hashlib.sha256(files[name]).hexdigest(),
                       "size": len(pools[name]), "count": counts[name]} for name in pools],
            "sources_declared": [
                {"name": "中国福利彩票双色球第 2025035 期开奖号码（红球与蓝球）",
                 "expected_at": "2025-03-27T21:15:00+08:00"},
                {"name": "上证综合指数 2025-03-28 收盘点位", "expected_at": "2025-03-28T15:00:00+08:00"},
            ],
            "secret_commitments": [{"party": party, "sha256": secret_commitment(secret)}
                                   for party, secret in SECRETS.items()],
            "committed_at": "2025-03-25T10:00:00+08:00",
        },
        "execution": {
            "sources": [[3, 9, 12, 18, 25, 31, 7], [3345.67]],
            "secrets_revealed": [{"party": party, "secret": secret}
                                 for party, secret in SECRETS.items()],
            "executed_at": "2025-03-28T16:30:00+08:00",
        },
        "results": [],
    }
    sources = sources_for(record)
    record["execution"]["key_string"] = rfc3797.key_string(sources)
    for name, ids in pools.items():
        ordered = parse_pool_file(files[name])
        positions = rfc3797.select(ordered, sources, counts[name])
        record["results"].append({"pool": name, "positions": positions,
                                  "selected": [ordered[p - 1] for p in positions]})
    return record


@pytest.fixture
def draw(tmp_path):
    """A two-pool draw written out as the bureau publishes it: record.json and pool files."""
    pools = {"A": credit_codes("A", 200), "B": credit_codes("B", 40)}
    record = make_record(pools, {"A": 12, "B": 5})
    texts = {name: pool_file_bytes(ids) for name, ids in pools.items()}
    return Draw(tmp_path, record, texts)


class Draw:
    def __init__(self, directory: Path, record: dict, texts: dict[str, bytes]):
        self.dir, self.record, self.texts = directory, record, texts
        self.write()

    def write(self) -> None:
        (self.dir / "record.json").write_text(json.dumps(self.record, ensure_ascii=False, indent=1),
                                              encoding="utf-8")
        for name, data in self.texts.items():
            (self.dir / f"pool-{name}.txt").write_bytes(data)

    def args(self) -> list[str]:
        # Made by hand, these records have no entries in a public log (tests/draws/
        # test_tlog_app.py checks those): --no-log, as for a draw older than the log.
        pools = [str(self.dir / f"pool-{name}.txt") for name in self.texts]
        return ["--no-log", str(self.dir / "record.json"), *pools]


def run(*args, cwd=ROOT, flags=()) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *flags, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def run_module(*args) -> subprocess.CompletedProcess:
    """The documented command. ``-m`` imports the ``inspection`` package (and Flask) first."""
    return run("-m", "inspection.draws.engine.verify", *args)


def run_script(*args) -> subprocess.CompletedProcess:
    """The same code run as a script: the engine comes from the sibling file, no package."""
    return run(str(ENGINE_DIR / "verify.py"), *args)


# --- a good record ----------------------------------------------------------------------------

def test_good_record_verifies(draw):
    result = run_module(*draw.args())
    assert (result.returncode, result.stdout) == (0, "OK\n"), result.stdout + result.stderr
    assert verify(draw.record, draw.texts) == []


def test_trace_prints_each_step(draw):
    result = run_module("--trace", *draw.args())
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"key string: {draw.record['execution']['key_string']}"
    assert lines[-1] == "OK"
    first = draw.record["results"][0]
    assert first["selected"][0] in result.stdout
    assert sum(1 for line in lines if line.strip().startswith(("1 ", "12 "))) >= 3


def test_key_string_joins_public_values_then_secrets(draw):
    assert draw.record["execution"]["key_string"] == (
        "3.7.9.12.18.25.31./3345.67/"
        "5d41402abc4b2a76b9719d911017c592./7e240de74fb1ed08fa08d38063f6a6a9./")


def test_json_decimals_read_exactly(draw):
    """The CLI reads 3345.67 as Decimal; the app may hold a float: both give one key string."""
    record = json.loads((draw.dir / "record.json").read_text(encoding="utf-8"),
                        parse_float=Decimal)
    assert rfc3797.key_string(sources_for(record)) == draw.record["execution"]["key_string"]


def test_explicit_pool_names(draw):
    (draw.dir / "pool-A.txt").rename(draw.dir / "downloaded.txt")
    result = run_script("--no-log", str(draw.dir / "record.json"),
                        f"A={draw.dir / 'downloaded.txt'}", str(draw.dir / "pool-B.txt"))
    assert (result.returncode, result.stdout) == (0, "OK\n"), result.stdout + result.stderr


# --- tampering, through the command line ------------------------------------------------------

def tamper_pool_line(d: Draw):
    lines = d.texts["A"].decode().splitlines()
    lines[4] = lines[4][:-1] + ("0" if lines[4][-1] != "0" else "1")
    d.texts["A"] = ("\n".join(sorted(lines)) + "\n").encode()


def tamper_pool_hash(d: Draw):
    d.record["commitment"]["pools"][1]["sha256"] = hashlib.sha256(b"other").hexdigest()


def tamper_source_value(d: Draw):
    d.record["execution"]["sources"][0][2] = 13


def tamper_source_value_without_key_string(d: Draw):
    del d.record["execution"]["key_string"]
    d.record["execution"]["sources"][1] = [3345.68]


def tamper_secret(d: Draw):
    d.record["execution"]["secrets_revealed"][1]["secret"] = "7e240de74fb1ed08fa08d38063f6a6aa"


def tamper_position(d: Draw):
    positions = d.record["results"][0]["positions"]
    positions[2], positions[3] = positions[3], positions[2]


@pytest.mark.parametrize("tamper, expected", [
    (tamper_pool_line, ["pool A (pool-A.txt): SHA-256 differs from the commitment",
                        "pool A: selection not re-run because its pool file failed"]),
    (tamper_pool_hash, ["pool B (pool-B.txt): SHA-256 differs from the commitment: committed "
                        + hashlib.sha256(b"other").hexdigest()]),
    (tamper_source_value, ["execution.key_string: the record says '3.7.9.12.18.25.31./",
                           "the sources give '3.7.9.13.18.25.31./"]),
    (tamper_source_value_without_key_string, ["pool A: pick 1 differs: the record has position",
                                              "pool B: pick 1 differs"]),
    (tamper_secret, ["secret of party supervisor: SHA-256 of the revealed secret is "
                     + secret_commitment("7e240de74fb1ed08fa08d38063f6a6aa")
                     + ", the commitment is " + secret_commitment(SECRETS["supervisor"])]),
    (tamper_position, ["pool A: pick 3 differs: the record has position"]),
])
def test_tampering_is_named(draw, tamper, expected):
    tamper(draw)
    draw.write()
    result = run_module(*draw.args())
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("FAILED: ")
    for text in expected:
        assert text in result.stdout, result.stdout
    assert "OK" not in result.stdout.splitlines()


def test_position_message_gives_both_picks(draw):
    record = draw.record
    good = record["results"][0]["positions"][:]
    tamper_position(draw)
    ids = parse_pool_file(draw.texts["A"])
    assert verify(record, draw.texts) == [
        f"pool A: pick 3 differs: the record has position {good[3]} ({ids[good[3] - 1]}), "
        f"the re-run gives {good[2]} ({ids[good[2] - 1]})"]


# --- tampering and malformed records, through verify() -----------------------------------------

def problems_after(draw: Draw, change) -> list[str]:
    record = copy.deepcopy(draw.record)
    texts = dict(draw.texts)
    change(record, texts)
    return verify(record, texts)


def test_selected_id_changed(draw):
    def change(record, texts):
        record["results"][1]["selected"][1] = "91B000000000000000"
    [problem] = problems_after(draw, change)
    assert problem.startswith(
        "pool B: pick 2 differs: the record has selected id '91B000000000000000'")


def test_result_too_short(draw):
    def change(record, texts):
        record["results"][0]["positions"].pop()
    assert problems_after(draw, change) == [
        "pool A: the record lists 11 positions, the committed count is 12"]


def test_missing_result_and_unknown_pool(draw):
    def change(record, texts):
        record["results"][1]["pool"] = "C"
    assert problems_after(draw, change) == ["results: pool C was not committed to",
                                            "pool B: no result in the record"]


def test_secret_not_revealed(draw):
    def change(record, texts):
        del record["execution"]["secrets_revealed"][0]
    problems = problems_after(draw, change)
    assert "secret of party bureau: committed but not revealed" in problems
    assert "pool A: selection not re-run because the sources failed the checks above" in problems


def test_secret_revealed_by_uncommitted_party(draw):
    def change(record, texts):
        record["execution"]["secrets_revealed"].append({"party": "mallory", "secret": "00ff"})
    assert problems_after(draw, change)[0] == \
        "secret of party mallory: revealed but never committed"


def test_source_count_must_match_declaration(draw):
    def change(record, texts):
        record["execution"]["sources"].append([1])
    assert "execution.sources has 3 sources, commitment.sources_declared declares 2" in \
        problems_after(draw, change)


def test_execution_must_follow_commitment(draw):
    def change(record, texts):
        record["execution"]["executed_at"] = "2025-03-25T01:59:00Z"
    assert problems_after(draw, change)[0] == (
        "execution.executed_at (2025-03-25T01:59:00Z) is not after "
        "commitment.committed_at (2025-03-25T10:00:00+08:00)")


def test_wrong_algorithm(draw):
    def change(record, texts):
        record["algorithm"] = "rfc3797-v2"
    assert problems_after(draw, change) == [
        "algorithm: the record says 'rfc3797-v2', this verifier implements 'rfc3797-v1'"]


def test_pool_file_missing(draw):
    def change(record, texts):
        del texts["B"]
    problems = problems_after(draw, change)
    assert problems[0] == "pool B: no pool file given (the record names pool-B.txt)"


def test_non_canonical_pool_file_with_matching_hash(draw):
    def change(record, texts):
        texts["B"] = texts["B"].replace(b"\n", b"\r\n")
        record["commitment"]["pools"][1]["sha256"] = hashlib.sha256(texts["B"]).hexdigest()
    assert problems_after(draw, change)[0] == (
        "pool B (pool-B.txt): not a canonical pool file: "
        "has CR characters; lines must end with LF only")


def test_pool_size_must_match(draw):
    def change(record, texts):
        record["commitment"]["pools"][0]["size"] = 201
    assert problems_after(draw, change)[0] == (
        "pool A (pool-A.txt): the commitment says 201 candidates, the file has 200")


# --- usage errors -----------------------------------------------------------------------------

def test_usage_errors_exit_2(draw, tmp_path):
    assert run_script().returncode == 2
    assert run_script(str(draw.dir / "record.json")).returncode == 2          # no pool file
    missing = run_script(str(tmp_path / "nope.json"), str(draw.dir / "pool-A.txt"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    bad = run_script(str(tmp_path / "bad.json"), str(draw.dir / "pool-A.txt"))
    assert bad.returncode == 2 and "not a JSON document" in bad.stderr
    (tmp_path / "stray.txt").write_bytes(b"X\n")
    stray = run_script(str(draw.dir / "record.json"), str(tmp_path / "stray.txt"))
    assert stray.returncode == 2 and "pool-A.txt, pool-B.txt" in stray.stderr


# --- nothing but the standard library ---------------------------------------------------------

def test_standalone_copy_needs_nothing_else(draw, tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    for name in ("verify.py", "rfc3797.py"):
        shutil.copy(ENGINE_DIR / name, alone / name)
    # -I: ignore the environment and the user's site; -S: no site-packages, so no Flask.
    result = run("verify.py", *draw.args(), cwd=alone, flags=("-I", "-S"))
    assert (result.returncode, result.stdout) == (0, "OK\n"), result.stdout + result.stderr
    tamper_secret(draw)
    draw.write()
    result = run("verify.py", *draw.args(), cwd=alone, flags=("-I", "-S"))
    assert result.returncode == 1 and "secret of party supervisor" in result.stdout


def test_script_in_the_tree_does_not_import_the_package(draw):
    script = (
        "import runpy, sys\n"
        f"sys.argv = ['verify.py', *{draw.args()!r}]\n"
        "try:\n"
        f"    runpy.run_path({str(ENGINE_DIR / 'verify.py')!r}, run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "assert not loaded & {'flask', 'sqlalchemy', 'inspection'}, loaded\n"
        "print('clean')\n")
    result = run("-c", script, cwd=ROOT.parent)
    assert result.stdout.splitlines() == ["OK", "clean"], result.stdout + result.stderr


def test_package_import_shares_the_engine():
    assert verifier.rfc3797 is rfc3797


# --- pool files -------------------------------------------------------------------------------

def test_pool_file_round_trip():
    data = pool_file_bytes(["91B", "91A", "91C"])
    assert data == b"91A\n91B\n91C\n"
    assert parse_pool_file(data) == ["91A", "91B", "91C"]
    assert pool_file_bytes([]) == b"" and parse_pool_file(b"") == []


@pytest.mark.parametrize("data, message", [
    (b"91A\n91B", "the last line does not end with LF"),
    (b"91B\n91A\n", "line 2 ('91A') is out of order after '91B'"),
    (b"91A\n91A\n", "line 2 repeats '91A'"),
    (b"91A\n\n91B\n", "line 2 is empty"),
    (b"91A \n", "line 1 ('91A ') has leading or trailing white space"),
    (b"\xef\xbb\xbf91A\n", "starts with a byte-order mark"),
    (b"\xff\n", "not UTF-8 (byte 0)"),
])
def test_pool_file_rules(data, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_pool_file(data)


def test_pool_file_bytes_rejects_duplicates_and_blanks():
    with pytest.raises(ValueError):
        pool_file_bytes(["91A", "91A"])
    with pytest.raises(ValueError):
        pool_file_bytes(["91A", " 91B"])
