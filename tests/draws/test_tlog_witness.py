"""The witness, run against the application served over real HTTP: it keeps the checkpoints
it has seen, follows the log as it grows, and reports a fork when history is rewritten."""
from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from inspection.draws import public_log, witness
from inspection.draws.engine import tlog
from log_support import draw, rewrite

HERE = Path(__file__).resolve().parents[2] / "inspection" / "draws"


@pytest.fixture
def server(app):
    """The application on a real socket, for the witness's urllib."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/public/log/"
    httpd.shutdown()
    thread.join()


def bureau_key(app) -> str:
    with app.app_context():
        return public_log.verifier_key()


def look(url: str, directory: Path, **kw) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = witness.watch(witness.http_fetch(url), directory, out=lines.append, **kw)
    return code, lines


def test_the_witness_follows_the_log_and_reports_a_rewritten_history(app, task_id, server,
                                                                      tmp_path, client):
    key = bureau_key(app)
    seen = tmp_path / "witness"
    first = draw(app, task_id)
    record = client.http.get(f"/public/draws/{first}/record.json").data
    (tmp_path / "record.json").write_bytes(record)

    code, lines = look(server, seen, key=key)
    assert code == witness.OK and "(first checkpoint kept)" in lines[0]
    assert (seen / "log.vkey").read_text().strip() == key
    code, lines = look(server, seen)                       # the key is kept
    assert code == witness.OK and "(unchanged)" in lines[0]

    draw(app, task_id)
    code, lines = look(server, seen, record=str(tmp_path / "record.json"))
    assert code == witness.OK, lines
    assert "size 4" in lines[0] and "(consistent with size 2 kept before)" in lines[0]
    assert any("the commitment's checkpoint (size 1) is in the history seen" in line
               for line in lines)
    assert sorted(p.name for p in (seen / "checkpoints").iterdir()) == ["2.txt", "4.txt"]
    kept = (seen / "checkpoint").read_text()

    # The bureau rewrites its first entry and signs every tree head again.
    rewrite(app, 0)
    code, lines = look(server, seen)
    assert code == witness.FORK
    assert lines[0].startswith("FORK: the log's history was rewritten")
    assert "two different root hashes for the same tree size 4" in lines[0]
    assert kept.rstrip("\n") in lines and (seen / "checkpoint").read_text() == kept
    assert len(list(seen.glob("fork-*.txt"))) == 1

    # And it grows: the new history does not extend the one seen before.
    draw(app, task_id)
    code, lines = look(server, seen)
    assert code == witness.FORK
    assert "the consistency proof does not lead to the root" in lines[0]

    # Someone who starts watching only now accepts the new history, but the record they
    # downloaded before the rewrite shows that it changed.
    code, lines = look(server, tmp_path / "late", key=key, record=str(tmp_path / "record.json"))
    assert code == witness.FORK and "(first checkpoint kept)" in lines[0]
    assert lines[1].startswith("FORK:") and "the record's commitment checkpoint" in lines[1]


def test_the_witness_refuses_checkpoints_it_cannot_trust(app, task_id, server, tmp_path):
    draw(app, task_id)
    code, lines = look(server, tmp_path / "a")
    assert code == witness.CANNOT_TELL and "the first run needs the bureau's key" in lines[0]
    other = tlog.Signer(bureau_key(app).split("+")[0], bytes(32))
    code, lines = look(server, tmp_path / "b", key=str(other.verifier))
    assert code == witness.CANNOT_TELL and "not one the bureau's key signed" in lines[0]
    code, _ = look(server, tmp_path / "c", key=bureau_key(app))
    code, lines = look(server, tmp_path / "c", key=str(other.verifier))
    assert code == witness.CANNOT_TELL and "A log's key does not change" in lines[0]
    code, lines = look("http://127.0.0.1:9/public/log/", tmp_path / "d", key=bureau_key(app))
    assert code == witness.CANNOT_TELL and "cannot fetch the checkpoint" in lines[0]


def test_the_witness_cosigns_what_it_accepts(app, task_id, server, tmp_path, capsys):
    assert witness.main(["--new-key", "witness.example/w1"]) == 0
    captured = capsys.readouterr()
    (tmp_path / "witness.key").write_text(captured.out)
    cosigner = tlog.parse_verifier_key(captured.err.strip())
    draw(app, task_id)
    code, lines = look(server, tmp_path / "w", key=bureau_key(app),
                       sign=str(tmp_path / "witness.key"))
    assert code == witness.OK and lines[-1].startswith("\u2014 witness.example/w1 ")
    cosigned = (tmp_path / "w" / "cosigned").read_text()
    note, signed = tlog.verify_note(cosigned, [cosigner, tlog.parse_verifier_key(bureau_key(app))])
    assert len(signed) == 2 and tlog.cosignature_time(note, cosigner) > 1_700_000_000


def test_the_witness_runs_alone_with_the_standard_library(app, task_id, server, tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(HERE / "witness.py", alone / "witness.py")
    shutil.copy(HERE / "engine" / "tlog.py", alone / "tlog.py")
    draw(app, task_id)
    args = [sys.executable, "-I", "-S", "witness.py", server, str(tmp_path / "seen"),
            "--key", bureau_key(app)]
    result = subprocess.run(args, cwd=alone, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK ") and "size 2" in result.stdout
