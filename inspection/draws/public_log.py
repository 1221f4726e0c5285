"""The public log of draws: every commitment at preparation and every executed result, in a
transparency log anyone can watch (docs/draws.md, "The public log").

Each entry is the canonical JSON of ``{"draw_id", "kind", "logged_at", "sha256"}``: the
commitment's SHA-256 when a draw is prepared, the record's when it is executed. Nothing else
of the draw is in it (no pool, task or employer), so logging a draw of an unannounced task
tells nobody what it is about.

Appending happens in the draw's own transaction (:func:`append`, called once by
``commitments.prepare`` and once by ``commitments.execute``): the entry, the new tree head
and its signed checkpoint commit or roll back with the draw. Appends are serialised by the
head row (one row holding the size and the compact range of the tree), taken with the same
insert-or-update that numbers the draws, so two draws prepared at once cannot both claim the
same index: the second waits for the first to commit. With the compact range the head is
all an append reads: the new leaf's inclusion proof is the range itself, and the new root is
folded from it, so an append costs the same whatever the size of the log.

Every size gets its checkpoint, signed with the bureau's Ed25519 key (``LOG_SIGNING_KEY``)
under the log's origin (``LOG_ORIGIN``), and every entry keeps the inclusion proof to the
checkpoint signed at its own append: the draw's public record carries both, and they never
change afterwards.

Witnesses (``LOG_WITNESSES``; :mod:`.witnesses` submits to them): each append also records,
in the same transaction, a job of the queue (kind ``log_witnesses``) that is put on the
queue once the transaction commits, never before and never for a rolled-back draw. The
witnesses' cosignatures, verified with their configured keys, are kept in
``tlog_cosignature`` and appended to the checkpoints served at ``/public/log/checkpoint``
and carried by the draws' records.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import (BigInteger, DateTime, ForeignKey, String, Text, and_, event, func,
                        select, update)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from ..core import audit
from ..core.models import utcnow
from ..core.timeutil import to_local
from ..extensions import db
from ..jobs import queue as job_queue
from ..jobs.models import Job, JobStatus
from .engine import tlog

HEAD_ID = 1
COMMITMENT = "commitment"
RESULT = "result"
#: The job kind that submits the log's new checkpoints to its witnesses (:mod:`.witnesses`).
WITNESS_JOB = "log_witnesses"
#: Where a session keeps the ids of the submission jobs to enqueue once it commits.
_AFTER_COMMIT = "tlog.witness_jobs"


class LogHead(db.Model):
    """The log's head: its size and compact range (the roots of its perfect subtrees, left to
    right, as concatenated hex). Its one row is what appends take turns on."""

    __tablename__ = "tlog_head"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    compact: Mapped[str] = mapped_column(Text)


class LogEntry(db.Model):
    """One leaf of the log, never changed."""

    __tablename__ = "tlog_entry"
    #: The leaf index, from 0.
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(12))
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"), index=True)
    #: The entry's bytes as UTF-8 text (canonical JSON); the leaf hash is over these bytes.
    entry: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    #: The inclusion proof in the tree of ``position + 1`` leaves, concatenated hex.
    proof: Mapped[str] = mapped_column(Text)
    logged_at: Mapped[datetime] = mapped_column(DateTime)


class LogCheckpoint(db.Model):
    """The signed checkpoint of every size the log has had."""

    __tablename__ = "tlog_checkpoint"
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[str] = mapped_column(String(64))
    #: The signed note, as served at /public/log/checkpoint while it was the newest.
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(DateTime)


class LogCosignature(db.Model):
    """A witness's cosignature of the checkpoint of one size (c2sp.org/tlog-cosignature),
    kept once it verified with the witness's configured key; never changed."""

    __tablename__ = "tlog_cosignature"
    #: The witness's cosignature key as configured (``name+hash+key``): a witness that
    #: changes its key is another witness.
    witness: Mapped[str] = mapped_column(String(400), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, ForeignKey("tlog_checkpoint.size"),
                                      primary_key=True, autoincrement=False, index=True)
    #: The signature line as appended to the checkpoint (``— <name> <base64>``, newline).
    line: Mapped[str] = mapped_column(Text)
    #: The time in the cosignature (the witness's clock), and when the log received it.
    cosigned_at: Mapped[datetime] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime)


def _hex_hashes(text: str) -> list[bytes]:
    return [bytes.fromhex(text[i:i + 64]) for i in range(0, len(text), 64)]


def signer() -> tlog.Signer:
    """The bureau's signer, from the settings (made once per process)."""
    found = current_app.extensions.get("tlog.signer")
    if found is None:
        found = current_app.extensions["tlog.signer"] = tlog.Signer.parse(
            current_app.config["SETTINGS"].LOG_SIGNING_KEY)
    return found


def origin() -> str:
    return current_app.config["SETTINGS"].LOG_ORIGIN


def verifier_key() -> str:
    """The bureau's public key as a note verifier key, published on the portal."""
    return str(signer().verifier)


def witnesses() -> list[tlog.Witness]:
    """The witnesses of ``LOG_WITNESSES`` (checked at start-up), in the order given."""
    text = current_app.config["SETTINGS"].LOG_WITNESSES
    parsed = current_app.extensions.setdefault("tlog.witnesses", {})
    if text not in parsed:
        parsed[text] = tlog.parse_witness_list(text)
    return parsed[text]


def _lock_head() -> tuple[int, list[bytes]]:
    """The head's size and compact range, locked until the transaction ends (the first
    append creates the row)."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    size, compact = db.session.execute(
        insert(LogHead).values(id=HEAD_ID, size=0, compact="")
        .on_conflict_do_update(index_elements=[LogHead.id], set_={"size": LogHead.size})
        .returning(LogHead.size, LogHead.compact)).one()
    return size, _hex_hashes(compact)


def append(kind: str, draw, sha256: str) -> LogEntry:
    """Log ``sha256`` (a commitment's or a record's) for ``draw``, and sign the new tree
    head. Does not commit: the caller's transaction holds the head until it ends."""
    size, compact = _lock_head()
    now = utcnow()
    data = audit.canonical_json({
        "draw_id": draw.public_id, "kind": kind, "sha256": sha256,
        "logged_at": to_local(now).isoformat(timespec="microseconds")})
    leaf = tlog.leaf_hash(data)
    proof = tlog.last_leaf_proof(compact)
    grown = tlog.compact_append(compact, size, leaf)
    root = tlog.compact_root(grown)
    note = signer().sign_note(tlog.Checkpoint(origin(), size + 1, root).text())
    entry = LogEntry(position=size, kind=kind, draw_id=draw.id, entry=data.decode("utf-8"),
                     leaf_hash=leaf.hex(), proof="".join(p.hex() for p in proof), logged_at=now)
    db.session.add(entry)
    db.session.add(LogCheckpoint(size=size + 1, root=root.hex(), note=note, signed_at=now))
    db.session.execute(update(LogHead).where(LogHead.id == HEAD_ID)
                       .values(size=size + 1, compact="".join(h.hex() for h in grown)))
    if witnesses():
        _submit_after_commit(size + 1, now)
    return entry


def _submit_after_commit(size: int, now: datetime) -> None:
    """Record the job that submits the checkpoint of ``size`` to the witnesses, in the
    draw's transaction; :func:`_enqueue_after_commit` hands it to the queue once that
    commits. No network call happens here (nor in any request): the job makes them."""
    job = Job(kind=WITNESS_JOB, key=f"{WITNESS_JOB}:{size}", params={"size": size},
              status=JobStatus.QUEUED.value, progress_done=0, progress_message="",
              attempts=0, created_at=now)
    db.session.add(job)
    db.session.flush()
    db.session.info.setdefault(_AFTER_COMMIT, []).append(job.id)


def _enqueue_after_commit(session) -> None:
    ids = session.info.pop(_AFTER_COMMIT, None)
    if ids:
        the_queue = job_queue.current()
        for job_id in ids:
            the_queue.enqueue(job_id)     # a lost message: the worker's recovery enqueues it


def _forget_after_rollback(session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


event.listen(db.session, "after_commit", _enqueue_after_commit)
event.listen(db.session, "after_rollback", _forget_after_rollback)


def record_section(draw_id: int) -> dict | None:
    """The ``log`` part of a draw's public record: for its commitment (and its result once
    executed) the entry, its index, the inclusion proof and the checkpoint it leads to.
    None for a draw prepared before the log existed."""
    rows = db.session.execute(
        select(LogEntry, LogCheckpoint.note)
        .join(LogCheckpoint, LogCheckpoint.size == LogEntry.position + 1)
        .where(LogEntry.draw_id == draw_id).order_by(LogEntry.position)).all()
    if not rows:
        return None
    section = {"origin": origin(), "key": verifier_key()}
    lines = cosignature_lines([entry.position + 1 for entry, _note in rows])
    for entry, note in rows:
        section[entry.kind] = {
            "index": entry.position, "entry": entry.entry, "tree_size": entry.position + 1,
            "proof": [tlog.b64(h) for h in _hex_hashes(entry.proof)],
            "checkpoint": note + "".join(lines.get(entry.position + 1, ()))}
    return section


def with_log(draw, body: dict) -> dict:
    """The public record ``body`` of ``draw`` with its ``log`` section, when it has one."""
    section = record_section(draw.id)
    if section is None:
        return body
    return {**body, "log": section}


# --- what /public/log/ serves ----------------------------------------------------------------

def latest_checkpoint() -> str:
    """The newest signed checkpoint, with the cosignatures the configured witnesses gave it
    so far; an empty log's is signed on the spot (the empty tree is consistent with every
    tree, so it can never contradict a later one)."""
    row = db.session.execute(select(LogCheckpoint.size, LogCheckpoint.note)
                             .order_by(LogCheckpoint.size.desc()).limit(1)).first()
    if row is None:
        return signer().sign_note(tlog.Checkpoint(origin(), 0, tlog.EMPTY_ROOT).text())
    return row.note + "".join(cosignature_lines([row.size]).get(row.size, ()))


def checkpoint_note(size: int) -> str | None:
    """The bureau's signed checkpoint of ``size`` as signed (no cosignatures)."""
    return db.session.scalar(select(LogCheckpoint.note).where(LogCheckpoint.size == size))


# --- witnesses' cosignatures -----------------------------------------------------------------

def cosignature_lines(sizes: list[int]) -> dict[int, list[str]]:
    """The configured witnesses' cosignature lines of the checkpoints of ``sizes``, by size,
    in the witnesses' order (one query)."""
    order = {str(w.key): n for n, w in enumerate(witnesses())}
    if not order or not sizes:
        return {}
    rows = db.session.execute(select(LogCosignature.size, LogCosignature.witness,
                                     LogCosignature.line)
                              .where(LogCosignature.size.in_(sorted(set(sizes))),
                                     LogCosignature.witness.in_(list(order)))).all()
    found: dict[int, list[str]] = {}
    for size, witness, line in sorted(rows, key=lambda r: (r.size, order[r.witness])):
        found.setdefault(size, []).append(line)
    return found


def latest_cosignatures() -> dict[str, LogCosignature]:
    """Each configured witness's newest cosignature, by its key (one query)."""
    keys = [str(w.key) for w in witnesses()]
    if not keys:
        return {}
    newest = (select(LogCosignature.witness, func.max(LogCosignature.size).label("size"))
              .where(LogCosignature.witness.in_(keys)).group_by(LogCosignature.witness)
              .subquery())
    rows = db.session.scalars(select(LogCosignature).join(newest, and_(
        LogCosignature.witness == newest.c.witness, LogCosignature.size == newest.c.size)))
    return {row.witness: row for row in rows}


def keep_cosignature(witness: str, size: int, line: str, cosigned_at: datetime) -> None:
    """Keep a verified cosignature (a second one of the same witness and size is ignored:
    the first stays). Does not commit."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(LogCosignature).values(
        witness=witness, size=size, line=line, cosigned_at=cosigned_at, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=[LogCosignature.witness, LogCosignature.size]))


def leaf_hashes(size: int) -> list[bytes]:
    """The leaf hashes of the tree of ``size`` (the log computes any proof from them)."""
    return _leaf_hashes(0, size)


def size() -> int:
    return db.session.scalar(select(LogHead.size).where(LogHead.id == HEAD_ID)) or 0


def _leaf_hashes(start: int, end: int) -> list[bytes]:
    rows = db.session.scalars(select(LogEntry.leaf_hash).where(
        LogEntry.position >= start, LogEntry.position < end).order_by(LogEntry.position))
    return [bytes.fromhex(h) for h in rows]


def tile(level: int, n: int, width: int) -> bytes | None:
    """Tile ``n`` of ``level`` with ``width`` hashes, or None when the log has no such tile
    (yet). A tile of level L holds MTH of 256^L consecutive leaves per hash; it is computed
    from the leaf hashes, and never changes once it can be served."""
    if not 0 <= level <= 63 or width > tlog.tile_width(level, n, size()):
        return None
    span = 1 << (tlog.TILE_HEIGHT * level)
    start = n * tlog.TILE_WIDTH * span
    hashes = _leaf_hashes(start, start + width * span)
    if len(hashes) != width * span:
        return None
    if level == 0:
        return b"".join(hashes)
    return b"".join(tlog.perfect_root(hashes[i * span:(i + 1) * span]) for i in range(width))


def entries(n: int, width: int) -> bytes | None:
    """Entry bundle ``n`` with ``width`` entries (c2sp.org/tlog-tiles), or None."""
    if width > tlog.tile_width(0, n, size()):
        return None
    start = n * tlog.TILE_WIDTH
    rows = db.session.scalars(select(LogEntry.entry).where(
        LogEntry.position >= start, LogEntry.position < start + width)
        .order_by(LogEntry.position)).all()
    if len(rows) != width:
        return None
    return tlog.bundle(text.encode("utf-8") for text in rows)
