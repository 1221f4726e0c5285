"""The public log in the application: every commitment and result is appended in the draw's
transaction with a signed checkpoint, served as tiles, carried by the public record, and
checked by the standalone verifier, which now fails a wholly rewritten record."""
from __future__ import annotations

import copy
import hashlib
import json
import shutil
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest

from inspection import config
from inspection.draws import commitments as c
from inspection.draws import public_log
from inspection.draws.engine import rfc3797, tlog, verify
from inspection.draws.models import Draw
from inspection.extensions import db

ENGINE = Path(__file__).resolve().parents[2] / "inspection" / "draws" / "engine"
IDS = [f"91370305MA{n:07d}X" for n in range(50)]
SECRETS = {"office": "s3cret-office-0001", "supervisor": "s3cret-supervisor-2"}


def prepare(task_id) -> int:
    """A draw of two parties' secrets (no public source: it can be executed at once)."""
    draw = c.prepare(kind="target", task_id=task_id, task_label={"id": task_id},
                     pools=[c.PoolSpec("A", IDS[:30], 3), c.PoolSpec("B", IDS[30:], 5)],
                     entropy_mode="secrets", declared_sources=[],
                     secret_specs=[c.SecretSpec(p, verify.secret_commitment(s))
                                   for p, s in SECRETS.items()],
                     parameters={}, actor=None)
    db.session.commit()
    return draw.id


def execute(draw_id: int) -> Draw:
    draw = c.execute(draw_id, source_values=[], revealed=dict(SECRETS), actor=None)
    db.session.commit()
    return draw


@pytest.fixture
def executed(app, task_id, client, tmp_path):
    """An executed draw as the public downloads it: record.json, pool files; and the key."""
    with app.app_context():
        draw = execute(prepare(task_id))
        public_id, pools = draw.public_id, [p.name for p in draw.pools]
        key = public_log.verifier_key()
    record = client.http.get(f"/public/draws/{public_id}/record.json")
    assert record.status_code == 200
    (tmp_path / "record.json").write_bytes(record.data)
    files = []
    for name in pools:
        data = client.http.get(f"/public/draws/{public_id}/pools/{name}.txt").data
        path = tmp_path / f"{public_id}-pool-{name}.txt"
        path.write_bytes(data)
        files.append(str(path))
    return {"dir": tmp_path, "record": json.loads(record.data), "files": files, "key": key,
            "public_id": public_id}


def check(capsys, record: dict, files: list[str], tmp_path: Path, *flags: str) -> tuple[int, str]:
    """Run the verifier's command line on ``record`` written out."""
    path = tmp_path / "checked.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    capsys.readouterr()
    code = verify.main([*flags, str(path), *files])
    return code, capsys.readouterr().out


def texts_of(files: list[str]) -> dict[str, bytes]:
    return {Path(f).stem.rsplit("-pool-", 1)[1]: Path(f).read_bytes() for f in files}


# --- appending --------------------------------------------------------------------------------

def test_commitment_and_result_are_logged_in_the_draws_transaction(app, task_id):
    with app.app_context():
        draw_id = prepare(task_id)
        draw = db.session.get(Draw, draw_id)
        section = public_log.record_section(draw_id)
        assert set(section) == {"origin", "key", "commitment"}
        entry = json.loads(section["commitment"]["entry"])
        assert entry == {"draw_id": draw.public_id, "kind": "commitment",
                         "sha256": draw.commitment_sha256, "logged_at": entry["logged_at"]}
        assert entry["logged_at"] >= draw.commitment["committed_at"]
        key = tlog.parse_verifier_key(section["key"])
        assert key.name == section["origin"] == app.config["SETTINGS"].LOG_ORIGIN
        note, _ = tlog.verify_note(section["commitment"]["checkpoint"], [key])
        checkpoint = tlog.parse_checkpoint(note.text)
        assert checkpoint.size == section["commitment"]["index"] + 1
        tlog.verify_inclusion(section["commitment"]["index"], checkpoint.size,
                              tlog.leaf_hash(section["commitment"]["entry"].encode()),
                              [tlog.unb64(p) for p in section["commitment"]["proof"]],
                              checkpoint.root)

        draw = execute(draw_id)
        section = public_log.record_section(draw_id)
        result = json.loads(section["result"]["entry"])
        assert result["kind"] == "result" and result["sha256"] == draw.record_sha256
        assert section["result"]["index"] == section["commitment"]["index"] + 1
        assert verify.verify(public_log.with_log(draw, draw.record),
                             {p.name: c.pool_bytes(draw, p) for p in draw.pools},
                             log_keys=[section["key"]], require_log=True) == []


def test_a_failed_execution_logs_nothing(app, task_id):
    with app.app_context():
        draw_id = prepare(task_id)
        before = public_log.size()
        with pytest.raises(Exception):
            c.execute(draw_id, source_values=[], revealed={"office": "wrong", "supervisor": "x"},
                      actor=None)
        db.session.rollback()
        assert public_log.size() == before == 1
        assert set(public_log.record_section(draw_id)) == {"origin", "key", "commitment"}


def test_concurrent_appends_do_not_fork(app, task_id):
    """Draws prepared at the same moment each get their own index; every checkpoint extends
    the one before, and every entry's proof holds."""
    n = 6
    barrier = threading.Barrier(n)
    failures = []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                prepare(task_id)
            except Exception as error:  # noqa: BLE001 - any failure is the defect
                db.session.rollback()
                failures.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with app.app_context():
        entries = db.session.query(public_log.LogEntry).order_by(
            public_log.LogEntry.position).all()
        assert [e.position for e in entries] == list(range(n))
        assert len({e.draw_id for e in entries}) == n
        hashes = [tlog.leaf_hash(e.entry.encode()) for e in entries]
        checkpoints = {cp.size: cp for cp in db.session.query(public_log.LogCheckpoint)}
        key = tlog.parse_verifier_key(public_log.verifier_key())
        for size in range(1, n + 1):
            note, _ = tlog.verify_note(checkpoints[size].note, [key])
            assert tlog.parse_checkpoint(note.text).root == tlog.root(hashes[:size])
            entry = entries[size - 1]
            tlog.verify_inclusion(size - 1, size, hashes[size - 1],
                                  [bytes.fromhex(entry.proof[i:i + 64])
                                   for i in range(0, len(entry.proof), 64)],
                                  tlog.root(hashes[:size]))


# --- serving ----------------------------------------------------------------------------------

def test_the_log_is_served_as_tiles(app, task_id, client):
    with app.app_context():
        for _ in range(3):
            execute(prepare(task_id))                   # six entries
        entries = [e.entry.encode() for e in db.session.query(public_log.LogEntry)
                   .order_by(public_log.LogEntry.position)]
        key = tlog.parse_verifier_key(public_log.verifier_key())
    http = client.http
    answer = http.get("/public/log/checkpoint")
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    assert answer.headers["Cache-Control"] == "public, no-cache"
    note, _ = tlog.verify_note(answer.get_data(as_text=True), [key])
    checkpoint = tlog.parse_checkpoint(note.text)
    assert checkpoint.size == 6

    tile = http.get("/public/log/tile/0/000.p/6")
    assert tile.status_code == 200 and tile.mimetype == "application/octet-stream"
    assert tile.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert tile.data == b"".join(tlog.leaf_hash(e) for e in entries)
    assert http.get("/public/log/tile/0/000.p/4").data == tile.data[:4 * 32]
    bundle = http.get("/public/log/tile/entries/000.p/6")
    assert bundle.status_code == 200 and tlog.unbundle(bundle.data) == entries
    for missing in ("/public/log/tile/0/000", "/public/log/tile/0/000.p/7",
                    "/public/log/tile/1/000.p/1", "/public/log/tile/0/001.p/1",
                    "/public/log/tile/0/0", "/public/log/tile/entries/000.p/7",
                    "/public/log/tile/0/x000/000.p/1"):
        assert http.get(missing).status_code == 404, missing

    # A client computes the root and proofs from the tiles alone.
    def fetch(path):
        answer = http.get("/public/log/" + path)
        assert answer.status_code == 200, path
        return answer.data
    reader = tlog.TileReader(6, fetch)
    assert reader.root() == checkpoint.root
    tlog.verify_consistency(2, 6, tlog.root([tlog.leaf_hash(e) for e in entries[:2]]),
                            checkpoint.root, tlog.consistency_proof(2, 6, reader.subtree))

    page = http.get("/public/log/")
    assert page.status_code == 200
    assert str(key) in page.get_data(as_text=True)
    for name in ("witness.py", "tlog.py"):
        assert http.get(f"/public/log/{name}").status_code == 200


def test_an_empty_log_serves_a_signed_empty_checkpoint(app, client):
    with app.app_context():
        key = tlog.parse_verifier_key(public_log.verifier_key())
    note, _ = tlog.verify_note(client.http.get("/public/log/checkpoint").get_data(as_text=True),
                               [key])
    assert tlog.parse_checkpoint(note.text).size == 0


# --- the standalone verifier ------------------------------------------------------------------

def test_the_public_record_verifies_with_its_log(executed, capsys):
    record, files, tmp = executed["record"], executed["files"], executed["dir"]
    assert set(record["log"]) == {"origin", "key", "commitment", "result"}
    code, out = check(capsys, record, files, tmp)
    assert code == 0 and out.endswith("OK\n")
    assert "compare it with the key on the bureau's portal" in out
    code, out = check(capsys, record, files, tmp, "--log-key", executed["key"])
    assert (code, out) == (0, "OK\n")


def test_the_standalone_copy_checks_the_log_without_cryptography(executed, tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    for name in ("verify.py", "rfc3797.py", "tlog.py"):
        shutil.copy(ENGINE / name, alone / name)
    args = [sys.executable, "-I", "-S", "verify.py", "--log-key", executed["key"],
            str(executed["dir"] / "record.json"), *executed["files"]]
    result = subprocess.run(args, cwd=alone, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout) == (0, "OK\n"), result.stdout + result.stderr


def rewritten(record: dict, texts: dict[str, bytes]) -> dict:
    """The whole draw made again by someone holding the pool files: new secrets, a new
    commitment to them, the picks re-run. Everything but the log agrees with itself."""
    forged = copy.deepcopy(record)
    secrets = {"office": "forged-office-secret-1", "supervisor": "forged-supervisor-secret-2"}
    forged["commitment"]["secret_commitments"] = [
        {"party": party, "sha256": verify.secret_commitment(secret)}
        for party, secret in secrets.items()]
    forged["execution"]["secrets_revealed"] = [{"party": p, "secret": s}
                                               for p, s in secrets.items()]
    sources = verify.sources_for(forged)
    forged["execution"]["key_string"] = rfc3797.key_string(sources)
    for result in forged["results"]:
        pool = next(p for p in forged["commitment"]["pools"] if p["name"] == result["pool"])
        ids = verify.parse_pool_file(texts[result["pool"]])
        result["positions"] = rfc3797.select(ids, sources, pool["count"])
        result["selected"] = [ids[p - 1] for p in result["positions"]]
    assert forged["results"] != record["results"]
    return forged


def test_a_wholly_rewritten_record_fails(executed, capsys):
    record, files, tmp = executed["record"], executed["files"], executed["dir"]
    forged = rewritten(record, texts_of(files))
    # Without the log nothing shows the difference: this is what the log is for.
    assert verify.verify({k: v for k, v in forged.items() if k != "log"}, texts_of(files)) == []
    code, out = check(capsys, forged, files, tmp, "--log-key", executed["key"])
    assert code == 1
    assert "log.commitment: the log holds SHA-256" in out
    assert "log.result: the log holds SHA-256" in out
    assert "this is not the record the bureau logged" in out
    # Stripping the log does not help.
    code, out = check(capsys, {k: v for k, v in forged.items() if k != "log"}, files, tmp)
    assert code == 1 and "the record carries no entries of the public log" in out


def test_a_rewritten_record_logged_under_another_key_fails_with_the_portals_key(executed,
                                                                                 capsys):
    """The forger logs the rewritten record in a log of their own and names their key."""
    record, files, tmp = executed["record"], executed["files"], executed["dir"]
    forged = rewritten(record, texts_of(files))
    forger = tlog.Signer(record["log"]["origin"], hashlib.sha256(b"forger").digest())
    forged["log"] = build_log(forged, forger, forged["commitment"]["committed_at"],
                              forged["execution"]["executed_at"])
    code, out = check(capsys, forged, files, tmp, "--log-key", executed["key"])
    assert code == 1 and "no signature of a trusted key" in out
    # With the key the record names, it checks out: hence the note to compare that key.
    code, out = check(capsys, forged, files, tmp)
    assert code == 0 and str(forger.verifier) in out


@pytest.mark.parametrize("tamper, expected", [
    (lambda log: log["commitment"]["proof"].append(log["commitment"]["proof"][0]
                                                   if log["commitment"]["proof"]
                                                   else tlog.b64(bytes(32))),
     "log.commitment: entry"),
    (lambda log: log["result"].update(proof=[tlog.b64(bytes([1]) * 32)] + log["result"]["proof"]),
     "log.result: entry"),
    (lambda log: log["result"].update(index=log["result"]["index"] - 1), "log.result: entry"),
    (lambda log: log["commitment"].update(checkpoint=_flip_signature(
        log["commitment"]["checkpoint"])), "log.commitment.checkpoint: the signature"),
    (lambda log: log["result"].update(checkpoint=log["commitment"]["checkpoint"]),
     "log.result: entry"),
    (lambda log: log["result"].update(entry=log["result"]["entry"].replace(
        '"kind":"result"', '"kind":"result","x":1')), "log.result: entry"),
])
def test_an_altered_proof_or_checkpoint_fails(executed, capsys, tamper, expected):
    record = copy.deepcopy(executed["record"])
    tamper(record["log"])
    code, out = check(capsys, record, executed["files"], executed["dir"],
                      "--log-key", executed["key"])
    assert code == 1 and expected in out, out


def _flip_signature(note: str) -> str:
    head, line = note.rstrip("\n").rsplit("\n", 1)
    name, signature = line.rsplit(" ", 1)
    raw = bytearray(tlog.unb64(signature))
    raw[10] ^= 1
    return f"{head}\n{name} {tlog.b64(bytes(raw))}\n"


# --- the times --------------------------------------------------------------------------------

def build_log(record: dict, signer: tlog.Signer, commit_at: str, result_at: str) -> dict:
    """A log of two entries, the record's commitment then its result, signed by ``signer``."""
    texts = [verify.canonical_json({"draw_id": record["draw_id"], "kind": kind,
                                    "logged_at": at, "sha256": digest}).decode()
             for kind, at, digest in (("commitment", commit_at,
                                       verify.commitment_hash(record["commitment"])),
                                      ("result", result_at, verify.result_hash(record)))]
    hashes = [tlog.leaf_hash(t.encode()) for t in texts]
    section = {"origin": signer.name, "key": str(signer.verifier)}
    for index, kind in enumerate(("commitment", "result")):
        size = index + 1
        section[kind] = {
            "index": index, "entry": texts[index], "tree_size": size,
            "proof": [tlog.b64(p) for p in tlog.inclusion_proof(index, size,
                                                                 tlog.list_subtree(hashes))],
            "checkpoint": signer.sign_note(
                tlog.Checkpoint(signer.name, size, tlog.root(hashes[:size])).text())}
    return section


def timed_record(available_at: str | None) -> tuple[dict, dict[str, bytes]]:
    """A record whose one public source says when its value became known."""
    data = verify.pool_file_bytes(IDS[:20])
    source = {"name": "福彩3D 2026338期"}
    if available_at:
        source["available_at"] = available_at
    record = {
        "algorithm": rfc3797.ALGORITHM, "draw_id": "DRAW-2026-0042", "task": {"id": 1},
        "commitment": {
            "pools": [{"name": "A", "file": "DRAW-2026-0042-pool-A.txt",
                       "sha256": hashlib.sha256(data).hexdigest(), "size": 20, "count": 2}],
            "sources_declared": [source],
            "secret_commitments": [{"party": p, "sha256": verify.secret_commitment(s)}
                                   for p, s in SECRETS.items()],
            "committed_at": "2026-12-01T10:00:00+08:00"},
        "execution": {"sources": [[3, 1, 4]],
                      "secrets_revealed": [{"party": p, "secret": s} for p, s in SECRETS.items()],
                      "executed_at": "2026-12-03T10:00:00+08:00"},
        "results": []}
    sources = verify.sources_for(record)
    positions = rfc3797.select(IDS[:20], sources, 2)
    record["results"] = [{"pool": "A", "positions": positions,
                          "selected": [IDS[p - 1] for p in positions]}]
    return record, {"A": data}


SIGNER = tlog.Signer("example.gov.cn/public/log", hashlib.sha256(b"bureau").digest())


def log_problems(record, texts, commit_at, result_at):
    record = {**record, "log": build_log(record, SIGNER, commit_at, result_at)}
    return [p for p in verify.verify(record, texts, log_keys=[str(SIGNER.verifier)])
            if p.startswith("log")]


def test_the_commitment_must_be_logged_before_the_sources_are_known():
    record, texts = timed_record("2026-12-02T21:15:00+08:00")
    assert log_problems(record, texts, "2026-12-01T10:00:01+08:00",
                        "2026-12-03T10:00:01+08:00") == []
    late = log_problems(record, texts, "2026-12-02T21:15:00+08:00", "2026-12-03T10:00:01+08:00")
    assert late == ["log.commitment: logged at 2026-12-02T21:15:00+08:00, not before "
                    "commitment.sources_declared[1] was known (2026-12-02T21:15:00+08:00)"]


def test_without_source_times_the_execution_bounds_the_commitment():
    record, texts = timed_record(None)
    assert log_problems(record, texts, "2026-12-02T10:00:00+08:00",
                        "2026-12-03T10:00:01+08:00") == []
    assert log_problems(record, texts, "2026-12-03T11:00:00+08:00",
                        "2026-12-03T11:00:01+08:00") == [
        "log.commitment: logged at 2026-12-03T11:00:00+08:00, not before the execution "
        "(2026-12-03T10:00:00+08:00)"]
    assert log_problems(record, texts, "2026-12-01T09:00:00+08:00",
                        "2026-12-03T09:00:00+08:00") == [
        "log.commitment: logged at 2026-12-01T09:00:00+08:00, before the commitment was made "
        "(2026-12-01T10:00:00+08:00)",
        "log.result: logged at 2026-12-03T09:00:00+08:00, before the execution "
        "(2026-12-03T10:00:00+08:00)"]


# --- settings ---------------------------------------------------------------------------------

def test_log_settings(tmp_path):
    base = {"SECRET_KEY": "k" * 32, "DATABASE_URL": "sqlite://"}
    settings = config.load(tmp_path, base, environ={})
    assert settings.LOG_ORIGIN == "localhost/public/log"
    kept = tmp_path / "log_signing_key"
    assert kept.stat().st_mode & 0o777 == 0o600
    signer = tlog.Signer.parse(settings.LOG_SIGNING_KEY)
    assert signer.name == "localhost/public/log"
    # The same key on the next start, named after the origin of the day.
    again = config.load(tmp_path, {**base, "PUBLIC_URL": "https://rsj.example.gov.cn/"},
                        environ={})
    assert again.LOG_ORIGIN == "rsj.example.gov.cn/public/log"
    assert tlog.Signer.parse(again.LOG_SIGNING_KEY).public_key == signer.public_key
    # A note signer key names the log when LOG_ORIGIN is not set ...
    given = str(tlog.Signer("rsj.example.gov.cn/log", bytes(range(32))))
    named = config.load(tmp_path, {**base, "LOG_SIGNING_KEY": given}, environ={})
    assert (named.LOG_ORIGIN, named.LOG_SIGNING_KEY) == ("rsj.example.gov.cn/log", given)
    # ... or from a file; and must agree with LOG_ORIGIN when both are set.
    (tmp_path / "key.txt").write_text(given + "\n")
    assert config.load(tmp_path, {**base, "LOG_SIGNING_KEY": str(tmp_path / "key.txt")},
                       environ={}).LOG_SIGNING_KEY == given
    with pytest.raises(config.ConfigError, match="must be the same"):
        config.load(tmp_path, {**base, "LOG_SIGNING_KEY": given, "LOG_ORIGIN": "other/log"},
                    environ={})
    for bad in ("PRIVATE+KEY+x+00000000+AAAA", str(tmp_path / "missing")):
        with pytest.raises(config.ConfigError):
            config.load(tmp_path, {**base, "LOG_SIGNING_KEY": bad}, environ={})
    with pytest.raises(config.ConfigError):
        config.load(tmp_path, {**base, "LOG_ORIGIN": "has space/log"}, environ={})
