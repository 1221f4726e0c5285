"""The log submits its checkpoints to witnesses and publishes their cosignatures: real
witness servers (``witness.Cosigner`` behind ``witness.make_server``) on loopback, the app
configured with them through ``LOG_WITNESSES``, the submission run by the job queue (held
in the tests until ``run_pending()``) or by ``flask log submit``."""
from __future__ import annotations

import dataclasses
import json
import socket
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from inspection import config
from inspection.draws import commitments as c
from inspection.draws import public_log, witness, witnesses
from inspection.draws.engine import tlog, verify
from inspection.extensions import db
from log_support import IDS, SECRETS, draw, prepare, rewrite
from inspection.jobs import operations as jobs
from inspection.jobs.models import Job


class Recording(witness.Cosigner):
    """A real witness that also notes each request: (old, size, status)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.seen: list[tuple[int, int, int]] = []

    def add_checkpoint(self, body: bytes) -> witness.Answer:
        answer = super().add_checkpoint(body)
        old, _proof, note = tlog.parse_add_checkpoint(body)
        self.seen.append((old, tlog.parse_checkpoint(tlog.parse_note(note).text).size,
                          answer.status))
        return answer


class Garbling(Recording):
    """A witness whose cosignatures do not verify (one byte of the signature changed)."""

    def add_checkpoint(self, body: bytes) -> witness.Answer:
        answer = super().add_checkpoint(body)
        if answer.status != 200:
            return answer
        (line,) = tlog.parse_signature_lines(answer.body.decode())
        sig = bytearray(line.signature)
        sig[20] ^= 1
        return witness.Answer(200, tlog.Signature(line.name, line.key_id, bytes(sig))
                              .line().encode())


@dataclasses.dataclass
class Running:
    url: str
    signer: tlog.Signer
    cosigner: Recording

    @property
    def key(self) -> str:
        return str(self.signer.cosigner)

    @property
    def entry(self) -> str:
        return f"{self.url} {self.key}"


@pytest.fixture
def start(app, tmp_path):
    """start('w1') -> a witness of the bureau's log on a real socket, stopped after the test."""
    servers = []
    with app.app_context():
        log_key = tlog.parse_verifier_key(public_log.verifier_key())

    def run(name: str, kind=Recording) -> Running:
        signer = tlog.Signer(f"witness.example/{name}", bytes([len(servers) + 1]) * 32)
        cosigner = kind(tmp_path / name, signer, [log_key])
        server = witness.make_server(cosigner, log=lambda line: None)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return Running(f"http://127.0.0.1:{server.server_address[1]}/", signer, cosigner)

    yield run
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def configured(app, *entries: str):
    original = app.config["SETTINGS"]
    app.config["SETTINGS"] = dataclasses.replace(original, LOG_WITNESSES=",\n".join(entries))
    try:
        yield
    finally:
        app.config["SETTINGS"] = original


def run_jobs(app) -> list[Job]:
    with app.app_context():
        jobs.run_pending()
        found = list(db.session.scalars(select(Job).order_by(Job.id)))
        db.session.expunge_all()
        return found


def kept(app, check: bool = True) -> set[tuple[str, int]]:
    """(witness name, size) of every cosignature kept, each checked again here over the
    checkpoint the log holds for its size."""
    with app.app_context():
        rows = db.session.scalars(select(public_log.LogCosignature)).all()
        found = set()
        for row in rows:
            key = tlog.parse_verifier_key(row.witness)
            if check:
                tlog.verify_note(public_log.checkpoint_note(row.size) + row.line, [key])
            found.add((key.name, row.size))
        return found


def cosigners_of(message: str, *running: Running) -> list[str]:
    good, bad = tlog.cosigned_by(tlog.parse_note(message),
                                 [tlog.parse_verifier_key(r.key) for r in running])
    assert not bad
    return [k.name for k in good]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the flow ---------------------------------------------------------------------------------

def test_draws_lead_to_verified_cosignatures_in_the_checkpoint_and_the_record(
        app, task_id, start, client, tmp_path, capsys):
    w1, w2 = start("w1"), start("w2")
    with configured(app, w1.entry, w2.entry):
        with app.app_context():
            draw_id = prepare(task_id)
            queued = db.session.scalars(select(Job)).all()
            assert [(j.kind, j.params, j.status) for j in queued] == \
                [("log_witnesses", {"size": 1}, "queued")]
            # Nothing was sent inside the draw's transaction: the job sends it.
            assert w1.cosigner.seen == [] and w2.cosigner.seen == []
            public_id = c.execute(draw_id, source_values=[], revealed=dict(SECRETS),
                                  actor=None).public_id
            db.session.commit()
        served = client.get("/public/log/checkpoint").get_data(as_text=True)
        assert cosigners_of(served, w1, w2) == []            # not cosigned yet

        done = run_jobs(app)
        assert [(j.status, j.error) for j in done] == [("done", None), ("done", None)]
        # The first job brought each witness to size 2, one size at a time; the second
        # found nothing left to do.
        assert w1.cosigner.seen == w2.cosigner.seen == [(0, 1, 200), (1, 2, 200)]
        assert kept(app) == {("witness.example/w1", 1), ("witness.example/w1", 2),
                             ("witness.example/w2", 1), ("witness.example/w2", 2)}

        served = client.get("/public/log/checkpoint").get_data(as_text=True)
        with app.app_context():
            tlog.verify_note(served, [tlog.parse_verifier_key(public_log.verifier_key())])
        assert cosigners_of(served, w1, w2) == ["witness.example/w1", "witness.example/w2"]
        assert tlog.parse_checkpoint(tlog.parse_note(served).text).size == 2

        record = client.get(f"/public/draws/{public_id}/record.json").get_json()
        for part in ("commitment", "result"):
            assert cosigners_of(record["log"][part]["checkpoint"], w1, w2) == \
                ["witness.example/w1", "witness.example/w2"]
        pool = client.get(f"/public/draws/{public_id}/pools/A.txt").data
        (tmp_path / "record.json").write_text(json.dumps(record))
        (tmp_path / f"{public_id}-pool-A.txt").write_bytes(pool)
        files = [str(tmp_path / "record.json"), str(tmp_path / f"{public_id}-pool-A.txt")]

        def verify_with(*flags: str) -> tuple[int, str]:
            capsys.readouterr()
            code = verify.main([*flags, *files])
            return code, capsys.readouterr().out

        code, out = verify_with("--witness-key", w1.key, "--witness-key", w2.key,
                                "--min-cosignatures", "2")
        assert code == 0 and out.rstrip().endswith("OK"), out
        stranger = tlog.Signer("witness.example/stranger", bytes([9]) * 32)
        code, out = verify_with("--witness-key", str(stranger.cosigner))
        assert code == 1 and "log.commitment.checkpoint: valid cosignatures of 0 of the 1 " \
            "witnesses given, 1 required" in out
        code, out = verify_with("--witness-key", w1.key, "--witness-key", str(stranger.cosigner),
                                "--min-cosignatures", "2")
        assert code == 1 and "log.result.checkpoint: valid cosignatures of 1 of the 2" in out
        # Without the flag, the cosignatures change nothing for the verifier.
        assert verify_with()[0] == 0

        page = client.get("/public/log/").get_data(as_text=True)
        assert "日志见证方" in page and w1.key in page and w2.key in page
        assert page.count("<td>2</td>") == 2 and f"--witness-key {w1.key}" in page
        client.http.set_cookie("lang", "en")
        page = client.get("/public/log/").get_data(as_text=True)
        assert "Witnesses of the log" in page and "Latest size cosigned" in page


def test_the_job_reaches_a_real_queue_only_once_the_draw_commits(app, app_config, task_id,
                                                                  start, tmp_path):
    """With the embedded queue (huey on SQLite, as `make run` has it): the job's id is put
    on the queue after each commit, none for a rolled-back draw, and huey runs it."""
    from inspection import create_app
    from inspection.jobs import queue

    w1 = start("w1")
    worker = create_app(dict(app_config, JOBS_MODE="embedded", LOG_WITNESSES=w1.entry,
                             JOBS_FILE=str(tmp_path / "jobs.sqlite3")))
    with worker.app_context():
        huey = queue.current().huey
        huey.flush()
        draw_id = prepare(task_id)
        assert huey.pending_count() == 1
        c.execute(draw_id, source_values=[], revealed=dict(SECRETS), actor=None)
        assert huey.pending_count() == 1                # not before the commit
        db.session.commit()
        assert huey.pending_count() == 2
        c.prepare(kind="target", task_id=task_id, task_label={"id": task_id},
                  pools=[c.PoolSpec("A", IDS, 4)], entropy_mode="secrets", declared_sources=[],
                  secret_specs=[c.SecretSpec(p, verify.secret_commitment(s))
                                for p, s in SECRETS.items()], parameters={}, actor=None)
        db.session.rollback()
        db.session.commit()
        assert huey.pending_count() == 2
        while huey.pending_count():
            huey.execute(huey.dequeue())
        db.session.remove()
    assert w1.cosigner.seen == [(0, 1, 200), (1, 2, 200)]
    assert [j.status for j in run_jobs(app)] == ["done", "done"]


def test_a_rolled_back_draw_submits_nothing(app, task_id, start):
    w1 = start("w1")
    with configured(app, w1.entry), app.app_context():
        c.prepare(kind="target", task_id=task_id, task_label={"id": task_id},
                  pools=[c.PoolSpec("A", IDS, 4)], entropy_mode="secrets", declared_sources=[],
                  secret_specs=[c.SecretSpec(p, verify.secret_commitment(s))
                                for p, s in SECRETS.items()], parameters={}, actor=None)
        db.session.rollback()
        assert db.session.scalars(select(Job)).all() == []
        assert jobs.run_pending() == 0
    assert w1.cosigner.seen == []


def test_no_witnesses_no_jobs(app, task_id, client):
    draw(app, task_id)
    assert run_jobs(app) == []
    page = client.get("/public/log/").get_data(as_text=True)
    assert "本日志尚无见证方联署" in page


def test_the_watcher_can_require_cosignatures(app, task_id, start, tmp_path):
    w1, w2 = start("w1"), start("w2")
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_port}/public/log/"
    try:
        with app.app_context():
            key = public_log.verifier_key()

        def look(*keys: str, need: int = 1) -> tuple[int, list[str]]:
            lines: list[str] = []
            code = witness.watch(witness.http_fetch(url), tmp_path / "watch", key=key,
                                 witness_keys=list(keys), min_cosignatures=need,
                                 out=lines.append)
            return code, lines

        with configured(app, w1.entry, w2.entry):
            draw(app, task_id)
            code, lines = look(w1.key, w2.key)
            assert code == witness.CANNOT_TELL
            assert "carries valid cosignatures of 0 of the 2 witnesses given, 1 required" \
                in lines[0]
            assert not (tmp_path / "watch" / "checkpoint").exists()     # nothing kept
            run_jobs(app)
            code, lines = look(w1.key, w2.key, need=2)
            assert code == witness.OK and "(first checkpoint kept)" in lines[0]
            assert look(w1.key, need=3)[0] == witness.CANNOT_TELL       # usage
            # The command line takes the same.
            assert witness.main([url, str(tmp_path / "watch"), "--witness-key", w1.key,
                                 "--witness-key", w2.key, "--min-cosignatures", "2"]) == 0
    finally:
        httpd.shutdown()
        thread.join()


# --- witnesses that disagree ------------------------------------------------------------------

def test_the_409_size_flow(app, task_id, start):
    """A witness that cosigned more than the log remembers (its rows lost) answers 409 with
    its size; the log sends the checkpoint again from that size."""
    w1 = start("w1")
    with configured(app, w1.entry):
        draw(app, task_id)
        run_jobs(app)
        with app.app_context():
            db.session.execute(public_log.LogCosignature.__table__.delete())
            db.session.commit()
        draw(app, task_id)
        done = run_jobs(app)
    assert [j.status for j in done] == ["done"] * 4
    assert w1.cosigner.seen == [(0, 1, 200), (1, 2, 200),
                                (0, 1, 409), (2, 3, 200), (3, 4, 200)]
    assert kept(app) == {("witness.example/w1", 3), ("witness.example/w1", 4)}


def sign_forged(app, size: int, root: bytes) -> str:
    with app.app_context():
        return public_log.signer().sign_note(
            tlog.Checkpoint(public_log.origin(), size, root).text())


def test_a_witness_that_saw_a_larger_tree_is_reported(app, task_id, start):
    w1, w2 = start("w1"), start("w2")
    # w1 cosigned a tree of 10 entries under the bureau's origin and key.
    seeded = w1.cosigner.add_checkpoint(tlog.add_checkpoint_body(
        0, [], sign_forged(app, 10, bytes(range(32)))))
    assert seeded.status == 200
    with configured(app, w1.entry, w2.entry):
        public_id = draw(app, task_id)
        done = run_jobs(app)
    assert public_id.startswith("DRAW-")                            # the draw went through
    assert done[0].status == "failed" and done[1].status == "failed"
    assert "witness.example/w1: holds a tree of size 10, larger than this log's" in \
        done[0].error and "witness.example/w2" not in done[0].error
    assert kept(app) == {("witness.example/w2", 1), ("witness.example/w2", 2)}


@pytest.mark.parametrize("size", [1, 2])
def test_a_witness_that_saw_a_different_tree_refuses(app, task_id, start, size):
    """The witness cosigned another tree of 1 (or 2) entries under the bureau's key: the
    proof from it is refused (422), or the same size has another root (409 for it)."""
    w1 = start("w1")
    assert w1.cosigner.add_checkpoint(tlog.add_checkpoint_body(
        0, [], sign_forged(app, size, bytes(range(32))))).status == 200
    w1.cosigner.seen.clear()
    with configured(app, w1.entry):
        draw(app, task_id)
        done = run_jobs(app)
    if size == 1:
        assert w1.cosigner.seen[:2] == [(0, 1, 409), (1, 2, 422)]
        assert "refused the consistency proof from size 1 to 2 (422)" in done[0].error
    else:
        assert w1.cosigner.seen[:2] == [(0, 1, 409), (2, 2, 409)]
        assert "holds another tree of size 2 than this log's (409 for the same size)" \
            in done[0].error
    assert [j.status for j in done] == ["failed", "failed"]
    assert kept(app) == set()


def test_a_rewritten_history_is_refused_by_the_witness(app, task_id, start, tmp_path, client):
    w1 = start("w1")
    with configured(app, w1.entry):
        draw(app, task_id)
        run_jobs(app)
        rewrite(app, 0)
        draw(app, task_id)
        done = run_jobs(app)
    # From the size it cosigned (2) to 3, the proof comes from the rewritten leaves: 422.
    assert w1.cosigner.seen[-1] == (2, 3, 422)
    assert [j.status for j in done[2:]] == ["failed", "failed"]
    assert "refused the consistency proof from size 2 to 3 (422)" in done[2].error
    assert kept(app, check=False) == {("witness.example/w1", 1), ("witness.example/w1", 2)}
    # What the witnesses cosigned before no longer verifies over the rewritten heads: the
    # served checkpoint shows it to anyone who checks the cosignatures.
    with pytest.raises(tlog.LogError, match="does not verify"):
        kept(app)
    served = client.get("/public/log/checkpoint").get_data(as_text=True)
    assert tlog.parse_checkpoint(tlog.parse_note(served).text).size == 4
    with app.app_context():
        tlog.verify_note(served, [tlog.parse_verifier_key(public_log.verifier_key())])
    assert len(list((tmp_path / "w1" / "forks").iterdir())) == 2   # evidence, both jobs
    with app.app_context():
        # The witness still holds the tree it saw, not the rewritten one.
        assert w1.cosigner.kept(public_log.origin()).size == 2


def test_a_cosignature_that_does_not_verify_is_not_kept(app, task_id, start):
    liar = start("liar", Garbling)
    honest = start("honest")
    # honest's server, configured with another witness's key: its cosignatures are not
    # of the key the log trusts for that address.
    stranger = tlog.Signer("witness.example/stranger", bytes([9]) * 32)
    misnamed = f"{honest.url} {stranger.cosigner}"
    with configured(app, liar.entry, misnamed):
        draw(app, task_id)
        done = run_jobs(app)
    assert "witness.example/liar: answered size 1 without a valid cosignature of its key" \
        in done[0].error and "its cosignature does not verify; nothing kept" in done[0].error
    assert "witness.example/stranger: answered size 1 without a valid cosignature" \
        in done[0].error and "no signature line of witness.example/stranger+" in done[0].error
    assert liar.cosigner.seen[0] == honest.cosigner.seen[0] == (0, 1, 200)
    assert kept(app) == set()
    with app.app_context():
        assert public_log.latest_cosignatures() == {}


def test_an_unreachable_witness_never_holds_a_draw_and_the_cli_retries(app, task_id, start):
    w1 = start("w1")
    down = f"http://127.0.0.1:{closed_port()}/ {w1.key}"
    runner = app.test_cli_runner()
    with configured(app, down):
        public_id = draw(app, task_id)
        done = run_jobs(app)
        assert done[0].status == "failed" and "unreachable at http://127.0.0.1:" in done[0].error
        result = runner.invoke(args=["log", "submit"])
        assert result.exit_code == 1 and result.output.startswith("FAILED witness.example/w1:")
    with app.app_context():
        assert db.session.scalar(select(public_log.LogEntry.kind)
                                 .order_by(public_log.LogEntry.position.desc())) == "result"
    assert public_id
    with configured(app, w1.entry):
        result = runner.invoke(args=["log", "submit"])
        assert result.exit_code == 0, result.output
        assert result.output == "OK witness.example/w1: cosigned sizes 1, 2\n"
        result = runner.invoke(args=["log", "submit"])
        assert result.output == "OK witness.example/w1: had already cosigned size 2\n"
    result = runner.invoke(args=["log", "submit"])
    assert result.output == "no witnesses configured (LOG_WITNESSES)\n"


def test_a_witness_far_behind_gets_the_newest_at_once(app, task_id, start, monkeypatch):
    w1 = start("w1")
    monkeypatch.setattr(witnesses, "CATCH_UP", 2)
    for _ in range(2):
        draw(app, task_id)                     # 4 entries, before the witness is configured
    with configured(app, w1.entry):
        with app.app_context():
            outcomes = witnesses.submit_all()
    assert outcomes == [witnesses.Outcome("witness.example/w1", True, 4, "cosigned size 4")]
    assert w1.cosigner.seen == [(0, 4, 200)]


# --- settings ---------------------------------------------------------------------------------

def test_witness_settings(tmp_path):
    base = {"SECRET_KEY": "k" * 32, "DATABASE_URL": "sqlite://"}
    a = tlog.Signer("witness.example/a", bytes([1]) * 32)
    b = tlog.Signer("witness.example/b", bytes([2]) * 32)
    text = f"https://a.example/ {a.cosigner},\nhttp://127.0.0.1:7380 {b.cosigner}\n"
    settings = config.load(tmp_path, {**base, "LOG_WITNESSES": text}, environ={})
    parsed = tlog.parse_witness_list(settings.LOG_WITNESSES)
    assert [(w.name, w.add_checkpoint_url) for w in parsed] == [
        ("witness.example/a", "https://a.example/add-checkpoint"),
        ("witness.example/b", "http://127.0.0.1:7380/add-checkpoint")]
    assert config.load(tmp_path, base, environ={"INSPECTION_LOG_WITNESSES": text}) \
        .LOG_WITNESSES == text
    for bad, why in ((f"ftp://a.example/ {a.cosigner}", "not an http"),
                     (str(a.cosigner), "is not 'URL KEY'"),
                     (f"https://a.example/ {a.verifier}", "not a cosignature key"),
                     (f"https://a.example/ {a.cosigner}, https://b.example/ {a.cosigner}",
                      "two witnesses are named"),
                     ("https://a.example/ witness+00000000+AAAA", "")):
        with pytest.raises(config.ConfigError, match=f"LOG_WITNESSES: .*{why}"):
            config.load(tmp_path, {**base, "LOG_WITNESSES": bad}, environ={})
    assert Path(tmp_path / "log_signing_key").exists()
