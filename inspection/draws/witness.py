"""Watch the bureau's public log of draws and report a rewritten history; or serve as a
witness the log submits its checkpoints to (c2sp.org/tlog-witness).

Usage::

    python -m inspection.draws.witness URL DIR [--key VKEY] [--sign KEYFILE] [--record FILE]
                                       [--witness-key VKEY ... [--min-cosignatures N]]
    python -m inspection.draws.witness --new-key NAME > witness.key
    python -m inspection.draws.witness serve --key KEYFILE --log-key VKEY [--log-key VKEY ...]
                                       [--host HOST] [--port PORT] DIR

``URL`` is the log's prefix (``https://<portal>/public/log/``), ``DIR`` a folder of your
own where the witness keeps what it has seen. Each run fetches the log's checkpoint,
verifies its signature with the bureau's key (``--key``, given once and then kept in
``DIR``), and compares it with the last checkpoint kept:

* the same size must have the same root hash;
* a larger size must extend the old tree: the consistency proof (RFC 9162 section 2.1.4)
  is computed from the log's tiles (c2sp.org/tlog-tiles) and verified against both roots;
* a smaller size must be a tree the kept one extends (a stale copy, not a truncation).

Anything else is a fork: two checkpoints, both signed by the bureau, that cannot both be
true. The witness prints ``FORK`` with both, keeps them in ``DIR`` as evidence, and exits
2; the kept checkpoint stays. Otherwise it keeps the new checkpoint, prints ``OK`` and
exits 0; it exits 1 when it cannot tell (the log unreachable, a bad signature, a usage
error). Run it from time to time (cron): whoever ran it before a rewrite catches the rewrite.

``--sign KEYFILE`` also cosigns each checkpoint it accepts, as any witness of the
c2sp.org/tlog-witness network does (a c2sp.org/tlog-cosignature/v1 Ed25519 signature line,
kept in ``DIR/cosigned``); ``--new-key NAME`` makes such a key. ``--record FILE`` also checks
that the checkpoints a draw record carries belong to the history the witness has seen.

``--witness-key VKEY`` (repeatable) makes the watch require cosignatures: a checkpoint that
does not carry valid cosignatures of at least ``--min-cosignatures`` (default 1) of the
witnesses given is not accepted (exit 1, nothing kept); a fork is still reported as one.

``serve`` runs a witness that logs submit their checkpoints to, as c2sp.org/tlog-witness
says: ``POST /add-checkpoint`` with ``old <size>``, the consistency proof from that size
(one base64 hash a line), an empty line and the signed checkpoint. It knows the logs whose
keys ``--log-key`` gives (a log is its origin, the key's name), keeps the latest checkpoint
it cosigned for each in ``DIR/logs/`` (checked and replaced under one lock, the file
replaced whole), and answers

* 200 and its cosignature line (tlog-cosignature/v1 with the key of ``--key KEYFILE``);
* 409 with ``Content-Type: text/x.tlog.size`` and the size it holds, when ``old`` is not
  that size (or the same size comes with another root hash);
* 404 for an unknown origin, 403 when no signature of the log's key verifies;
* 422 when the consistency proof does not lead from the tree it holds to the new one;
* 400 for a malformed request (or ``old`` larger than the checkpoint).

A refused proof or a second root for one size is kept in ``DIR/forks/`` as evidence.

Standard library plus the ``cryptography`` package (for ``--sign``, ``--new-key`` and
``serve``; the signature checks work without it). Outside the application, put this file
next to ``tlog.py`` (both served under ``/public/log/``) and run ``python witness.py URL DIR``.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

try:
    import fcntl
except ImportError:                         # Windows: one process per DIR, threads locked
    fcntl = None

if __package__:
    from .engine import tlog
else:                                       # run as a script: tlog.py beside it or in engine/
    def _load_tlog():
        here = Path(__file__).resolve().parent
        for path in (here / "tlog.py", here / "engine" / "tlog.py"):
            if path.is_file():
                spec = importlib.util.spec_from_file_location("_draws_tlog_standalone", path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[spec.name] = module
                spec.loader.exec_module(module)
                return module
        raise SystemExit("tlog.py must sit next to witness.py")
    tlog = _load_tlog()

OK, CANNOT_TELL, FORK = 0, 1, 2
Fetch = Callable[[str], bytes]


class Unreachable(Exception):
    """The log did not answer (a network problem, or it no longer serves a tile)."""


def http_fetch(url: str, timeout: float = 30) -> Fetch:
    base = url.rstrip("/") + "/"

    def fetch(path: str) -> bytes:
        request = urllib.request.Request(base + path, headers={
            "User-Agent": "inspection-witness/1", "Cache-Control": "no-cache"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read()
        except (urllib.error.URLError, OSError) as exc:
            raise Unreachable(f"{base + path}: {exc}") from None
    return fetch


def _write(path: Path, text: str) -> None:
    """Replace ``path`` whole or not at all."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _trusted_key(directory: Path, given: str | None, out) -> "tlog.VerifierKey | None":
    kept = directory / "log.vkey"
    known = kept.read_text(encoding="utf-8").strip() if kept.exists() else None
    if given and known and given.strip() != known:
        out(f"error: {kept} holds the key {known}; --key gives {given.strip()}. A log's key "
            "does not change: if the bureau announced a new one, use a new DIR.")
        return None
    text = given or known
    if not text:
        out("error: the first run needs the bureau's key (--key NAME+HASH+KEY, as published "
            "on its portal's page of the public log)")
        return None
    try:
        key = tlog.parse_verifier_key(text)
    except tlog.LogError as exc:
        out(f"error: --key: {exc}")
        return None
    if not known:
        _write(kept, str(key) + "\n")
    return key


def watch(fetch: Fetch, directory: Path | str, *, key: str | None = None,
          sign: str | None = None, record: str | None = None,
          witness_keys: list[str] | None = None, min_cosignatures: int = 1,
          out=print) -> int:
    """One look at the log; returns the exit code (OK, CANNOT_TELL or FORK). With
    ``witness_keys`` a checkpoint needs valid cosignatures of ``min_cosignatures`` of them."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    trusted = _trusted_key(directory, key, out)
    if trusted is None:
        return CANNOT_TELL
    witnesses = []
    for text in witness_keys or []:
        try:
            witnesses.append(tlog.parse_verifier_key(text))
        except tlog.LogError as exc:
            out(f"error: --witness-key: {exc}")
            return CANNOT_TELL
    if witnesses and not 1 <= min_cosignatures <= len(witnesses):
        out(f"error: --min-cosignatures {min_cosignatures}: between 1 and the "
            f"{len(witnesses)} witness keys given")
        return CANNOT_TELL
    try:
        served = fetch("checkpoint").decode("utf-8")
        note, _ = tlog.verify_note(served, [trusted])
        new = tlog.parse_checkpoint(note.text)
    except Unreachable as exc:
        out(f"error: cannot fetch the checkpoint: {exc}")
        return CANNOT_TELL
    except (tlog.LogError, UnicodeDecodeError) as exc:
        out(f"error: the checkpoint served is not one the bureau's key signed: {exc}")
        return CANNOT_TELL
    if new.origin != trusted.name:
        out(f"error: the checkpoint's origin {new.origin!r} is not the key's {trusted.name!r}")
        return CANNOT_TELL
    refused = _too_few_cosignatures(note, new, witnesses, min_cosignatures, out)

    kept_path = directory / "checkpoint"
    if not kept_path.exists():
        if refused:
            out(refused)
            return CANNOT_TELL
        _keep(directory, served, new)
        out(f"OK {new.origin} size {new.size} root {tlog.b64(new.root)} (first checkpoint kept)")
        status = OK
    else:
        kept_note = kept_path.read_text(encoding="utf-8")
        old = tlog.parse_checkpoint(tlog.parse_note(kept_note).text)
        try:
            if new.size >= old.size:
                proof = tlog.consistency_proof(old.size, new.size,
                                               tlog.TileReader(new.size, fetch).subtree)
                tlog.verify_consistency(old.size, new.size, old.root, new.root, proof)
            else:
                proof = tlog.consistency_proof(new.size, old.size,
                                               tlog.TileReader(old.size, fetch).subtree)
                tlog.verify_consistency(new.size, old.size, new.root, old.root, proof)
        except Unreachable as exc:
            out(f"error: cannot fetch the tiles to compare size {old.size} with {new.size}: "
                f"{exc}")
            return CANNOT_TELL
        except tlog.LogError as exc:
            return _fork(directory, kept_note, served, str(exc), out)
        if refused:
            out(refused)
            return CANNOT_TELL
        if new.size > old.size:
            _keep(directory, served, new)
            out(f"OK {new.origin} size {new.size} root {tlog.b64(new.root)} "
                f"(consistent with size {old.size} kept before)")
        elif new.size == old.size:
            out(f"OK {new.origin} size {new.size} root {tlog.b64(new.root)} (unchanged)")
        else:
            out(f"OK {new.origin}: the log serves size {new.size}, older than size "
                f"{old.size} kept before, and consistent with it (a stale copy)")
            new, served = old, kept_note
        status = OK
    if record:
        status = max(status, _check_record(fetch, record, trusted, new, directory, out))
    if sign and status == OK:
        status = _cosign(sign, directory, served, tlog.parse_note(served).text, out)
    return status


def _too_few_cosignatures(note, checkpoint, witnesses: list, need: int, out) -> str | None:
    """Why the checkpoint is refused for want of cosignatures (None: enough, or none
    required). A cosignature line of a given witness that does not verify is reported."""
    if not witnesses:
        return None
    good, bad = tlog.cosigned_by(note, witnesses)
    for key in bad:
        out(f"warning: the cosignature of {key.name}+{key.key_id:08x} on size "
            f"{checkpoint.size} does not verify")
    if len(good) >= need:
        return None
    return (f"error: the checkpoint of size {checkpoint.size} carries valid cosignatures of "
            f"{len(good)} of the {len(witnesses)} witnesses given, {need} required: not "
            "accepted (run again once the witnesses have cosigned it)")


def _keep(directory: Path, note: str, checkpoint) -> None:
    seen = directory / "checkpoints"
    seen.mkdir(exist_ok=True)
    _write(seen / f"{checkpoint.size}.txt", note)
    _write(directory / "checkpoint", note)


def _fork(directory: Path, kept: str, served: str, why: str, out) -> int:
    evidence = directory / f"fork-{int(time.time())}.txt"
    _write(evidence, f"kept before:\n{kept}\nserved now:\n{served}\nwhy: {why}\n")
    out("FORK: the log's history was rewritten: two checkpoints signed by the bureau that "
        f"cannot both be true ({why}).")
    out("kept before:")
    out(kept.rstrip("\n"))
    out("served now:")
    out(served.rstrip("\n"))
    out(f"both kept in {evidence}")
    return FORK


def _check_record(fetch: Fetch, path: str, trusted, latest, directory: Path, out) -> int:
    """The checkpoints a draw record carries are in the history seen: each is a tree the
    newest kept checkpoint extends."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        parts = [(kind, record["log"][kind]) for kind in ("commitment", "result")
                 if kind in record.get("log", {})]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        out(f"error: {path} is not a draw record with log entries: {exc}")
        return CANNOT_TELL
    status = OK
    for kind, part in parts:
        try:
            note, _ = tlog.verify_note(part["checkpoint"], [trusted])
            carried = tlog.parse_checkpoint(note.text)
            if carried.size > latest.size:
                out(f"record: the {kind}'s checkpoint (size {carried.size}) is newer than "
                    f"the log's ({latest.size}); run again later")
                status = max(status, CANNOT_TELL)
                continue
            proof = tlog.consistency_proof(carried.size, latest.size,
                                           tlog.TileReader(latest.size, fetch).subtree)
            tlog.verify_consistency(carried.size, latest.size, carried.root, latest.root, proof)
        except Unreachable as exc:
            out(f"error: cannot fetch tiles: {exc}")
            status = max(status, CANNOT_TELL)
        except (tlog.LogError, KeyError, TypeError) as exc:
            kept = (directory / "checkpoint").read_text(encoding="utf-8")
            return _fork(directory, kept, part.get("checkpoint", "") if isinstance(part, dict)
                         else "", f"the record's {kind} checkpoint: {exc}", out)
        else:
            out(f"record: the {kind}'s checkpoint (size {carried.size}) is in the history seen")
    return status


def _cosign(keyfile: str, directory: Path, served: str, text: str, out) -> int:
    try:
        signer = tlog.Signer.parse(Path(keyfile).read_text(encoding="utf-8"))
    except (OSError, tlog.LogError, ImportError) as exc:
        out(f"error: --sign {keyfile}: {exc}")
        return CANNOT_TELL
    line = signer.cosign(text, int(time.time())).line()
    _write(directory / "cosigned", served + line)
    out(line.rstrip("\n"))
    return OK


def new_key(name: str) -> tuple[str, str]:
    """A new witness key: the signer key string and the cosignature verifier key."""
    signer = tlog.Signer(name, os.urandom(32))
    return str(signer), str(signer.cosigner)


# --- serving: c2sp.org/tlog-witness add-checkpoint ------------------------------------------

#: A request body larger than this is refused (a checkpoint and 63 hashes take a few KiB).
MAX_REQUEST_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


def _text(status: int, message: str) -> Answer:
    return Answer(status, (message.rstrip("\n") + "\n").encode("utf-8"))


class Cosigner:
    """The witness's decisions, apart from HTTP: which logs it knows (by origin, the name of
    their keys), the latest checkpoint it cosigned for each (``DIR/logs/<origin quoted>``),
    and the answer to an ``add-checkpoint`` request. The check of ``old`` against the kept
    size and the replacement of the kept checkpoint happen under one lock (a thread lock,
    and ``DIR/lock`` between processes), so two requests can never both extend one size."""

    def __init__(self, directory: Path | str, signer, log_keys, clock=time.time):
        self.directory = Path(directory)
        (self.directory / "logs").mkdir(parents=True, exist_ok=True)
        self.signer = signer
        self.logs: dict[str, list] = {}
        for key in log_keys:
            self.logs.setdefault(key.name, []).append(key)
        self.clock = clock
        self._lock = threading.Lock()

    def _path(self, origin: str) -> Path:
        return self.directory / "logs" / urllib.parse.quote(origin, safe="")

    def kept(self, origin: str):
        """The checkpoint last cosigned for ``origin`` (None before the first)."""
        path = self._path(origin)
        if not path.exists():
            return None
        return tlog.parse_checkpoint(tlog.parse_note(path.read_text(encoding="utf-8")).text)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            if fcntl is None:
                yield
                return
            with open(self.directory / "lock", "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def add_checkpoint(self, body: bytes) -> Answer:
        try:
            old, proof, message = tlog.parse_add_checkpoint(body)
            note = tlog.parse_note(message)
            checkpoint = tlog.parse_checkpoint(note.text)
        except tlog.LogError as exc:
            return _text(400, f"malformed request: {exc}")
        keys = self.logs.get(checkpoint.origin)
        if not keys:
            return _text(404, f"unknown log {checkpoint.origin!r}")
        try:
            tlog.verify_note(message, keys)
        except tlog.LogError as exc:
            return _text(403, f"the checkpoint is not signed by the log's key: {exc}")
        if old > checkpoint.size:
            return _text(400, f"old size {old} is larger than the checkpoint's {checkpoint.size}")
        with self._locked():
            kept = self.kept(checkpoint.origin)
            size, root = (kept.size, kept.root) if kept else (0, tlog.EMPTY_ROOT)
            if old != size:
                return Answer(409, tlog.size_body(size), tlog.SIZE_CONTENT_TYPE)
            if old == checkpoint.size and root != checkpoint.root:
                # The same size with another root hash: a conflict (and a fork).
                self._evidence(checkpoint.origin, body, f"two root hashes for size {old}")
                return Answer(409, tlog.size_body(size), tlog.SIZE_CONTENT_TYPE)
            try:
                tlog.verify_consistency(old, checkpoint.size, root, checkpoint.root, proof)
            except tlog.LogError as exc:
                self._evidence(checkpoint.origin, body, str(exc))
                return _text(422, f"the consistency proof from size {old} does not verify: "
                                  f"{exc}")
            line = self.signer.cosign(note.text, int(self.clock())).line()
            _write(self._path(checkpoint.origin), message + line)
        return Answer(200, line.encode("utf-8"))

    def _evidence(self, origin: str, body: bytes, why: str) -> None:
        """Keep a refused request of a known log, signed by it: evidence of a fork."""
        folder = self.directory / "forks"
        folder.mkdir(exist_ok=True)
        kept = self._path(origin)
        _write(folder / f"{urllib.parse.quote(origin, safe='')}-{time.time_ns()}.txt",
               f"kept:\n{kept.read_text(encoding='utf-8') if kept.exists() else ''}\n"
               f"request:\n{body.decode('utf-8', 'replace')}\nwhy: {why}\n")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"                 # keep-alive, as the protocol recommends
    server_version = "inspection-witness/1"

    def _send(self, answer: Answer) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def _ours(self) -> bool:
        return urllib.parse.urlsplit(self.path).path == "/add-checkpoint"

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        if not self._ours():
            self._send(_text(404, "not found: POST /add-checkpoint"))
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            self._send(_text(411, "a Content-Length is required"))
            return
        if not 0 <= length <= MAX_REQUEST_BYTES:
            self.close_connection = True
            self._send(_text(413, f"the request is larger than {MAX_REQUEST_BYTES} bytes"))
            return
        self._send(self.server.cosigner.add_checkpoint(self.rfile.read(length)))

    def do_GET(self) -> None:  # noqa: N802
        if self._ours():
            self._send(_text(405, "add-checkpoint takes a POST"))
        else:
            self._send(_text(404, "not found: POST /add-checkpoint"))

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's name)
        self.server.log(f"{self.address_string()} {format % args}")


def make_server(cosigner: Cosigner, host: str = "127.0.0.1", port: int = 0,
                log=None) -> ThreadingHTTPServer:
    """The witness's HTTP server (one thread a connection); ``serve_forever()`` runs it."""
    server = ThreadingHTTPServer((host, port), _Handler)
    server.daemon_threads = True
    server.cosigner = cosigner
    server.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    return server


def serve_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m inspection.draws.witness serve",
        description="Run a witness (c2sp.org/tlog-witness): cosign the checkpoints that logs "
                    "submit with POST /add-checkpoint, each consistent with the last one.")
    parser.add_argument("dir", help="where the witness keeps the latest checkpoint of each log")
    parser.add_argument("--key", metavar="KEYFILE", required=True,
                        help="this witness's signer key (made by --new-key)")
    parser.add_argument("--log-key", metavar="VKEY", action="append", required=True,
                        help="the key of a log to witness (its name is the log's origin); "
                             "repeatable")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=7380, help="port (default 7380; 0: any)")
    args = parser.parse_args(argv)
    try:
        signer = tlog.Signer.parse(Path(args.key).read_text(encoding="utf-8"))
        log_keys = [tlog.parse_verifier_key(text) for text in args.log_key]
    except (OSError, tlog.LogError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return CANNOT_TELL
    if any(k.key_type != tlog.ED25519 for k in log_keys):
        print("error: --log-key takes a log's Ed25519 note key (type 0x01)", file=sys.stderr)
        return CANNOT_TELL
    server = make_server(Cosigner(args.dir, signer, log_keys), args.host, args.port)
    host, port = server.server_address[:2]
    print(f"witness {signer.cosigner} listening on http://{host}:{port}/ "
          f"for {', '.join(sorted({k.name for k in log_keys}))}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return OK


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["serve"]:
        return serve_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m inspection.draws.witness",
        description="Keep the public log's checkpoints and report a rewritten history. "
                    "('python -m inspection.draws.witness serve --help': run a witness that "
                    "logs submit their checkpoints to.)")
    parser.add_argument("url", nargs="?", help="the log's prefix, e.g. https://HOST/public/log/")
    parser.add_argument("dir", nargs="?", help="where this witness keeps what it has seen")
    parser.add_argument("--key", help="the bureau's log key (first run; then kept in DIR)")
    parser.add_argument("--sign", metavar="KEYFILE", help="cosign with this witness key")
    parser.add_argument("--record", metavar="FILE",
                        help="also check a draw record's checkpoints against the history")
    parser.add_argument("--witness-key", metavar="VKEY", action="append",
                        help="require cosignatures: a witness's cosignature key; repeatable")
    parser.add_argument("--min-cosignatures", metavar="N", type=int, default=1,
                        help="how many of the --witness-key witnesses must have cosigned "
                             "(default 1)")
    parser.add_argument("--new-key", metavar="NAME",
                        help="print a new witness key (keep it secret) and, on standard "
                             "error, its public cosignature key")
    args = parser.parse_args(argv)
    if args.new_key:
        secret, public = new_key(args.new_key)
        print(secret)
        print(public, file=sys.stderr)
        return OK
    if not args.url or not args.dir:
        parser.error("URL and DIR are required")
    return watch(http_fetch(args.url), args.dir, key=args.key, sign=args.sign,
                 record=args.record, witness_keys=args.witness_key,
                 min_cosignatures=args.min_cosignatures)


if __name__ == "__main__":
    sys.exit(main())
