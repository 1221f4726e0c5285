"""The witness server (``python -m inspection.draws.witness serve``): c2sp.org/tlog-witness
``add-checkpoint`` over real HTTP on loopback, every answer the specification names, its
state kept in its folder, and the standalone copy run as a subprocess."""
from __future__ import annotations

import base64
import hashlib
import http.client
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from inspection.draws import witness
from inspection.draws.engine import tlog

HERE = Path(__file__).resolve().parents[2] / "inspection" / "draws"
LOG = tlog.Signer("example.org/public/log", hashlib.sha256(b"the log").digest())
OTHER_LOG = tlog.Signer("example.net/log", hashlib.sha256(b"another log").digest())
W1 = tlog.Signer("witness.example/w1", hashlib.sha256(b"witness one").digest())

# The request of c2sp.org/tlog-witness, "add-checkpoint", as the specification prints it.
SPEC_REQUEST = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+"
    "49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n")
# c2sp.org/tlog-cosignature's example cosignature line and the message it signs.
SPEC_COSIGNATURE = ("\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHe"
                    "olMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n")
SPEC_SIGNED = ("cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
               "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")


def leaves(n: int, fork_at: int | None = None) -> list[bytes]:
    return [tlog.leaf_hash(f"entry {i}{' forged' if i == fork_at else ''}".encode())
            for i in range(n)]


def note(hashes: list[bytes], signer: tlog.Signer = LOG) -> str:
    return signer.sign_note(tlog.Checkpoint(signer.name, len(hashes), tlog.root(hashes)).text())


def body(old: int, hashes: list[bytes], signer: tlog.Signer = LOG, proof=None) -> bytes:
    if proof is None:
        proof = tlog.consistency_proof(old, len(hashes), tlog.list_subtree(hashes))
    return tlog.add_checkpoint_body(old, proof, note(hashes, signer))


def post(url: str, data: bytes, path: str = "/add-checkpoint", method: str = "POST"):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, path, body=data if method == "POST" else None)
        answer = connection.getresponse()
        return answer.status, answer.getheader("Content-Type"), answer.read()
    finally:
        connection.close()


@pytest.fixture
def served(tmp_path):
    """A witness of LOG on a real socket, its folder under tmp_path."""
    cosigner = witness.Cosigner(tmp_path / "w1", W1, [LOG.verifier])
    server = witness.make_server(cosigner, log=lambda line: None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", cosigner
    server.shutdown()
    server.server_close()
    thread.join()


def cosigned_time(checkpoint_note: str, answer: bytes) -> int:
    """The answer is one cosignature line of W1 that verifies over the checkpoint."""
    text = answer.decode()
    assert text.count("\n") == 1 and text.startswith("\u2014 witness.example/w1 ")
    message = checkpoint_note + text
    note_, signed = tlog.verify_note(message, [W1.cosigner])
    assert signed == [W1.cosigner]
    return tlog.cosignature_time(note_, W1.cosigner)


def test_the_specifications_examples():
    old, proof, message = tlog.parse_add_checkpoint(SPEC_REQUEST.encode())
    assert old == 20852014 and len(proof) == 4
    assert proof[0] == base64.b64decode("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=")
    checkpoint = tlog.parse_checkpoint(tlog.parse_note(message).text)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert len(tlog.parse_note(message).signatures) == 2
    # Written back the same, byte for byte.
    assert tlog.add_checkpoint_body(old, proof, message) == SPEC_REQUEST.encode()
    # The cosignature line: key ID, then the big-endian time the signed message names.
    (line,) = tlog.parse_signature_lines(SPEC_COSIGNATURE)
    assert line.key_id == 0x8D66CF3F and len(line.signature) == 72
    assert int.from_bytes(line.signature[:8], "big") == 1679315147
    assert tlog.cosignature_message(checkpoint.text(), 1679315147).decode() == SPEC_SIGNED
    # The witness answers in the same layout.
    ours = W1.cosign(checkpoint.text(), 1679315147)
    assert len(ours.signature) == 72 and ours.signature[:8] == line.signature[:8]
    assert tlog.parse_size_body(tlog.size_body(20852014)) == 20852014


def test_a_witness_cosigns_checkpoints_that_extend_the_last_one(served, tmp_path):
    url, cosigner = served
    first = leaves(3)
    status, content_type, answer = post(url, body(0, first))
    assert status == 200 and content_type.startswith("text/plain")
    assert abs(cosigned_time(note(first), answer) - time.time()) < 60
    kept = (tmp_path / "w1" / "logs" / "example.org%2Fpublic%2Flog").read_text()
    assert kept == note(first) + answer.decode()      # the checkpoint cosigned, persisted

    grown = leaves(7)
    status, _, answer = post(url, body(3, grown))
    assert status == 200 and cosigned_time(note(grown), answer)
    assert cosigner.kept(LOG.name).size == 7
    # The same size again (a log asking for a fresh cosignature) is cosigned too.
    assert post(url, body(7, grown))[0] == 200
    # Another witness process on the same folder knows where it stopped.
    again = witness.Cosigner(tmp_path / "w1", W1, [LOG.verifier])
    assert again.kept(LOG.name).root == tlog.root(grown)


def test_a_stale_old_size_gets_409_with_the_size_held(served):
    url, _ = served
    assert post(url, body(0, leaves(5)))[0] == 200
    for old in (0, 3, 6):
        status, content_type, answer = post(url, body(old, leaves(9)))
        assert (status, content_type, answer) == (409, "text/x.tlog.size", b"5\n")


def test_a_rewritten_history_is_refused_and_kept_as_evidence(served, tmp_path):
    url, cosigner = served
    assert post(url, body(0, leaves(7)))[0] == 200
    forged = leaves(9, fork_at=2)             # entry 2 changed, every head signed again
    status, _, answer = post(url, body(7, forged))
    assert status == 422 and b"does not verify" in answer
    # The same size with another root hash: 409, the size it holds.
    assert post(url, body(7, forged[:7])) == (409, "text/x.tlog.size", b"7\n")
    # A proof that does not lead to the new root.
    honest = leaves(9)
    bad = tlog.consistency_proof(7, 9, tlog.list_subtree(honest))
    bad[0] = bytes(32)
    assert post(url, body(7, honest, proof=bad))[0] == 422
    assert cosigner.kept(LOG.name).root == tlog.root(leaves(7))    # nothing moved
    assert len(list((tmp_path / "w1" / "forks").iterdir())) == 3
    # The honest extension is still cosigned.
    assert post(url, body(7, honest))[0] == 200


def test_unknown_logs_bad_signatures_and_malformed_requests(served):
    url, _ = served
    hashes = leaves(4)
    assert post(url, body(0, hashes, OTHER_LOG))[0] == 404           # unknown origin
    assert post(url, body(0, hashes, proof=[bytes(32)]))[0] == 422   # from 0: no proof
    impostor = tlog.Signer(LOG.name, hashlib.sha256(b"impostor").digest())
    assert post(url, body(0, hashes, impostor))[0] == 403            # not the log's key
    tampered = note(hashes).replace(tlog.b64(tlog.root(hashes)), tlog.b64(bytes(32)))
    assert post(url, tlog.add_checkpoint_body(0, [], tampered))[0] == 403
    text = note(hashes)
    proof = tlog.b64(bytes(32)) + "\n"
    for bad in (f"old 5\n\n{text}",                                  # old > size: 400
                f"old 01\n\n{text}", f"new 0\n\n{text}", f"old 0\n{text}",
                f"old 0\nnot base64!\n\n{text}", f"old 0\n{tlog.b64(b'short')}\n\n{text}",
                "old 0\n" + proof * 64 + "\n" + text,
                "old 0\n\nexample.org/public/log\n4\n\n", ""):
        status, _, answer = post(url, bad.encode())
        assert status == 400, (bad, answer)
    assert post(url, b"old 0\n\n\xff\xfe")[0] == 400
    assert post(url, b"", method="GET")[0] == 405
    assert post(url, body(0, hashes), path="/other")[0] == 404
    assert post(url, body(0, hashes), path="/add-checkpoint")[0] == 200


def test_the_check_and_the_update_are_atomic(served):
    """Requests racing from the same old size: exactly one is cosigned, the others learn the
    size it made (no size is ever rolled back)."""
    url, cosigner = served
    barrier = threading.Barrier(6)
    answers: list[tuple[int, int, bytes]] = []

    def submit(n: int) -> None:
        data = body(0, leaves(n))
        barrier.wait()
        status, _, answer = post(url, data)
        answers.append((n, status, answer))

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(2, 8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [n for n, status, _ in answers if status == 200]
    assert len(won) == 1
    assert all((status, answer) == (409, f"{won[0]}\n".encode())
               for n, status, answer in answers if n != won[0])
    assert cosigner.kept(LOG.name).size == won[0]


def test_the_standalone_witness_serves(tmp_path):
    """witness.py and tlog.py copied alone, run as the outsider runs them."""
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(HERE / "witness.py", alone / "witness.py")
    shutil.copy(HERE / "engine" / "tlog.py", alone / "tlog.py")
    made = subprocess.run([sys.executable, "-I", "witness.py", "--new-key", "witness.example/solo"],
                          cwd=alone, capture_output=True, text=True, timeout=60, check=True)
    (alone / "solo.key").write_text(made.stdout)
    cosigner_key = tlog.parse_verifier_key(made.stderr.strip())
    process = subprocess.Popen(
        [sys.executable, "-I", "witness.py", "serve", "--key", "solo.key",
         "--log-key", str(LOG.verifier), "--port", "0", str(tmp_path / "state")],
        cwd=alone, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        assert first.startswith(f"witness {cosigner_key} listening on http://127.0.0.1:"), \
            first + process.stderr.read()
        url = first.split(" listening on ")[1].split("/ ")[0]
        hashes = leaves(2)
        status, _, answer = post(url, body(0, hashes))
        assert status == 200
        _, signed = tlog.verify_note(note(hashes) + answer.decode(), [cosigner_key])
        assert signed == [cosigner_key]
        assert post(url, body(0, hashes)) == (409, "text/x.tlog.size", b"2\n")
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (tmp_path / "state" / "logs" / "example.org%2Fpublic%2Flog").exists()


def test_serve_refuses_a_cosigning_key_as_a_log_key(tmp_path, capsys):
    (tmp_path / "w.key").write_text(str(W1))
    code = witness.main(["serve", "--key", str(tmp_path / "w.key"), "--log-key",
                         str(W1.cosigner), str(tmp_path / "d")])
    assert code == witness.CANNOT_TELL and "Ed25519 note key" in capsys.readouterr().err
