"""Check a published draw record: anyone can re-run the draw and compare.

Usage::

    python -m inspection.draws.engine.verify [--trace] [--log-key VKEY] RECORD.json [NAME=]POOL_FILE...
    python -m inspection.draws.engine.verify --witness-key VKEY [--min-cosignatures N] RECORD.json ...

Each pool file is matched to the record's pool whose ``file`` has the same base name, or
named explicitly as ``NAME=PATH``. Prints ``OK`` and exits 0 when everything matches;
otherwise prints every problem found (which pool, which hash, expected and found, the first
differing pick) and exits 1. Usage errors (bad arguments, unreadable or non-JSON files)
exit 2. The record format is described in ``docs/draws.md``.

The record's entries in the bureau's public log (``log``: the commitment and the result,
each with its inclusion proof and a signed checkpoint) are checked with ``tlog.py``: the
logged hashes must be this record's, the proofs must lead to checkpoints signed by the
bureau's key, and the commitment must have been logged before any source's value was known.
A record without them fails, unless ``--no-log`` says it predates the log. With
``--witness-key VKEY`` (repeatable) each of those checkpoints must also carry valid
cosignatures (c2sp.org/tlog-cosignature) of at least ``--min-cosignatures`` (default 1) of
the witnesses given: the log appends them to the record's checkpoints as the witnesses answer.

Standard library only. This file, ``rfc3797.py`` and ``tlog.py`` are all a verifier needs
(plus ``teams.py`` for a team draw, whose record says ``"kind": "team"``; its assignment of
inspectors to visits is re-run too): copy them into one directory and run
``python verify.py RECORD.json POOL_FILE...``. Run that way (or
as ``python inspection/draws/engine/verify.py``) the engine is loaded from the sibling file
by path, so no package is imported at all. Only ``python -m inspection.draws.engine.verify``
and the application's own import go through the package (``from . import rfc3797``), which
the ``-m`` form imports anyway (the packages on the way import nothing but the standard
library).

The application reuses :func:`verify` (record dict and pool bytes in, problems out),
:func:`sources_for`, :func:`pool_file_bytes`, :func:`parse_pool_file` and
:func:`secret_commitment`, so that the draw it makes is the draw this file checks.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import itertools
import json
import operator
import re
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable


def _load_sibling_engine(filename: str = "rfc3797.py"):
    """Load ``rfc3797.py`` (or ``teams.py``) from this file's directory without importing any
    package."""
    name = "_draws_" + filename[:-3] + "_standalone"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().with_name(filename)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise ImportError(f"{filename} must sit next to verify.py ({path} not found)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


if __package__:
    from . import rfc3797
else:
    rfc3797 = _load_sibling_engine()


def _teams_module():
    """``teams.py``, loaded only for team records: a target-draw verifier needs two files."""
    if __package__:
        from . import teams
        return teams
    return _load_sibling_engine("teams.py")


def _log_module():
    """``tlog.py``, the public log's proofs and signatures, loaded for records that carry
    the log's entries (or when the log is required)."""
    if __package__:
        from . import tlog
        return tlog
    return _load_sibling_engine("tlog.py")

ALGORITHM = rfc3797.ALGORITHM
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")


# --- helpers shared with the application ------------------------------------------------------

def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def secret_commitment(secret: str) -> str:
    """The published commitment to a secret: SHA-256 (lower-case hex) of its UTF-8 bytes."""
    return sha256_hex(secret.encode("utf-8"))


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes the bureau hashes (numbers read as exact
    decimals are written back as the floats they were published from)."""
    return json.dumps(_plain(data), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def _plain(data: Any) -> Any:
    if isinstance(data, Decimal):
        return float(data)
    if isinstance(data, dict):
        return {key: _plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_plain(value) for value in data]
    return data


def commitment_hash(commitment: dict) -> str:
    """The SHA-256 the bureau logs when it commits: of the commitment's canonical JSON."""
    return sha256_hex(canonical_json(commitment))


#: The parts of a record its logged result covers. A team record's ``kind`` and
#: ``assignment`` are not among them: the assignment follows from the committed visits and
#: the drawn order, and is re-run all the same; ``substitutions`` and ``log`` come later.
RESULT_KEYS = ("algorithm", "draw_id", "task", "commitment", "execution", "results")


def result_hash(record: dict) -> str:
    """The SHA-256 the bureau logs when it executes a draw."""
    return sha256_hex(canonical_json({k: record[k] for k in RESULT_KEYS if k in record}))


def pool_file_bytes(ids: Iterable[str]) -> bytes:
    """The canonical pool file for ``ids``: UTF-8, one id a line, sorted, LF, final LF.

    Raises ``ValueError`` for a duplicate, empty or white-space-bearing id.
    """
    ordered = sorted(ids)
    for before, after in zip(ordered, ordered[1:]):
        if before == after:
            raise ValueError(f"duplicate candidate id {after!r}")
    for candidate in ordered:
        if not isinstance(candidate, str) or not candidate or candidate != candidate.strip() \
                or "\n" in candidate or "\r" in candidate:
            raise ValueError(f"candidate id {candidate!r} is empty or has white space")
    return "".join(candidate + "\n" for candidate in ordered).encode("utf-8")


def parse_pool_file(data: bytes) -> list[str]:
    """The candidate ids of a canonical pool file, in order; ``ValueError`` says what is wrong."""
    if not data:
        return []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        raise ValueError("starts with a byte-order mark")
    if "\r" in text:
        raise ValueError("has CR characters; lines must end with LF only")
    if not text.endswith("\n"):
        raise ValueError("the last line does not end with LF")
    ids = text[:-1].split("\n")
    if _plainly_canonical(data, text, ids):
        return ids
    previous = None
    for lineno, candidate in enumerate(ids, 1):
        if not candidate:
            raise ValueError(f"line {lineno} is empty")
        if candidate != candidate.strip():
            raise ValueError(f"line {lineno} ({candidate!r}) has leading or trailing white space")
        if previous is not None:
            if candidate == previous:
                raise ValueError(f"line {lineno} repeats {candidate!r}")
            if candidate < previous:
                raise ValueError(f"line {lineno} ({candidate!r}) is out of order "
                                 f"after {previous!r}")
        previous = candidate
    return ids


#: White space other than the line feed (``\s`` is exactly ``str.isspace``, what
#: ``str.strip`` removes).
_ODD_SPACE = re.compile(r"[^\S\n]")
#: The ASCII characters ``str.isspace`` accepts, but the line feed.
_ASCII_SPACE = b"\t\x0b\x0c\r\x1c\x1d\x1e\x1f "


def _plainly_canonical(data: bytes, text: str, ids: list[str]) -> bool:
    """Whether the lines of a pool file pass every check of :func:`parse_pool_file`, found
    with whole-file operations: no white space but the line feeds (so no line has any at its
    ends), every line greater than the one before (in order, no repeat), and no empty line:
    with the lines strictly increasing only the first could be empty (nothing sorts before
    an empty line), which the text would then start with a line feed. Equally strict, and a
    fraction of the per-line loop's time on a million lines; when it says no, the per-line
    checks say what is wrong."""
    if text[0] == "\n":
        return False
    if data.isascii():
        if len(data.translate(None, _ASCII_SPACE)) != len(data):
            return False
    elif _ODD_SPACE.search(text):
        return False
    return all(map(operator.lt, ids, itertools.islice(ids, 1, None)))


def sources_for(record: dict) -> list:
    """The sources the draw uses: the public values, then each secret, in commitment order.

    ``execution.sources`` holds one list of values per declared public source, in the
    declared order; each revealed secret then adds one source holding just that string,
    in the order of ``commitment.secret_commitments``. Raises ``KeyError``/``TypeError`` on
    a malformed record (``verify`` reports those as problems).
    """
    execution = record["execution"]
    revealed = {entry["party"]: entry["secret"] for entry in execution["secrets_revealed"]}
    sources = list(execution["sources"])
    for entry in record["commitment"]["secret_commitments"]:
        sources.append([revealed[entry["party"]]])
    return sources


# --- the check --------------------------------------------------------------------------------

def verify(record: dict, pool_texts: dict[str, bytes],
           parsed: dict[str, tuple[bytes, list[str]]] | None = None, *,
           log_keys: Iterable[str] | None = None, require_log: bool = False,
           witness_keys: Iterable[str] | None = None, min_cosignatures: int = 1) -> list[str]:
    """Every problem with ``record`` given the pool files' bytes by pool name; [] means OK.

    The record's entries in the public log (``log``) are checked when it has them, or
    required with ``require_log``: with the verifier keys ``log_keys`` when given, else
    with the key the record names (the caller then says so). With ``witness_keys`` (the
    witnesses' cosignature keys) each of their checkpoints needs valid cosignatures of
    ``min_cosignatures`` of those witnesses, and the log is required.

    ``parsed`` may give, by pool name, ``(data, ids)`` where ``ids`` is what
    :func:`parse_pool_file` returned for that very bytes object ``data`` (the application's
    self-check, which has just parsed the files it draws from): such a file is not parsed a
    second time. Its hash, size and selection are checked all the same."""
    problems: list[str] = []
    if not isinstance(record, dict):
        return ["the record is not a JSON object"]
    if record.get("algorithm") != ALGORITHM:
        return [f"algorithm: the record says {record.get('algorithm')!r}, "
                f"this verifier implements {ALGORITHM!r}"]
    if isinstance(record.get("withheld"), dict):
        # An unannounced task's draw, published before its visits happened: nothing to re-run.
        withheld = record["withheld"]
        return [f"the record is withheld ({withheld.get('why')}); it holds the commitment and "
                f"the hashes only: download it again once published in full (at the latest "
                f"after {withheld.get('until')}) and re-run it then"]
    commitment, execution, results = (record.get(k) for k in ("commitment", "execution", "results"))
    for key, value, kind in (("commitment", commitment, dict), ("execution", execution, dict),
                             ("results", results, list)):
        if not isinstance(value, kind):
            problems.append(f"{key}: missing or not a JSON {'object' if kind is dict else 'array'}")
    if problems:
        return problems

    _check_times(commitment, execution, problems)
    _check_time_lock(commitment, execution, problems)
    pools = _check_pools(commitment, pool_texts, problems, parsed or {})
    sources = _check_sources(commitment, execution, problems)
    rerun = _check_results(pools, sources, results, problems)
    if record.get("kind") == "team" or "assignment" in record:
        _check_teams(record, commitment, rerun, problems)
    if require_log or witness_keys or "log" in record:
        _check_log(record, commitment, execution, problems, log_keys,
                   list(witness_keys or []), min_cosignatures)
    return problems


def _check_times(commitment: dict, execution: dict, problems: list[str]) -> None:
    times = {}
    for where, block, key in (("commitment.committed_at", commitment, "committed_at"),
                              ("execution.executed_at", execution, "executed_at")):
        value = block.get(key)
        try:
            # "Z" is spelled out for Python < 3.11, whose fromisoformat does not read it.
            moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
        except (AttributeError, TypeError, ValueError):
            problems.append(f"{where}: {value!r} is not an ISO 8601 date and time")
            continue
        if moment.tzinfo is None:
            problems.append(f"{where}: {value!r} has no UTC offset")
            continue
        times[where] = moment
    if len(times) == 2 and not times["execution.executed_at"] > times["commitment.committed_at"]:
        problems.append(f"execution.executed_at ({execution['executed_at']}) is not after "
                        f"commitment.committed_at ({commitment['committed_at']})")


def _moment(value: Any) -> datetime | None:
    """An ISO 8601 date and time with its UTC offset, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _check_time_lock(commitment: dict, execution: dict, problems: list[str]) -> None:
    """A public source must exist before it is used, and not before the commitment. Each
    declared source's ``available_at`` says when its value becomes known: after the
    commitment (a value known then lets whoever commits choose secrets that give the list
    they want), and the draw executed at or after it, each value entered
    (``execution.sources_entered[n].entered_at``) at or after it and not after the execution.
    A record of the public mode (``commitment.entropy_mode``) must give that time for every
    source: without it nothing shows the value was not chosen."""
    declared = commitment.get("sources_declared")
    if not isinstance(declared, list):
        return                                  # reported by the sources' check
    public = commitment.get("entropy_mode") == "public"
    executed = _moment(execution.get("executed_at"))
    committed = _moment(commitment.get("committed_at"))
    entries = execution.get("sources_entered")
    timed = any(isinstance(s, dict) and "available_at" in s for s in declared)
    if timed and (not isinstance(entries, list) or len(entries) != len(declared)):
        problems.append("execution.sources_entered: missing, or not one entry per declared "
                        "source: the record does not say when each value was entered")
        entries = None
    for n, source in enumerate(declared, 1):
        where = f"commitment.sources_declared[{n}]"
        value = source.get("available_at") if isinstance(source, dict) else None
        if value is None:
            if public:
                problems.append(f"{where}: no available_at: the record does not say when the "
                                "value became known, so nothing shows it was not chosen")
            continue
        known = _moment(value)
        if known is None:
            problems.append(f"{where}.available_at: {value!r} is not an ISO 8601 date and time "
                            "with a UTC offset")
            continue
        if committed is not None and not committed < known:
            problems.append(f"commitment.committed_at ({commitment['committed_at']}) is not "
                            f"before {where}.available_at ({value}): the value was known when "
                            "the draw was committed")
        if executed is not None and executed < known:
            problems.append(f"execution.executed_at ({execution['executed_at']}) is before "
                            f"{where}.available_at ({value}): the draw used a value before "
                            "it was known")
        entry = entries[n - 1] if entries is not None else None
        if entry is None:
            continue
        stamp = entry.get("entered_at") if isinstance(entry, dict) else None
        entered = _moment(stamp)
        if entered is None:
            problems.append(f"execution.sources_entered[{n}].entered_at: {stamp!r} is not an "
                            "ISO 8601 date and time with a UTC offset")
            continue
        if entered < known:
            problems.append(f"execution.sources_entered[{n}].entered_at ({stamp}) is before "
                            f"{where}.available_at ({value}): the value was entered before "
                            "it was known")
        if executed is not None and entered > executed:
            problems.append(f"execution.sources_entered[{n}].entered_at ({stamp}) is after "
                            f"execution.executed_at ({execution['executed_at']})")


def _check_pools(commitment: dict, pool_texts: dict[str, bytes], problems: list[str],
                 parsed: dict[str, tuple[bytes, list[str]]]
                 ) -> list[tuple[dict, list[str] | None]]:
    """The committed pools, each with its ids when its file checks out (else None)."""
    entries = commitment.get("pools")
    if not isinstance(entries, list) or not entries:
        problems.append("commitment.pools: missing or empty")
        return []
    checked, names = [], set()
    for n, pool in enumerate(entries, 1):
        where = f"commitment.pools[{n}]"
        if not isinstance(pool, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        name, file, digest = pool.get("name"), pool.get("file"), pool.get("sha256")
        size, count = pool.get("size"), pool.get("count")
        bad = []
        if not isinstance(name, str) or not name or name in names:
            bad.append(f"name {name!r} is missing or repeated")
        if not isinstance(file, str) or not file:
            bad.append(f"file {file!r} is missing")
        if not isinstance(digest, str) or not _SHA256.match(digest):
            bad.append(f"sha256 {digest!r} is not 64 lower-case hex digits")
        if not _is_count(size):
            bad.append(f"size {size!r} is not a whole number")
        if not _is_count(count) or (_is_count(size) and count > size):
            bad.append(f"count {count!r} is not a whole number from 0 to the size")
        if bad:
            problems.append(f"{where}: " + "; ".join(bad))
            continue
        names.add(name)
        label = f"pool {name} ({file})"
        data = pool_texts.get(name)
        if data is None:
            problems.append(f"pool {name}: no pool file given (the record names {file})")
            checked.append((pool, None))
            continue
        found = sha256_hex(data)
        if found != digest:
            problems.append(f"{label}: SHA-256 differs from the commitment: "
                            f"committed {digest}, the file has {found}")
            checked.append((pool, None))
            continue
        known = parsed.get(name)
        try:
            ids = known[1] if known is not None and known[0] is data else parse_pool_file(data)
        except ValueError as exc:
            problems.append(f"{label}: not a canonical pool file: {exc}")
            checked.append((pool, None))
            continue
        if len(ids) != size:
            problems.append(f"{label}: the commitment says {size} candidates, "
                            f"the file has {len(ids)}")
            checked.append((pool, None))
            continue
        checked.append((pool, ids))
    for name in sorted(set(pool_texts) - names):
        problems.append(f"pool file given for {name!r}, which the record does not commit to")
    return checked


def _check_sources(commitment: dict, execution: dict, problems: list[str]) -> list | None:
    """The sources to re-run with, or None when they cannot be trusted."""
    before = len(problems)
    declared = commitment.get("sources_declared")
    values = execution.get("sources")
    if not isinstance(declared, list):
        problems.append("commitment.sources_declared: missing or not a JSON array")
    if not isinstance(values, list):
        problems.append("execution.sources: missing or not a JSON array")
    elif isinstance(declared, list) and len(values) != len(declared):
        problems.append(f"execution.sources has {len(values)} sources, "
                        f"commitment.sources_declared declares {len(declared)}")

    committed = commitment.get("secret_commitments")
    revealed = execution.get("secrets_revealed")
    commitments: dict[str, str] = {}
    if not isinstance(committed, list):
        problems.append("commitment.secret_commitments: missing or not a JSON array")
        committed = []
    for n, entry in enumerate(committed, 1):
        party = entry.get("party") if isinstance(entry, dict) else None
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(party, str) or not party or party in commitments:
            problems.append(f"commitment.secret_commitments[{n}]: party {party!r} "
                            "is missing or repeated")
        elif not isinstance(digest, str) or not _SHA256.match(digest):
            problems.append(f"secret of party {party}: commitment {digest!r} "
                            "is not 64 lower-case hex digits")
            commitments[party] = ""
        else:
            commitments[party] = digest
    secrets: dict[str, str] = {}
    reported: set[str] = set()
    if not isinstance(revealed, list):
        problems.append("execution.secrets_revealed: missing or not a JSON array")
        revealed = []
    for n, entry in enumerate(revealed, 1):
        party = entry.get("party") if isinstance(entry, dict) else None
        secret = entry.get("secret") if isinstance(entry, dict) else None
        if not isinstance(party, str) or party in secrets or party in reported:
            problems.append(f"execution.secrets_revealed[{n}]: party {party!r} "
                            "is missing or repeated")
        elif party not in commitments:
            problems.append(f"secret of party {party}: revealed but never committed")
        elif not isinstance(secret, str):
            problems.append(f"secret of party {party}: {secret!r} is not a string")
            reported.add(party)
        else:
            secrets[party] = secret
            found = secret_commitment(secret)
            if commitments[party] and found != commitments[party]:
                problems.append(f"secret of party {party}: SHA-256 of the revealed secret is "
                                f"{found}, the commitment is {commitments[party]}")
    for party in commitments:
        if party not in secrets and party not in reported:
            problems.append(f"secret of party {party}: committed but not revealed")
    if len(problems) > before:
        return None

    sources = sources_for({"commitment": commitment, "execution": execution})
    try:
        key = rfc3797.key_string(sources)
    except (TypeError, ValueError) as exc:
        problems.append(f"sources: {exc}")
        return None
    recorded = execution.get("key_string")
    if recorded is not None and recorded != key:
        problems.append(f"execution.key_string: the record says {recorded!r}, "
                        f"the sources give {key!r}")
        return None
    return sources


def _check_results(pools: list[tuple[dict, list[str] | None]], sources: list | None,
                   results: list, problems: list[str]) -> dict[str, list[str]]:
    """Compare each pool's result with a re-run; returns the re-run ids by pool name."""
    rerun: dict[str, list[str]] = {}
    by_pool: dict[str, dict] = {}
    for n, result in enumerate(results, 1):
        name = result.get("pool") if isinstance(result, dict) else None
        if not isinstance(name, str) or name in by_pool:
            problems.append(f"results[{n}]: pool {name!r} is missing or repeated")
            continue
        by_pool[name] = result
    committed = {pool["name"] for pool, _ in pools}
    for name in by_pool:
        if name not in committed:
            problems.append(f"results: pool {name} was not committed to")

    for pool, ids in pools:
        name, count = pool["name"], pool["count"]
        result = by_pool.get(name)
        if result is None:
            problems.append(f"pool {name}: no result in the record")
            continue
        if ids is None or sources is None:
            why = "its pool file" if ids is None else "the sources"
            problems.append(f"pool {name}: selection not re-run because {why} "
                            "failed the checks above")
            continue
        positions, selected = result.get("positions"), result.get("selected")
        if not isinstance(positions, list) or not isinstance(selected, list):
            problems.append(f"pool {name}: result positions and selected must be JSON arrays")
            continue
        expected = rfc3797.select(ids, sources, count)
        expected_ids = [ids[p - 1] for p in expected]
        rerun[name] = expected_ids
        _compare(f"pool {name}", "position", positions, expected,
                 lambda p: f" ({ids[p - 1]})" if _is_count(p) and 1 <= p <= len(ids) else "",
                 problems)
        if positions == expected:
            _compare(f"pool {name}", "selected id", selected, expected_ids, lambda _: "", problems)
    return rerun


def _check_teams(record: dict, commitment: dict, rerun: dict[str, list[str]],
                 problems: list[str]) -> None:
    """A team draw (``"kind": "team"``): re-run the assignment of ``teams.py`` from the
    committed per-visit eligibility and the re-run permutation, and compare every visit's team
    and reserve order with ``record["assignment"]``."""
    try:
        teams = _teams_module()
    except ImportError as exc:
        problems.append(f"teams: cannot check the assignment: {exc}")
        return
    params = commitment.get("parameters")
    visits = params.get("visits") if isinstance(params, dict) else None
    pool = params.get("pool") if isinstance(params, dict) else None
    if not isinstance(params, dict) or params.get("team_algorithm") != teams.ALGORITHM:
        found = params.get("team_algorithm") if isinstance(params, dict) else None
        problems.append(f"teams: commitment.parameters.team_algorithm is {found!r}, "
                        f"this verifier implements {teams.ALGORITHM!r}")
        return
    if not isinstance(visits, list) or not isinstance(pool, str):
        problems.append("teams: commitment.parameters needs a pool name and a visits array")
        return
    assignment = record.get("assignment")
    if not isinstance(assignment, list):
        problems.append("teams: the record has no assignment array")
        return
    pools = {p.get("name"): p for p in commitment.get("pools", []) if isinstance(p, dict)}
    if pool not in pools:
        problems.append(f"teams: pool {pool!r} is not committed")
        return
    if pools[pool].get("count") != pools[pool].get("size"):
        problems.append(f"teams: pool {pool} must be drawn in full (a permutation), "
                        f"count {pools[pool].get('count')!r} of {pools[pool].get('size')!r}")
        return
    permutation = rerun.get(pool)
    if permutation is None:
        problems.append(f"teams: assignment not re-run because pool {pool} failed the "
                        "checks above")
        return
    try:
        expected = teams.assign(permutation, visits)
    except (AttributeError, TypeError, ValueError) as exc:
        problems.append(f"teams: the committed visits cannot be assigned: {exc}")
        return
    if len(assignment) != len(expected):
        problems.append(f"teams: the record assigns {len(assignment)} visits, "
                        f"the commitment lists {len(expected)}")
    for n, (have, want) in enumerate(zip(assignment, expected), 1):
        if not isinstance(have, dict):
            problems.append(f"teams: assignment[{n}] is not a JSON object")
            continue
        label = want["visit"]
        if have.get("visit") != label:
            problems.append(f"teams: assignment[{n}] is for visit {have.get('visit')!r}, "
                            f"the commitment lists visit {label!r} there")
            continue
        for part in ("team", "reserve"):
            if have.get(part) != want[part]:
                problems.append(f"teams: visit {label}: the record has {part} "
                                f"{have.get(part)!r}, the re-run gives {want[part]!r}")


def _check_log(record: dict, commitment: dict, execution: dict, problems: list[str],
               keys: Iterable[str] | None, witness_keys: list[str] = (),
               min_cosignatures: int = 1) -> None:
    """The record's commitment and result are the ones in the public log: each entry holds
    their SHA-256, its inclusion proof leads to a checkpoint signed by the bureau's key, and
    the commitment was logged before any public source's value was known."""
    try:
        tlog = _log_module()
    except ImportError as exc:
        problems.append(f"log: cannot check the public log: {exc}")
        return
    log = record.get("log")
    if not isinstance(log, dict):
        problems.append("log: the record carries no entries of the public log, so nothing "
                        "shows its commitment was published before the draw (a draw prepared "
                        "before the log existed is checked without it: --no-log)")
        return
    trusted = []
    for text in (keys if keys else [log.get("key")]):
        try:
            trusted.append(tlog.parse_verifier_key(text if isinstance(text, str) else ""))
        except tlog.LogError as exc:
            problems.append(f"log: key: {exc}")
    if not trusted:
        return
    witnesses = []
    for text in witness_keys:
        try:
            witnesses.append(tlog.parse_verifier_key(text if isinstance(text, str) else ""))
        except tlog.LogError as exc:
            problems.append(f"log: witness key: {exc}")
    if len(witnesses) != len(witness_keys):
        return
    if witnesses and not 1 <= min_cosignatures <= len(witnesses):
        problems.append(f"log: {min_cosignatures} cosignatures required of "
                        f"{len(witnesses)} witnesses given")
        return
    logged = {}
    for kind, expected in (("commitment", commitment_hash(commitment)),
                           ("result", result_hash(record))):
        entry = _check_log_entry(tlog, kind, log.get(kind), record, expected, trusted,
                                 log.get("origin"), problems, witnesses, min_cosignatures)
        if entry is not None:
            logged[kind] = entry
    if "commitment" in logged and "result" in logged \
            and not logged["result"]["index"] > logged["commitment"]["index"]:
        problems.append("log: the result is logged before the commitment")
    _check_log_times(logged, commitment, execution, problems)


def _check_log_entry(tlog, kind: str, part: Any, record: dict, expected: str, trusted: list,
                     origin: Any, problems: list[str], witnesses: list = (),
                     min_cosignatures: int = 1) -> dict | None:
    """One logged entry of the record (``kind`` is commitment or result); its fields, with
    ``index`` and the parsed ``logged_at``, when everything about it checks out."""
    where = f"log.{kind}"
    if not isinstance(part, dict):
        problems.append(f"{where}: missing: the record's {kind} is not shown to be in the log")
        return None
    text, index, proof = part.get("entry"), part.get("index"), part.get("proof")
    try:
        entry = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        entry = None
    if not isinstance(entry, dict) or not _is_count(index) or not isinstance(proof, list):
        problems.append(f"{where}: needs an entry (JSON text), an index and a proof")
        return None
    if entry.get("kind") != kind or entry.get("draw_id") != record.get("draw_id"):
        problems.append(f"{where}: the entry is the {entry.get('kind')!r} of "
                        f"{entry.get('draw_id')!r}, not the {kind} of {record.get('draw_id')!r}")
        return None
    if entry.get("sha256") != expected:
        problems.append(f"{where}: the log holds SHA-256 {entry.get('sha256')} for the {kind} "
                        f"of {record.get('draw_id')}, the record's {kind} has {expected}: "
                        "this is not the record the bureau logged")
        return None
    try:
        note, _ = tlog.verify_note(part.get("checkpoint") or "", trusted)
        checkpoint = tlog.parse_checkpoint(note.text)
    except tlog.LogError as exc:
        problems.append(f"{where}.checkpoint: {exc}")
        return None
    if origin is not None and checkpoint.origin != origin:
        problems.append(f"{where}.checkpoint: origin {checkpoint.origin!r}, the record's log "
                        f"is {origin!r}")
        return None
    if witnesses:
        good, bad = tlog.cosigned_by(note, witnesses)
        for key in bad:
            problems.append(f"{where}.checkpoint: the cosignature of {key.name} does not verify")
        if len(good) < min_cosignatures:
            problems.append(f"{where}.checkpoint: valid cosignatures of {len(good)} of the "
                            f"{len(witnesses)} witnesses given, {min_cosignatures} required")
    try:
        hashes = [tlog.unb64(h) if isinstance(h, str) else b"" for h in proof]
        tlog.verify_inclusion(index, checkpoint.size, tlog.leaf_hash(text.encode("utf-8")),
                              hashes, checkpoint.root)
    except tlog.LogError as exc:
        problems.append(f"{where}: entry {index} in the checkpoint of size "
                        f"{checkpoint.size}: {exc}")
        return None
    moment = _moment(entry.get("logged_at"))
    if moment is None:
        problems.append(f"{where}: logged_at {entry.get('logged_at')!r} is not an ISO 8601 "
                        "date and time with a UTC offset")
        return None
    return {**entry, "index": index, "moment": moment}


def _check_log_times(logged: dict, commitment: dict, execution: dict,
                     problems: list[str]) -> None:
    """Logged after it was made, before anything random was known."""
    committed = _moment(commitment.get("committed_at"))
    executed = _moment(execution.get("executed_at"))
    entry = logged.get("commitment")
    if entry is not None:
        stamp = entry["logged_at"]
        if committed is not None and entry["moment"] < committed:
            problems.append(f"log.commitment: logged at {stamp}, before the commitment was "
                            f"made ({commitment.get('committed_at')})")
        declared = commitment.get("sources_declared")
        for n, source in enumerate(declared if isinstance(declared, list) else [], 1):
            known = _moment(source.get("available_at")) if isinstance(source, dict) else None
            if known is not None and not entry["moment"] < known:
                problems.append(f"log.commitment: logged at {stamp}, not before "
                                f"commitment.sources_declared[{n}] was known "
                                f"({source['available_at']})")
        if executed is not None and not entry["moment"] < executed:
            problems.append(f"log.commitment: logged at {stamp}, not before the execution "
                            f"({execution.get('executed_at')})")
    entry = logged.get("result")
    if entry is not None and executed is not None and entry["moment"] < executed:
        problems.append(f"log.result: logged at {entry['logged_at']}, before the execution "
                        f"({execution.get('executed_at')})")


def _compare(label: str, what: str, found: list, expected: list, note, problems: list[str]) -> None:
    if found == expected:
        return
    for pick, (have, want) in enumerate(zip(found, expected), 1):
        if have != want:
            problems.append(f"{label}: pick {pick} differs: the record has {what} {have!r}"
                            f"{note(have)}, the re-run gives {want!r}{note(want)}")
            break
    if len(found) != len(expected):
        problems.append(f"{label}: the record lists {len(found)} {what}s, "
                        f"the committed count is {len(expected)}")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# --- command line -----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m inspection.draws.engine.verify",
        description="Re-run a published RFC 3797 draw and compare it with its record.")
    parser.add_argument("record", help="the draw record (JSON)")
    parser.add_argument("pools", nargs="+", metavar="[NAME=]POOL_FILE",
                        help="a pool file, matched by its base name or named NAME=FILE")
    parser.add_argument("--trace", action="store_true",
                        help="also print every selection step (counter, MD5, divisor, pick)")
    parser.add_argument("--log-key", action="append", metavar="VKEY",
                        help="the bureau's public log key as published on its portal "
                             "(name+hash+key); default: the key the record names")
    parser.add_argument("--no-log", action="store_true",
                        help="skip the public log (only for draws prepared before it existed)")
    parser.add_argument("--witness-key", action="append", metavar="VKEY",
                        help="require cosignatures of the log's checkpoints: a witness's "
                             "cosignature key (name+hash+key); repeatable")
    parser.add_argument("--min-cosignatures", type=int, default=1, metavar="N",
                        help="how many of the --witness-key witnesses must have cosigned each "
                             "checkpoint (default 1)")
    args = parser.parse_args(argv)
    if args.no_log and args.witness_key:
        return _usage_error("--witness-key checks the log: it does not go with --no-log")

    try:
        record = json.loads(Path(args.record).read_bytes().decode("utf-8"), parse_float=Decimal)
    except OSError as exc:
        return _usage_error(f"cannot read {args.record}: {exc.strerror or exc}")
    except (UnicodeDecodeError, ValueError) as exc:
        return _usage_error(f"{args.record} is not a JSON document: {exc}")
    if not isinstance(record, dict):
        return _usage_error(f"{args.record} is not a draw record (not a JSON object)")

    committed = _committed_files(record)
    pool_texts: dict[str, bytes] = {}
    for arg in args.pools:
        name, sep, path = arg.partition("=")
        if not (sep and name in committed.values()):
            path = arg
            name = committed.get(Path(arg).name)
            if name is None:
                files = ", ".join(sorted(committed)) or "none"
                return _usage_error(f"{arg} is not a pool file named in the record ({files}); "
                                    "write NAME=FILE to name its pool")
        if name in pool_texts:
            return _usage_error(f"two files given for pool {name}")
        try:
            pool_texts[name] = Path(path).read_bytes()
        except OSError as exc:
            return _usage_error(f"cannot read {path}: {exc.strerror or exc}")

    if args.no_log:
        record = {key: value for key, value in record.items() if key != "log"}
    problems = verify(record, pool_texts, log_keys=args.log_key, require_log=not args.no_log,
                      witness_keys=args.witness_key, min_cosignatures=args.min_cosignatures)
    log = record.get("log") if isinstance(record.get("log"), dict) else {}
    if not args.no_log and not args.log_key and log.get("key"):
        print(f"note: the log's checkpoints were checked with the key the record names, "
              f"{log['key']}: compare it with the key on the bureau's portal, or give that "
              "one with --log-key")
    if problems:
        print(f"FAILED: {len(problems)} problem{'s' if len(problems) > 1 else ''}")
        for problem in problems:
            print(f"- {problem}")
        return 1
    if args.trace:
        _print_trace(record, pool_texts)
    print("OK")
    return 0


def _committed_files(record: dict) -> dict[str, str]:
    """File base name -> pool name, as far as the record's pool list is readable."""
    commitment = record.get("commitment")
    pools = commitment.get("pools") if isinstance(commitment, dict) else None
    files = {}
    for pool in pools if isinstance(pools, list) else []:
        if isinstance(pool, dict) and isinstance(pool.get("file"), str) \
                and isinstance(pool.get("name"), str):
            files[Path(pool["file"]).name] = pool["name"]
    return files


def _print_trace(record: dict, pool_texts: dict[str, bytes]) -> None:
    sources = sources_for(record)
    print(f"key string: {rfc3797.key_string(sources)}")
    for pool in record["commitment"]["pools"]:
        ids = parse_pool_file(pool_texts[pool["name"]])
        print(f"pool {pool['name']}: {pool['count']} of {pool['size']}")
        print(f"{'step':>5}  {'hex value of MD5':32}  {'div':>7}  {'index':>7}  "
              f"{'position':>8}  candidate")
        for step in rfc3797.trace(len(ids), sources, pool["count"]):
            print(f"{step.counter + 1:5d}  {step.md5}  {step.remaining:7d}  {step.index:7d}  "
                  f"{step.position:8d}  {ids[step.position - 1]}")


def _usage_error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
