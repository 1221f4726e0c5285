"""The audit trail: chained, verifiable, written with the change, and unforked under load."""
import threading

import pytest
from sqlalchemy import func, select, text, update

from inspection.core import audit
from inspection.core import operations as ops
from inspection.core.models import AuditEntry, Department
from inspection.extensions import db


@pytest.fixture
def entries(app):
    with app.app_context():
        for i in range(5):
            audit.record("test.event", "thing", i, {"n": i, "名称": "测试"})
        db.session.commit()


def _tamper(sql: str, **params) -> None:
    """Change stored entries as an attacker with database access would (PostgreSQL's trigger
    refuses it, so go around the trigger the way a superuser can)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(text(sql), params)
    db.session.commit()


def _verify(app):
    with app.app_context():
        return audit.verify()


def test_chain_verifies(app, entries):
    count, problem = _verify(app)
    assert (count, problem) == (5, None)
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert rows[0].prev_hash == audit.GENESIS
        assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:]))
        assert rows[2].actor_name == "system" and rows[2].summary == {"n": 2, "名称": "测试"}


def test_edited_entry_is_named(app, entries):
    with app.app_context():
        _tamper("UPDATE audit_entry SET action = 'innocent' WHERE seq = 3")
    count, problem = _verify(app)
    assert problem.seq == 3 and "edited" in problem.reason and count == 2


def test_removed_entry_is_named(app, entries):
    with app.app_context():
        _tamper("DELETE FROM audit_entry WHERE seq = 2")
    _, problem = _verify(app)
    assert problem.seq == 2 and "missing" in problem.reason


def test_reordered_entries_are_found(app, entries):
    with app.app_context():
        _tamper("UPDATE audit_entry SET seq = 100 WHERE seq = 2")
        _tamper("UPDATE audit_entry SET seq = 2 WHERE seq = 4")
        _tamper("UPDATE audit_entry SET seq = 4 WHERE seq = 100")
    _, problem = _verify(app)
    assert problem.seq == 2


def test_truncated_tail_is_found(app, entries):
    with app.app_context():
        _tamper("DELETE FROM audit_entry WHERE seq = 5")
    _, problem = _verify(app)
    assert problem.seq is None and "removed from the end" in problem.reason


def test_cli_verify_exit_codes(app, entries):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "OK: 5 entries" in ok.output
    with app.app_context():
        _tamper("UPDATE audit_entry SET summary = :s WHERE seq = 4", s='{"n": 40}')
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert "entry 4" in bad.output


def test_entry_commits_and_rolls_back_with_its_change(app):
    with app.app_context():
        db.session.add(Department(name="就业", code="JY"))
        audit.record("department.create", "department", "JY")
        db.session.rollback()
        assert db.session.scalar(select(func.count(AuditEntry.seq))) == 0
        ops.create_department("就业", "JY")
        entry = db.session.scalars(select(AuditEntry)).one()
        assert entry.action == "department.create"
        assert audit.verify() == (1, None)


def test_postgresql_refuses_updates_of_entries(app, entries):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            # SQLite has no triggers here: the chain is the protection; prove it detects.
            db.session.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(action="x"))
            db.session.commit()
            assert audit.verify()[1].seq == 1
            return
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text("UPDATE audit_entry SET action = 'x' WHERE seq = 1"))
        db.session.rollback()


def test_concurrent_writers_never_fork_the_chain(app):
    """Several threads, each with its own connection (as gunicorn workers have), append at
    once; every entry must land in one unbroken chain."""
    writers, per_writer = 4, 15
    errors = []
    barrier = threading.Barrier(writers)

    def work(n):
        try:
            with app.app_context():
                barrier.wait()
                for i in range(per_writer):
                    audit.record("test.concurrent", "writer", n, {"i": i})
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # collected and reported by the assertion below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _verify(app) == (writers * per_writer, None)
