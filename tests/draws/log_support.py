"""What the public log's tests share: a draw made straight through the commitments (two
entries in the log), and a history rewritten behind the log's back (what a witness must
catch)."""
from __future__ import annotations

import json

from inspection.draws import commitments as c
from inspection.draws import public_log
from inspection.draws.engine import tlog, verify
from inspection.extensions import db

IDS = [f"91370305MA{n:07d}X" for n in range(40)]
SECRETS = {"office": "s3cret-office-0001", "supervisor": "s3cret-supervisor-2"}


def prepare(task_id) -> int:
    """(In an app context.) Prepare a secrets-only draw of 4 of :data:`IDS`, committed."""
    draw = c.prepare(kind="target", task_id=task_id, task_label={"id": task_id},
                     pools=[c.PoolSpec("A", IDS, 4)], entropy_mode="secrets",
                     declared_sources=[],
                     secret_specs=[c.SecretSpec(p, verify.secret_commitment(s))
                                   for p, s in SECRETS.items()],
                     parameters={}, actor=None)
    db.session.commit()
    return draw.id


def draw(app, task_id) -> str:
    """Prepare and execute a draw, each step committed: two entries in the log."""
    with app.app_context():
        draw_id = prepare(task_id)
        executed = c.execute(draw_id, source_values=[], revealed=dict(SECRETS), actor=None)
        db.session.commit()
        return executed.public_id


def rewrite(app, position: int) -> None:
    """Change the entry at ``position`` and re-sign every checkpoint over the changed
    history, as a bureau rewriting its log would."""
    with app.app_context():
        entries = db.session.query(public_log.LogEntry).order_by(
            public_log.LogEntry.position).all()
        changed = json.loads(entries[position].entry)
        changed["sha256"] = "0" * 64
        entries[position].entry = verify.canonical_json(changed).decode()
        hashes = [tlog.leaf_hash(e.entry.encode()) for e in entries]
        for e, leaf in zip(entries, hashes):
            e.leaf_hash = leaf.hex()
        for checkpoint in db.session.query(public_log.LogCheckpoint):
            root = tlog.root(hashes[:checkpoint.size])
            checkpoint.root = root.hex()
            checkpoint.note = public_log.signer().sign_note(
                tlog.Checkpoint(public_log.origin(), checkpoint.size, root).text())
        compact: list[bytes] = []
        for size, leaf in enumerate(hashes):
            compact = tlog.compact_append(compact, size, leaf)
        head = db.session.get(public_log.LogHead, public_log.HEAD_ID)
        head.compact = "".join(h.hex() for h in compact)
        db.session.commit()
