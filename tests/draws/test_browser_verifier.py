"""The browser's verifier (static/js/draw-engine.js, run by Node) against the Python engine
(inspection/draws/engine): the same key strings, picks and MD5 steps on generated sources and
pools, the same problems, word for word, on generated records good and tampered, and the same
verdict and picks on every draw of the demo bureau. Also the RFC 3797 worked example and the
RFC 9162 inclusion proofs of the transparency log's check."""
from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import random
import string
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from inspection.draws.engine import rfc3797, teams, tlog
from inspection.draws.engine.verify import (canonical_json, commitment_hash, pool_file_bytes,
                                            result_hash, secret_commitment, sources_for, verify)

NODE = "/usr/bin/node"
ROOT = Path(__file__).resolve().parents[2]
ENGINE_JS = ROOT / "static" / "js" / "draw-engine.js"

# Reads cases (JSON) and writes one answer per case; numbers in sources and records are read
# by the engine's own exact parser, as the page does.
RUNNER = r"""
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const engine = await import(pathToFileURL(process.argv[2]).href);
const logs = await import(pathToFileURL(process.argv[2].replace(/draw-engine\.js$/, "draw-log.js")).href);
const cases = JSON.parse(readFileSync(process.argv[3], "utf8"));
const bytes = (b64) => new Uint8Array(Buffer.from(b64, "base64"));
const out = [];
for (const c of cases) {
  if (c.op === "select") {
    try {
      const sources = engine.parseJson(c.sources);
      const key = engine.keyString(sources);
      const steps = engine.trace(c.size, sources, c.count);
      out.push({ key, positions: steps.map((s) => s.position), md5: steps.slice(0, 3).map((s) => s.md5) });
    } catch (error) {
      if (!(error instanceof engine.PyError)) throw error;
      out.push({ error: error.message });
    }
  } else if (c.op === "verify") {
    const record = engine.readRecord(bytes(c.record));
    const pools = new Map(Object.entries(c.pools).map(([name, data]) => [name, bytes(data)]));
    const report = await engine.verifyRecord(record, pools);
    const log = await logs.checkLog(record);  // verify.py checks the log last
    out.push({
      problems: [...report.problems, ...log.problems].map((p) => p.text),
      key: report.keyString,
      picks: Object.fromEntries(report.pools.filter((p) => p.ids).map((p) => [p.name, p.rows.map((r) => r.position)])),
      ok: report.pools.every((p) => p.rows.every((r) => r.ok)),
      teams: report.teams && report.teams.map((t) => ({ visit: t.visit, team: t.team, reserve: t.reserve })),
      log: log.status,
    });
  } else if (c.op === "canonical") {
    out.push(logs.canonicalJson(engine.parseJson(c.text)));
  } else if (c.op === "inclusion") {
    const hex = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));
    const leaf = await logs.leafHash(hex(c.data));
    out.push(await logs.verifyInclusion(leaf, c.index, c.size, c.path.map(hex), hex(c.root)));
  }
}
writeFileSync(process.argv[4], JSON.stringify(out));
"""


def run_node(cases: list[dict], tmp_path: Path) -> list:
    runner = tmp_path / "runner.mjs"
    runner.write_text(RUNNER, encoding="utf-8")
    given, answer = tmp_path / "cases.json", tmp_path / "answers.json"
    given.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    result = subprocess.run([NODE, str(runner), str(ENGINE_JS), str(given), str(answer)],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads(answer.read_text(encoding="utf-8"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- the RFC's worked example -----------------------------------------------------------------

def test_the_rfc_worked_example(tmp_path):
    sources = "[9319, [2, 5, 12, 8, 10], [9, 18, 26, 34, 41, 45]]"
    [answer] = run_node([{"op": "select", "sources": sources, "size": 25, "count": 16}], tmp_path)
    assert answer["key"] == "9319./2.5.8.10.12./9.18.26.34.41.45./"
    assert answer["md5"] == ["990DD0A5692A029A98B5E01AA28F3459",
                             "3691E55CB63FCC37914430B2F70B5EC6",
                             "FE814EDF564C190AC1D25753979990FA"]
    assert answer["positions"] == [17, 7, 2, 16, 25, 23, 8, 24, 19, 13, 22, 5, 18, 9, 1, 4]


# --- generated sources and pools --------------------------------------------------------------

def _number(rng: random.Random) -> str:
    """A JSON number literal of some kind: whole, fraction, exponent, huge, zero."""
    kind = rng.randrange(7)
    if kind == 0:
        return str(rng.randrange(100))
    if kind == 1:
        return str(rng.randrange(10**6)) + "." + str(rng.randrange(1000)).zfill(rng.randint(1, 4))
    if kind == 2:
        return f"{rng.randint(1, 99)}.{rng.randint(0, 99)}e{rng.choice('+-')}{rng.randint(0, 9)}"
    if kind == 3:
        return str(rng.randrange(2**53, 2**80))
    if kind == 4:
        return rng.choice(["0", "0.0", "-0", "-0.0", "0e5", "1E2", "2.50"])
    if kind == 5:
        return "0.000000" + str(rng.randint(1, 9))
    return str(rng.randrange(10**4)) + ".0"


def _numeral(rng: random.Random) -> str:
    """A numeral as text: leading zeros, full-width digits, surrounding white space."""
    text = str(rng.randrange(10**5)).zfill(rng.randint(1, 7))
    if rng.random() < 0.5:
        text += "." + str(rng.randrange(100))
    if rng.random() < 0.3:
        text = text.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    if rng.random() < 0.3:
        text = rng.choice([" ", "\u3000", "\t", "\xa0"]) + text + rng.choice([" ", "\n", "\u2003"])
    return text


def _text(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return secrets_hex(rng)
    if kind == 1:
        return "".join(rng.choice(string.ascii_letters + string.digits + " -_.") for _ in range(12))
    if kind == 2:
        return rng.choice(["Ｔｅｓｔ１２", "上证综合指数3345.67", "ＡＢＣ-ｘｙｚ", "Straße 9", "İstanbul"])
    return rng.choice(["-3", "+5", "1,000", "3.", ".5", "1e3", "0x1F"])


def secrets_hex(rng: random.Random) -> str:
    return "%032x" % rng.getrandbits(128)


def _source(rng: random.Random) -> str:
    kind = rng.randrange(10)
    if kind < 4:
        return "[" + ", ".join(_number(rng) for _ in range(rng.randint(1, 7))) + "]"
    if kind < 6:
        return "[" + ", ".join(json.dumps(_numeral(rng), ensure_ascii=False)
                               for _ in range(rng.randint(1, 4))) + "]"
    if kind < 8:
        return "[" + ", ".join(json.dumps(_text(rng), ensure_ascii=False)
                               for _ in range(rng.randint(1, 3))) + "]"
    if kind == 8:
        return _number(rng)  # a bare value stands for a one-value list
    # mistakes: empty, negative, mixed, nothing left, wrong type
    return rng.choice(["[]", "[-1]", "[-0.5]", '[1, "a"]', '["--"]', "[true]", "[null]",
                       '[{"a": 1}]', "[[1]]", '["", "x"]', "[1e-3]"])


def _selection_case(rng: random.Random) -> dict:
    sources = "[" + ", ".join(_source(rng) for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4]))) + "]"
    size = rng.choice([0, 1, 2, 3, 7, 25, 100, 999, 1000, 4096, 4097, rng.randrange(1, 20000)])
    count = rng.choice([0, size, size // 2, min(size, rng.randrange(0, 40)), rng.randrange(0, size + 1)])
    if rng.random() < 0.03:
        count = rng.choice([-1, size + 1])
    return {"op": "select", "sources": sources, "size": size, "count": count}


def _python_selection(case: dict) -> dict:
    sources = json.loads(case["sources"], parse_float=Decimal)
    try:
        key = rfc3797.key_string(sources)
        steps = list(rfc3797.trace(case["size"], sources, case["count"]))
    except (TypeError, ValueError) as exc:
        return {"error": str(exc)}
    return {"key": key, "positions": [s.position for s in steps],
            "md5": [s.md5 for s in steps[:3]]}


def test_generated_selections_agree_with_python(tmp_path):
    rng = random.Random(3797)
    cases = [_selection_case(rng) for _ in range(200)]
    # past the RFC's 2-byte counter: the 4-byte extension from step 65,536 on
    cases.append({"op": "select", "sources": '[["5d41402abc4b2a76b9719d911017c592"]]',
                  "size": 70000, "count": 65540})
    answers = run_node(cases, tmp_path)
    assert len(answers) == len(cases)
    errors = 0
    for case, answer in zip(cases, answers):
        expected = _python_selection(case)
        assert answer == expected, case
        errors += "error" in expected
    # the cases cover both outcomes well
    assert 20 <= errors <= 120, errors


# --- generated records, good and tampered -----------------------------------------------------

def _ids(rng: random.Random, n: int, team: bool) -> list[str]:
    found: set[str] = set()
    while len(found) < n:
        if team:
            found.add("INS-%06d" % rng.randrange(1, 10**6))
        else:
            found.add("91%016d%s" % (rng.randrange(10**16), rng.choice("0123456789ABCDXY")))
    return sorted(found)


def _public_value(rng: random.Random):
    kind = rng.randrange(4)
    if kind == 0:
        return [rng.randrange(1, 34) for _ in range(rng.randint(1, 7))]
    if kind == 1:
        return [round(rng.uniform(1000, 5000), 2)]           # an index close, e.g. 3345.67
    if kind == 2:
        return [str(rng.randrange(10**6)).zfill(7)]            # a numeral as published
    return [rng.randrange(10**8)]


def make_draw(rng: random.Random, team: bool) -> tuple[dict, dict[str, bytes]]:
    """A draw as the bureau publishes it: the record and the pool files by pool name."""
    names = ["inspectors"] if team else rng.sample(["A", "B", "C", "D"], rng.randint(1, 4))
    files, pools, counts = {}, {}, {}
    for name in names:
        size = rng.randint(1, 14) if team else rng.choice([0, 1, 2, 9, 40, 300, rng.randint(1, 3000)])
        pools[name] = _ids(rng, size, team)
        files[name] = pool_file_bytes(pools[name])
        counts[name] = size if team else rng.randint(0, size)
    public = [_public_value(rng) for _ in range(rng.randint(0, 2))]
    parties = {f"party-{k}": secrets_hex(rng) for k in range(rng.randint(0 if public else 1, 3))}
    record = {
        "algorithm": "rfc3797-v1", "draw_id": f"DRAW-2026-{rng.randrange(10**4):04d}",
        "task": {"id": 1, "title": "测试任务"},
        "commitment": {
            "pools": [{"name": name, "file": f"pool-{name}.txt",
                       "sha256": hashlib.sha256(files[name]).hexdigest(),
                       "size": len(pools[name]), "count": counts[name]} for name in names],
            "sources_declared": [{"name": f"公开来源 {k + 1}"} for k in range(len(public))],
            "secret_commitments": [{"party": p, "sha256": secret_commitment(s)}
                                   for p, s in parties.items()],
            "committed_at": "2026-03-25T10:00:00+08:00",
        },
        "execution": {"sources": public,
                      "secrets_revealed": [{"party": p, "secret": s} for p, s in parties.items()],
                      "executed_at": rng.choice(["2026-03-28T16:30:00.123456+08:00",
                                                 "2026-03-28T08:30:00Z"])},
        "results": [],
    }
    if public and rng.random() < 0.6:
        # the public mode's time lock: known after the commitment, entered, then used
        record["commitment"]["entropy_mode"] = "public"
        for declared in record["commitment"]["sources_declared"]:
            declared["available_at"] = "2026-03-27T21:15:00+08:00"
        record["execution"]["sources_entered"] = [{"entered_at": "2026-03-28T09:00:00+08:00"}
                                                  for _ in public]
    sources = sources_for(json.loads(json.dumps(record), parse_float=Decimal))
    if rng.random() < 0.8:
        record["execution"]["key_string"] = rfc3797.key_string(sources)
    for name in names:
        positions = rfc3797.select(pools[name], sources, counts[name])
        record["results"].append({"pool": name, "positions": positions,
                                  "selected": [pools[name][p - 1] for p in positions]})
    if team:
        people = pools["inspectors"]
        visits = []
        for k in range(rng.randint(1, 10)):
            eligible = rng.sample(people, rng.randint(1, len(people)))
            visits.append({"visit": f"2026-{k + 1:06d}", "eligible": eligible,
                           "required": rng.randint(1, min(3, len(eligible)))})
        record["kind"] = "team"
        record["commitment"]["parameters"] = {"team_algorithm": "teams-v1", "pool": "inspectors",
                                              "visits": visits}
        record["assignment"] = teams.assign(record["results"][0]["selected"], visits)
    if rng.random() < 0.5:
        add_log(record, rng)
    return record, files


LOG_SIGNER = tlog.Signer("log.example/draws", hashlib.sha256(b"test log key").digest())


def add_log(record: dict, rng: random.Random) -> None:
    """The draw's entries in a public log, as the bureau's record carries them: the
    commitment and the result among other draws' entries, each with its inclusion proof and
    the checkpoint signed when it was appended."""
    exact = json.loads(json.dumps(record), parse_float=Decimal)
    leaves: list[bytes] = []
    section = {"origin": "log.example/draws", "key": str(LOG_SIGNER.verifier)}

    def append(data: bytes) -> int:
        leaves.append(tlog.leaf_hash(data))
        return len(leaves) - 1

    for kind, digest, stamp in (("commitment", commitment_hash(exact["commitment"]),
                                 "2026-03-25T10:00:01.000000+08:00"),
                                ("result", result_hash(exact), "2026-03-28T16:30:05.000000+08:00")):
        for _ in range(rng.randint(0, 5)):           # other draws' entries
            append(rng.randbytes(rng.randint(1, 40)))
        text = canonical_json({"draw_id": record["draw_id"], "kind": kind, "sha256": digest,
                               "logged_at": stamp}).decode()
        index = append(text.encode())
        size = index + 1
        root = tlog.root(leaves[:size])
        proof = tlog.inclusion_proof(index, size, tlog.list_subtree(leaves[:size]))
        section[kind] = {"index": index, "entry": text, "tree_size": size,
                         "proof": [tlog.b64(h) for h in proof],
                         "checkpoint": LOG_SIGNER.sign_note(
                             tlog.Checkpoint(section["origin"], size, root).text())}
    record["log"] = section


def _flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return b"91000000000000000X\n"
    k = rng.randrange(len(data) - 1) if len(data) > 1 else 0
    if data[k:k + 1] == b"\n":
        k = max(0, k - 1)
    replacement = b"0" if data[k:k + 1] != b"0" else b"1"
    return data[:k] + replacement + data[k + 1:]


def _tampered(record: dict, files: dict[str, bytes], rng: random.Random):
    """Every way of altering the draw that applies to it, one at a time."""
    results = record["results"]
    first = next((r for r in results if len(r["positions"]) >= 2), None)
    name = record["commitment"]["pools"][0]["name"]

    def edit(change):
        altered = copy.deepcopy(record)
        change(altered)
        return altered, files

    yield "pool byte", (record, {**files, name: _flip(files[name], rng)})
    yield "pool missing", (record, {k: v for k, v in files.items() if k != name})
    yield "pool extra line", (record, {**files, name: files[name] + b"ZZZZ\n"})
    yield "pool unknown", (record, {**files, "Z": b"x\n"})
    if first:
        def swap(r):
            res = next(x for x in r["results"] if x["pool"] == first["pool"])
            res["positions"][0], res["positions"][1] = res["positions"][1], res["positions"][0]
        yield "positions swapped", edit(swap)

        def other_id(r):
            res = next(x for x in r["results"] if x["pool"] == first["pool"])
            res["selected"][-1] = "91000000000000000X"
        yield "selected id", edit(other_id)

        def shorter(r):
            res = next(x for x in r["results"] if x["pool"] == first["pool"])
            res["positions"].pop()
            res["selected"].pop()
        yield "one pick fewer", edit(shorter)

        def decimal_position(r):
            res = next(x for x in r["results"] if x["pool"] == first["pool"])
            res["positions"][0] = res["positions"][0] + 0.5
        yield "fractional position", edit(decimal_position)
    if record["execution"]["secrets_revealed"]:
        def secret(r):
            r["execution"]["secrets_revealed"][0]["secret"] = "0" * 32
        yield "secret", edit(secret)

        def unrevealed(r):
            r["execution"]["secrets_revealed"].pop()
        yield "secret withheld", edit(unrevealed)
    if record["execution"]["sources"]:
        def source(r):
            r["execution"]["sources"][0] = [7, 8, 9]
        yield "source value", edit(source)

        def bad_source(r):
            r["execution"]["sources"][0] = ["--"]
        yield "source with nothing left", edit(bad_source)

    def key(r):
        r["execution"]["key_string"] = "1./"
    yield "key string", edit(key)

    def withheld(r):
        r["withheld"] = {"why": "unannounced visits", "visits": 1, "until": "2026-12-31"}
    yield "withheld", edit(withheld)
    if record["commitment"].get("entropy_mode") == "public":
        def known_early(r):
            r["commitment"]["sources_declared"][0]["available_at"] = "2026-03-24T08:00:00+08:00"
        yield "source known before the commitment", edit(known_early)

        def entered_early(r):
            r["execution"]["sources_entered"][0]["entered_at"] = "2026-03-27T08:00:00+08:00"
        yield "value entered before it was known", edit(entered_early)

        def untimed(r):
            del r["commitment"]["sources_declared"][0]["available_at"]
        yield "public source without its time", edit(untimed)

        def unentered(r):
            del r["execution"]["sources_entered"]
        yield "no entry times", edit(unentered)

    def count(r):
        r["commitment"]["pools"][0]["count"] = 2.5
    yield "count not whole", edit(count)

    def digest(r):
        r["commitment"]["pools"][0]["sha256"] = "AB" * 32
    yield "hash upper case", edit(digest)

    def early(r):
        r["execution"]["executed_at"] = "2026-03-25T09:59:59+08:00"
    yield "executed before committed", edit(early)

    def naive(r):
        r["commitment"]["committed_at"] = "2026-03-25 10:00"
    yield "time without offset", edit(naive)

    def no_result(r):
        r["results"].pop(0)
    yield "result removed", edit(no_result)

    def algorithm(r):
        r["algorithm"] = "rfc3797-v2"
    yield "algorithm", edit(algorithm)

    def unsorted(r):
        pool = r["commitment"]["pools"][0]
        lines = files[pool["name"]].decode().splitlines()
        if len(lines) >= 2:
            lines[0], lines[1] = lines[1], lines[0]
        data = "".join(line + "\n" for line in lines).encode()
        pool["sha256"] = hashlib.sha256(data).hexdigest()
        return data
    altered = copy.deepcopy(record)
    data = unsorted(altered)
    yield "committed pool file not canonical", (altered, {**files, name: data})
    if "log" in record:
        def proof(r):
            part = r["log"]["result"]
            zero = base64.b64encode(bytes(32)).decode()
            part["proof"] = [zero] + part["proof"][1:] if part["proof"] else [zero]
        yield "log proof hash", edit(proof)

        def signature(r):
            note = r["log"]["commitment"]["checkpoint"]
            head, _, line = note.rstrip("\n").rpartition("\n")
            flipped = line[:-3] + ("A" if line[-3] != "A" else "B") + line[-2:]
            r["log"]["commitment"]["checkpoint"] = head + "\n" + flipped + "\n"
        yield "log checkpoint signature", edit(signature)

        def index(r):
            r["log"]["commitment"]["index"] += 1
        yield "log index", edit(index)

        def key(r):
            r["log"]["key"] = r["log"]["key"][:-4]
        yield "log key", edit(key)

        def unlogged(r):
            del r["log"]["result"]
        yield "log result missing", edit(unlogged)

        def origin(r):
            r["log"]["origin"] += "/other"
        yield "log origin", edit(origin)
    if record.get("kind") == "team":
        assignment = record["assignment"]
        pair = next((a for a in assignment if len(a["team"]) >= 1 and a["reserve"]), None)
        if pair:
            def member(r):
                a = next(x for x in r["assignment"] if x["visit"] == pair["visit"])
                a["team"][0], a["reserve"][0] = a["reserve"][0], a["team"][0]
            yield "team member swapped with reserve", edit(member)

        def dropped(r):
            r["assignment"].pop()
        yield "assignment removed", edit(dropped)

        def eligible(r):
            v = r["commitment"]["parameters"]["visits"][0]
            v["eligible"] = v["eligible"][:1] + ["INS-999999"]
        yield "eligible list changed", edit(eligible)

        def required(r):
            r["commitment"]["parameters"]["visits"][-1]["required"] = 99
        yield "more required than eligible", edit(required)

        def algorithm2(r):
            r["commitment"]["parameters"]["team_algorithm"] = "teams-v0"
        yield "team algorithm", edit(algorithm2)


def _verify_case(record: dict, files: dict[str, bytes]) -> tuple[dict, list[str]]:
    text = json.dumps(record, ensure_ascii=False, indent=1).encode()
    # what `python verify.py` does with the same bytes
    problems = verify(json.loads(text.decode(), parse_float=Decimal), files)
    return {"op": "verify", "record": b64(text),
            "pools": {k: b64(v) for k, v in files.items()}}, problems


def test_generated_records_agree_with_python(tmp_path):
    rng = random.Random(9162)
    cases, expected, labels = [], [], []
    for n in range(40):
        record, files = make_draw(rng, team=n % 3 == 2)
        case, problems = _verify_case(record, files)
        assert problems == [], problems
        cases.append(case), expected.append(problems)
        labels.append((n, "good", "log" in record))
        for label, (altered, altered_files) in _tampered(record, files, rng):
            case, problems = _verify_case(altered, altered_files)
            cases.append(case), expected.append(problems)
            labels.append((n, label, "log" in altered))
    answers = run_node(cases, tmp_path)
    failing = 0
    for label, answer, problems in zip(labels, answers, expected):
        assert answer["problems"] == problems, label
        # the log's own verdict: absent without a log block, failed exactly when a log check is
        assert (answer["log"] == "absent") == (not label[2]), label
        assert (answer["log"] == "failed") == any(p.startswith("log") for p in problems), label
        failing += bool(problems)
    assert sum(1 for label in labels if label[2]) >= 100  # many with a log, many without
    assert failing >= len(cases) - 40 - 20  # nearly every alteration is caught (a few are no-ops)


def test_picks_and_teams_are_shown_next_to_the_record(tmp_path):
    rng = random.Random(7)
    record, files = make_draw(rng, team=True)
    case, _ = _verify_case(record, files)
    [answer] = run_node([case], tmp_path)
    assert answer["ok"] and answer["problems"] == []
    assert answer["picks"] == {"inspectors": record["results"][0]["positions"]}
    assert answer["teams"] == record["assignment"]


# --- the demo bureau's draws --------------------------------------------------------------------

EXPORT = """
import base64, json
from app import app
from inspection.draws import public_log
from inspection.draws.models import Draw
from inspection.draws.target import operations as target
from inspection.draws.team import queries as team
from inspection.extensions import db
with app.test_request_context():
    client = app.test_client()
    out = []
    for draw in db.session.query(Draw).order_by(Draw.id):
        # the record as published once nothing of it is withheld (the demo's task is
        # unannounced and its visits have not all happened yet)
        body = team.public_team_record(draw) if draw.kind == "team" else target.public_record(draw)
        text = json.dumps(public_log.with_log(draw, body), ensure_ascii=False, indent=2) + "\\n"
        base = f"/public/draws/{draw.public_id}"
        out.append({"id": draw.public_id, "status": draw.status,
                    "record": base64.b64encode(text.encode()).decode(),
                    "pools": {p.name: base64.b64encode(client.get(f"{base}/pools/{p.name}.txt").data)
                              .decode() for p in draw.pools}})
    print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def demo_draws(tmp_path_factory) -> list[dict]:
    """Every draw of the demo bureau as the public downloads them (record.json and pool
    files), from a demo seeded in a database of its own."""
    tmp = tmp_path_factory.mktemp("demo")
    (tmp / "files").mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("INSPECTION_") and k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}", "INSPECTION_DEMO_MODE": "1",
                "SECRET_KEY": "verifier-test-secret-key-0123456789abcdef",
                "INSPECTION_FILE_STORE": str(tmp / "files")})
    for args in (["-m", "flask", "--app", "app", "init-db"],
                 ["-m", "flask", "--app", "app", "seed-demo", "--employers", "900"], ["-c", EXPORT]):
        result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_every_demo_draw_agrees_with_python(demo_draws, tmp_path):
    executed = [d for d in demo_draws if d["status"] == "executed"]
    assert {json.loads(base64.b64decode(d["record"])).get("kind", "target") for d in executed} \
        == {"target", "team"}
    rng = random.Random(2026)
    cases, expected = [], []
    for draw in executed:
        record_bytes = base64.b64decode(draw["record"])
        files = {k: base64.b64decode(v) for k, v in draw["pools"].items()}
        record = json.loads(record_bytes.decode(), parse_float=Decimal)
        # Whatever Python finds (nothing, for a sound demo), the browser must find the same.
        cases.append({"op": "verify", "record": draw["record"], "pools": draw["pools"]})
        expected.append((record, verify(record, files)))
        for label, (altered, altered_files) in _tampered(json.loads(record_bytes), files, rng):
            case, problems = _verify_case(altered, altered_files)
            assert problems, (draw["id"], label)
            cases.append(case), expected.append((None, problems))
    answers = run_node(cases, tmp_path)
    for answer, (record, problems) in zip(answers, expected):
        assert answer["problems"] == problems
        if record is not None:  # the draw as made: every pick re-run and shown, all agreeing
            assert answer["ok"]
            assert answer["key"] == record["execution"]["key_string"]
            assert answer["picks"] == {r["pool"]: r["positions"] for r in record["results"]}
            if record.get("kind") == "team":
                assert answer["teams"] == record["assignment"]


# --- the transparency log's inclusion proof (RFC 9162) ------------------------------------------

def test_canonical_json_is_pythons(tmp_path):
    """The bytes the log's hashes are over: sorted keys, no spaces, and a number read as an
    exact decimal written back as Python writes the float."""
    rng = random.Random(6962)
    numbers = ["0.1", "1e16", "1.5e16", "1e-05", "0.0001", "123456789.123", "-0.0", "2.50",
               "1E+2", "3345.67", "9007199254740993", "12345678901234567890", "5e-324",
               "1.7976931348623157e308", "1e400", "0.000123", "100.0", "-7", "42"]
    texts = ['{"b": 1, "a": [true, false, null], "\\u00e9": "x\\u0001\\n\\"y\\"", "Z": {}}',
             '{"\\ud83d\\ude00": 1, "\\uffff": 2, "a": "中文 \\u2028"}']
    for _ in range(40):
        picked = rng.sample(numbers, 5)
        texts.append('{"n": [' + ", ".join(picked) + '], "k": {"z": ' + picked[0] + ', "y": "s"}}')
    cases = [{"op": "canonical", "text": t} for t in texts]
    expected = [canonical_json(json.loads(t, parse_float=Decimal)).decode() for t in texts]
    assert run_node(cases, tmp_path) == expected


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _root(leaves: list[bytes]) -> bytes:
    """RFC 9162 2.1.1 MTH over leaf hashes."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _root(leaves[:k]) + _root(leaves[k:])).digest()


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 2.1.3.1 PATH(m, D[n])."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return _path(m, leaves[:k]) + [_root(leaves[k:])]
    return _path(m - k, leaves[k:]) + [_root(leaves[:k])]


def test_inclusion_proofs(tmp_path):
    cases, expected = [], []
    for size in range(1, 18):
        data = [f"entry {i}".encode() for i in range(size)]
        leaves = [_leaf(d) for d in data]
        root = _root(leaves).hex()
        for index in range(size):
            path = [p.hex() for p in _path(index, leaves)]
            cases.append({"op": "inclusion", "data": data[index].hex(), "index": index,
                          "size": size, "path": path, "root": root})
            expected.append(True)
            # another entry, another index, a changed path: all refused
            cases.append({"op": "inclusion", "data": b"altered".hex(), "index": index,
                          "size": size, "path": path, "root": root})
            expected.append(False)
            if size > 1:
                cases.append({"op": "inclusion", "data": data[index].hex(),
                              "index": (index + 1) % size, "size": size, "path": path,
                              "root": root})
                expected.append(False)
                cases.append({"op": "inclusion", "data": data[index].hex(), "index": index,
                              "size": size, "path": ["00" * 32] + path[1:], "root": root})
                expected.append(False)
    assert run_node(cases, tmp_path) == expected
