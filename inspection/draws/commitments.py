"""Commit, then execute: the two steps every draw (target or team) goes through.

``prepare`` freezes the pools as canonical pool files in the file store and writes the
commitment (their SHA-256s, the parameters, the algorithm, the declared public sources and
the parties' secret commitments). ``execute`` takes the sources' values and the revealed
secrets, runs the engine once, checks its own record with the public verifier, and locks the
result. Both write the audit trail; neither commits: the caller adds what follows from the
draw (visits, teams) to the same transaction and commits once.
"""
from __future__ import annotations

import hashlib
import re
import secrets as _secrets
from dataclasses import dataclass
from itertools import islice
from operator import eq, lt
from typing import Any, Iterable

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..core import audit, storage
from ..core.bulk import bulk_insert
from ..core.errors import Conflict, NotFound, ValidationFailed
from ..core.models import User, utcnow
from ..core.timeutil import to_local
from ..extensions import db
from . import rfc3797, verify
from .models import Draw, DrawPool, DrawSecret, DrawSelection, DrawStatus, EntropyMode

POOL_AREA = "pools"
#: The declared source of the weakest mode: drawn by the server at execution.
SYSTEM_SOURCE = {"name": "system randomness at execution (weakest mode)",
                 "name_zh": "执行时由系统生成的随机数（最弱模式）"}


@dataclass(frozen=True)
class PoolSpec:
    """A pool to freeze: candidate ids (credit codes, inspector keys) and how many to draw."""

    name: str
    ids: Iterable[str]
    count: int
    #: ``ids`` is a list already found strictly increasing (in order, no repeat) by whoever
    #: made it: the pool file skips that pass.
    increasing: bool = False


@dataclass(frozen=True)
class SecretSpec:
    """A party's commitment: the SHA-256 of a secret the party keeps until execution."""

    party: str
    sha256: str
    holder_id: int | None = None


def _timestamp() -> str:
    return to_local(utcnow()).isoformat(timespec="microseconds")


def _next_public_id(year: int) -> str:
    prefix = f"DRAW-{year}-"
    n = db.session.scalar(select(func.count(Draw.id)).where(Draw.public_id.startswith(prefix)))
    return f"{prefix}{n + 1:04d}"


def commitment_hash(commitment: dict) -> str:
    return hashlib.sha256(audit.canonical_json(commitment)).hexdigest()


def prepare(*, kind: str, task_id: int, task_label: dict, pools: list[PoolSpec],
            entropy_mode: str, declared_sources: list[dict], secret_specs: list[SecretSpec],
            parameters: dict, actor: User | None, department_id: int | None = None) -> Draw:
    """Freeze the pools and write the commitment. Does not commit the transaction."""
    mode = EntropyMode(entropy_mode)
    if mode is EntropyMode.PUBLIC and not declared_sources:
        raise ValidationFailed(_("Declare at least one future public source."),
                               {"sources": [_("Declare at least one future public source.")]})
    if mode is EntropyMode.SECRETS and len(secret_specs) < 2:
        raise ValidationFailed(_("At least two parties must commit a secret."),
                               {"secrets": [_("At least two parties must commit a secret.")]})
    if mode is EntropyMode.SYSTEM:
        declared_sources = [SYSTEM_SOURCE]
    parties = [s.party for s in secret_specs]
    if len(set(parties)) != len(parties):
        raise ValidationFailed(_("Each party commits one secret."))
    for spec in secret_specs:
        if len(spec.sha256) != 64 or any(c not in "0123456789abcdef" for c in spec.sha256):
            raise ValidationFailed(_("A secret commitment must be 64 lower-case hex digits."),
                                   {"secrets": [spec.party]})
    now = utcnow()
    public_id = _next_public_id(now.year)
    draw = Draw(public_id=public_id, kind=kind, task_id=task_id, department_id=department_id,
                status=DrawStatus.PREPARED.value, entropy_mode=mode.value,
                algorithm=rfc3797.ALGORITHM, commitment={}, commitment_sha256="",
                prepared_by_id=actor.id if actor else None, prepared_at=now)
    pool_entries = []
    for ordinal, spec in enumerate(pools):
        data, size = pool_file(spec.ids, spec.increasing)
        if not 0 <= spec.count <= size:
            raise ValidationFailed(_("Pool %(name)s has %(size)d candidates; cannot draw %(n)d.",
                                     name=spec.name, size=size, n=spec.count))
        sha = storage.put(POOL_AREA, data)
        draw.pools.append(DrawPool(ordinal=ordinal, name=spec.name, size=size,
                                   count=spec.count, sha256=sha))
        pool_entries.append({"name": spec.name, "file": pool_file_name(public_id, spec.name),
                             "sha256": sha, "size": size, "count": spec.count})
    for spec in secret_specs:
        draw.secrets.append(DrawSecret(party=spec.party, sha256=spec.sha256,
                                       holder_id=spec.holder_id))
    draw.commitment = {
        "algorithm": rfc3797.ALGORITHM,
        "draw_id": public_id,
        "kind": kind,
        "task": task_label,
        "entropy_mode": mode.value,
        "parameters": parameters,
        "pools": pool_entries,
        "sources_declared": declared_sources,
        "secret_commitments": [{"party": s.party, "sha256": s.sha256} for s in secret_specs],
        "committed_at": _timestamp(),
    }
    draw.commitment_sha256 = commitment_hash(draw.commitment)
    db.session.add(draw)
    db.session.flush()
    audit.record("draw.prepare", "draw", draw.id,
                 {"public_id": public_id, "kind": kind, "task_id": task_id,
                  "commitment_sha256": draw.commitment_sha256, "mode": mode.value,
                  "pools": {p["name"]: [p["size"], p["count"]] for p in pool_entries}},
                 actor=actor)
    return draw


#: White space other than the line feed: ids with it (or empty ones) take the verifier's own
#: per-id checks, which say what is wrong.
_ODD_SPACE = re.compile(r"[^\S\n]")
#: The ASCII characters ``str.isspace`` accepts, but the line feed.
_ASCII_SPACE = b"\t\x0b\x0c\r\x1c\x1d\x1e\x1f "


def pool_file(ids: Iterable[str], increasing: bool = False) -> tuple[bytes, int]:
    """The canonical pool file of ``ids`` and its number of lines: the bytes
    :func:`verify.pool_file_bytes` writes, checked with whole-list operations (one order
    check, one join, a count and a scan of the text) so that a million ids take a fraction
    of a second. Anything unusual is handed to ``verify.pool_file_bytes`` itself, which says
    what is wrong. ``increasing``: ``ids`` is a list its maker found strictly increasing, so
    the order check is not made again."""
    ordered = ids if isinstance(ids, list) else list(ids)
    if not ordered:
        return b"", 0
    if not isinstance(ids, list):
        increasing = False
    try:
        # Strictly increasing: in order, and no duplicate.
        duplicate = False
        if not increasing and not all(map(lt, ordered, islice(ordered, 1, None))):
            ordered = sorted(ordered)
            duplicate = any(map(eq, ordered, islice(ordered, 1, None)))
        text = None if duplicate else "\n".join(ordered) + "\n"
    except TypeError:                   # not all strings
        text = None
    if text is not None:
        data = text.encode("utf-8")
        # No id holds a line feed (as many as ids), and none is empty: in a strictly
        # increasing list only the first could be (nothing sorts before ""), and the text
        # would then start with a line feed.
        if text.count("\n") == len(ordered) and text[0] != "\n" and (
                len(data.translate(None, _ASCII_SPACE)) == len(data) if data.isascii()
                else not _ODD_SPACE.search(text)):
            return data, len(ordered)
    data = verify.pool_file_bytes(ordered)
    return data, data.count(b"\n")


def pool_file_name(public_id: str, pool: str) -> str:
    return f"{public_id}-pool-{pool}.txt"


def pool_bytes(draw: Draw, pool: DrawPool) -> bytes:
    return storage.read(POOL_AREA, pool.sha256)


def _pool_bytes_to_verify(pool: DrawPool) -> bytes:
    """A pool file's bytes as stored, without the store's own hash check, for a caller that
    checks them against the commitment (the very hash they are stored under) itself before
    anything is kept: the self-verification of :func:`execute`. Hashing a million lines
    once is enough."""
    target = storage.path(POOL_AREA, pool.sha256)
    if not target.is_file():
        raise storage.StoreError("not in the store")
    return target.read_bytes()


def lock(draw_id: int) -> Draw:
    """The draw row, locked for this transaction. A no-op UPDATE takes the row lock on
    PostgreSQL and the write lock on SQLite (which ignores FOR UPDATE), so a second executor
    waits for the first to commit and then reads its result."""
    db.session.execute(update(Draw).where(Draw.id == draw_id).values(status=Draw.status))
    draw = db.session.scalars(select(Draw).where(Draw.id == draw_id).with_for_update()
                              .execution_options(populate_existing=True)).first()
    if draw is None:
        raise NotFound(_("No such draw."))
    return draw


def execute(draw_id: int, *, source_values: list[list[Any]], revealed: dict[str, str],
            actor: User | None, selection_rows: bool = True) -> Draw:
    """Run the draw once. A second call (even at the same moment from another worker) finds
    the draw executed and raises :class:`Conflict`; the first result stands.

    The result is the record (``results``: each pool's positions and candidates in selection
    order). ``selection_rows``: also write it as :class:`DrawSelection` rows. A target draw
    does not: its caller writes one visit link per drawn employer, which carries the pool
    and rank (docs/draws.md "Writing the result")."""
    draw = lock(draw_id)
    if draw.status == DrawStatus.EXECUTED.value:
        raise Conflict(_("This draw was executed at %(when)s; its result is final.",
                         when=to_local(draw.executed_at).strftime("%Y-%m-%d %H:%M:%S")))
    if draw.status != DrawStatus.PREPARED.value:
        raise Conflict(_("This draw was cancelled and cannot be executed."))
    commitment = draw.commitment
    if draw.entropy_mode == EntropyMode.SYSTEM.value:
        source_values = [[_secrets.randbits(128)]]
    if len(source_values) != len(commitment["sources_declared"]):
        raise ValidationFailed(_("Enter a value for every declared source."),
                               {"sources": [_("Enter a value for every declared source.")]})
    problems = {}
    for secret in draw.secrets:
        value = (revealed.get(secret.party) or "").strip()
        if not value:
            problems[secret.party] = [_("The secret is missing.")]
        elif verify.secret_commitment(value) != secret.sha256:
            problems[secret.party] = [_("This secret does not match its commitment.")]
    if problems:
        raise ValidationFailed(_("Some secrets are missing or do not match their commitments."),
                               problems)
    execution = {
        "sources": source_values,
        "secrets_revealed": [{"party": s.party, "secret": revealed[s.party].strip()}
                             for s in draw.secrets],
        "executed_at": _timestamp(),
    }
    record = {"algorithm": draw.algorithm, "draw_id": draw.public_id,
              "task": commitment["task"], "commitment": commitment, "execution": execution}
    try:
        sources = verify.sources_for(record)
        execution["key_string"] = rfc3797.key_string(sources)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("A source value is not valid: %(why)s", why=str(exc)),
                               {"sources": [str(exc)]}) from None
    results, texts, parsed = [], {}, {}
    for pool in draw.pools:
        data = _pool_bytes_to_verify(pool)
        texts[pool.name] = data
        # Parsed once, with the verifier's every check; the self-verification below takes
        # these ids for this very file (and checks its hash against the commitment).
        # A file that fails the checks is drawn from as it stands, for the verification to
        # say what is wrong with it.
        try:
            ids = verify.parse_pool_file(data)
            parsed[pool.name] = (data, ids)
        except ValueError:
            ids = data.decode("utf-8").split("\n")[:-1] if data else []
        positions = rfc3797.select(ids, sources, pool.count)
        selected = [ids[p - 1] for p in positions]
        results.append({"pool": pool.name, "positions": positions, "selected": selected})
    record["results"] = results
    # The draw the bureau makes is the draw the public checks: run the public verifier.
    problems_found = verify.verify(record, texts, parsed)
    if problems_found:
        raise RuntimeError("draw record fails its own verification: " + "; ".join(problems_found))
    if selection_rows:
        # The database's bulk path, not an ORM object per selection.
        rows = [(r["pool"], rank, position, candidate) for r in results
                for rank, (position, candidate) in enumerate(zip(r["positions"], r["selected"]), 1)]
        bulk_insert(DrawSelection.__table__, ("pool_name", "rank", "position", "candidate"),
                    rows, {"draw_id": draw.id})
    draw.execution = execution
    draw.record = record
    draw.record_sha256 = hashlib.sha256(audit.canonical_json(record)).hexdigest()
    draw.status = DrawStatus.EXECUTED.value
    draw.executed_at = utcnow()
    draw.executed_by_id = actor.id if actor else None
    for secret in draw.secrets:
        secret.secret = revealed[secret.party].strip()
        secret.revealed_at = draw.executed_at
    audit.record("draw.execute", "draw", draw.id,
                 {"public_id": draw.public_id, "record_sha256": draw.record_sha256,
                  "selected": {r["pool"]: len(r["selected"]) for r in results}}, actor=actor)
    db.session.flush()
    return draw


def cancel(draw_id: int, reason: str, actor: User | None) -> Draw:
    """Abandon a prepared draw (it stays on record with the reason); never an executed one."""
    draw = lock(draw_id)
    if draw.status != DrawStatus.PREPARED.value:
        raise Conflict(_("Only a prepared draw can be cancelled."))
    if not reason.strip():
        raise ValidationFailed(_("Give a reason."), {"reason": [_("Give a reason.")]})
    draw.status = DrawStatus.CANCELLED.value
    draw.cancel_reason = reason.strip()
    audit.record("draw.cancel", "draw", draw.id, {"reason": draw.cancel_reason}, actor=actor)
    return draw


def selections(draw: Draw, pool_name: str | None = None) -> list[DrawSelection]:
    query = select(DrawSelection).where(DrawSelection.draw_id == draw.id)
    if pool_name is not None:
        query = query.where(DrawSelection.pool_name == pool_name)
    return db.session.scalars(query.order_by(DrawSelection.pool_name, DrawSelection.rank)).all()


def verify_draw(draw: Draw) -> list[str]:
    """Re-check an executed draw from what is stored: the record and the pool files."""
    if draw.record is None:
        return [_("The draw has not been executed.")]
    texts = {}
    for pool in draw.pools:
        try:
            texts[pool.name] = storage.read(POOL_AREA, pool.sha256)
        except storage.StoreError as exc:
            return [f"pool {pool.name}: {exc}"]
    problems = verify.verify(draw.record, texts)
    if hashlib.sha256(audit.canonical_json(draw.record)).hexdigest() != draw.record_sha256:
        problems.append("the stored record does not match its recorded SHA-256")
    return problems
