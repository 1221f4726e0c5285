"""Watch the bureau's public log of draws and report a rewritten history.

Usage::

    python -m inspection.draws.witness URL DIR [--key VKEY] [--sign KEYFILE] [--record FILE]
    python -m inspection.draws.witness --new-key NAME > witness.key

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

Standard library plus the ``cryptography`` package (for ``--sign`` and ``--new-key``; the
signature checks work without it). Outside the application, put this file next to
``tlog.py`` (both served under ``/public/log/``) and run ``python witness.py URL DIR``.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

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
          sign: str | None = None, record: str | None = None, out=print) -> int:
    """One look at the log; returns the exit code (OK, CANNOT_TELL or FORK)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    trusted = _trusted_key(directory, key, out)
    if trusted is None:
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

    kept_path = directory / "checkpoint"
    if not kept_path.exists():
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m inspection.draws.witness",
        description="Keep the public log's checkpoints and report a rewritten history.")
    parser.add_argument("url", nargs="?", help="the log's prefix, e.g. https://HOST/public/log/")
    parser.add_argument("dir", nargs="?", help="where this witness keeps what it has seen")
    parser.add_argument("--key", help="the bureau's log key (first run; then kept in DIR)")
    parser.add_argument("--sign", metavar="KEYFILE", help="cosign with this witness key")
    parser.add_argument("--record", metavar="FILE",
                        help="also check a draw record's checkpoints against the history")
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
                 record=args.record)


if __name__ == "__main__":
    sys.exit(main())
