"""The audit trail: an append-only, hash-chained log of every state change.

Operations call :func:`record` inside the transaction of the change they make, so the entry
and the change commit or roll back together. Each entry's hash is the SHA-256 of the previous
entry's hash followed by the canonical JSON of the entry (sorted keys, no spaces, UTF-8), so
editing, removing or reordering any entry breaks the chain from there on, and
:func:`verify` finds the first bad entry.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Iterator

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select, update

from ..extensions import db
from .models import AuditEntry, AuditHead, User, utcnow
from .timeutil import local_to_utc

GENESIS = "0" * 64
HEAD_ID = 1


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode("utf-8")


def _entry_body(entry: AuditEntry) -> dict[str, Any]:
    """The fields the hash covers, as they are stored."""
    return {
        "seq": entry.seq,
        "at": entry.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "actor_roles": entry.actor_roles,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "summary": entry.summary,
        "client_address": entry.client_address,
    }


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(_entry_body(entry))).hexdigest()


def ensure_head() -> None:
    """Create the head row of an empty chain (migrations and test resets call this)."""
    if db.session.get(AuditHead, HEAD_ID) is None:
        db.session.add(AuditHead(id=HEAD_ID, seq=0, hash=GENESIS))
        db.session.flush()


def record(action: str, object_type: str, object_id: Any = None,
           summary: dict[str, Any] | None = None, actor: User | None = None) -> AuditEntry:
    """Append one entry for a change made in the current transaction. Does not commit.

    ``actor`` defaults to the logged-in user; CLI commands pass ``None`` and are recorded as
    the system. ``summary`` says what changed, e.g. ``{"field": [old, new]}``.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    # Updating the head first serialises writers: the row lock (PostgreSQL) or the database
    # write lock (SQLite) is held until this transaction ends.
    db.session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID)
                       .values(seq=AuditHead.seq + 1))
    seq, prev_hash = db.session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)).one()
    entry = AuditEntry(
        seq=seq,
        at=utcnow(),
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else "system",
        actor_roles=",".join(sorted(actor.roles)) if actor else "",
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        summary=json.loads(canonical_json(summary or {})),
        client_address=request.remote_addr if has_request_context() else None,
        prev_hash=prev_hash,
    )
    entry.hash = entry_hash(prev_hash, entry)
    db.session.add(entry)
    db.session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(hash=entry.hash))
    return entry


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"entry {self.seq}" if self.seq is not None else "chain head"
        return f"{where}: {self.reason}"


def _entries(batch: int = 5000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.seq > last)
                                  .order_by(AuditEntry.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        db.session.expunge_all()


def verify() -> tuple[int, ChainProblem | None]:
    """Walk the chain; return the number of entries checked and the first problem, if any."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    for entry in _entries():
        if entry.seq != expected_seq:
            return count, ChainProblem(expected_seq, f"missing (next stored entry is {entry.seq})")
        if entry.prev_hash != prev_hash:
            return count, ChainProblem(entry.seq, "does not follow the entry before it "
                                                  "(removed or reordered)")
        if entry_hash(prev_hash, entry) != entry.hash:
            return count, ChainProblem(entry.seq, "content does not match its hash (edited)")
        prev_hash, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    head = db.session.get(AuditHead, HEAD_ID)
    if head is None:
        return count, ChainProblem(None, "missing")
    if head.seq != count or head.hash != prev_hash:
        return count, ChainProblem(None, f"records {head.seq} entries but the chain has {count} "
                                         "(entries removed from the end)")
    return count, None


def search(*, actor: str | None = None, action: str | None = None,
           object_type: str | None = None, object_id: str | None = None,
           date_from=None, date_to=None, before: int | None = None, limit: int = 50):
    """Entries newest first, filtered; ``before`` is the seq to page back from (keyset)."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if actor:
        query = query.where(AuditEntry.actor_name == actor)
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    if date_from:
        query = query.where(AuditEntry.at >= local_to_utc(datetime.combine(date_from, time())))
    if date_to:
        query = query.where(AuditEntry.at < local_to_utc(
            datetime.combine(date_to + timedelta(days=1), time())))
    if before:
        query = query.where(AuditEntry.seq < before)
    return db.session.scalars(query).all()
