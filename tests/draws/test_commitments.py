"""Commit, then execute: the generic two steps of every draw."""
import threading

import pytest

from inspection.core.errors import Conflict, ValidationFailed
from inspection.core.models import AuditEntry
from inspection.draws import commitments as c
from inspection.draws.engine import verify
from inspection.draws.models import Draw, DrawSelection
from inspection.extensions import db

from target_support import soon, wait_until_known


IDS = [f"91370305MA{n:07d}X" for n in range(50)]


def _prepare(task_id, mode="public", secrets=(("office", "s3cret-office-0001"),
                                              ("supervisor", "s3cret-supervisor-2"))):
    specs = [c.SecretSpec(p, verify.secret_commitment(s)) for p, s in secrets]
    declared = soon([{"name": "福彩3D 2026001期"}]) if mode == "public" else []
    draw = c.prepare(kind="target", task_id=task_id, task_label={"id": task_id},
                     pools=[c.PoolSpec("A", IDS[:30], 3), c.PoolSpec("B", IDS[30:], 5)],
                     entropy_mode=mode, declared_sources=declared,
                     secret_specs=specs, parameters={"ratio": {"A": "0.10"}}, actor=None)
    db.session.commit()
    wait_until_known(declared)
    return draw.id


def test_prepare_then_execute_verifies(app, task_id):
    with app.app_context():
        draw_id = _prepare(task_id)
        draw = db.session.get(Draw, draw_id)
        assert draw.commitment["pools"][0]["size"] == 30
        assert len(draw.commitment_sha256) == 64
        c.execute(draw_id, source_values=[[3, 7, 1]],
                  revealed={"office": "s3cret-office-0001", "supervisor": "s3cret-supervisor-2"},
                  actor=None)
        db.session.commit()
        draw = db.session.get(Draw, draw_id)
        assert draw.status == "executed"
        assert [len(r["selected"]) for r in draw.record["results"]] == [3, 5]
        assert c.verify_draw(draw) == []
        assert len(c.selections(draw)) == 8
        actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.seq)]
        assert actions[-2:] == ["draw.prepare", "draw.execute"]


def test_wrong_secret_or_missing_source_changes_nothing(app, task_id):
    with app.app_context():
        draw_id = _prepare(task_id)
        with pytest.raises(ValidationFailed) as err:
            c.execute(draw_id, source_values=[[3]],
                      revealed={"office": "s3cret-office-0001", "supervisor": "guess"}, actor=None)
        assert "supervisor" in err.value.fields
        db.session.rollback()
        with pytest.raises(ValidationFailed):
            c.execute(draw_id, source_values=[],
                      revealed={"office": "s3cret-office-0001",
                                "supervisor": "s3cret-supervisor-2"}, actor=None)
        db.session.rollback()
        assert db.session.get(Draw, draw_id).status == "prepared"
        assert db.session.query(DrawSelection).count() == 0


def test_second_execution_is_refused(app, task_id):
    with app.app_context():
        draw_id = _prepare(task_id, mode="system", secrets=())
        c.execute(draw_id, source_values=[], revealed={}, actor=None)
        db.session.commit()
        first = db.session.get(Draw, draw_id).record
        with pytest.raises(Conflict):
            c.execute(draw_id, source_values=[], revealed={}, actor=None)
        db.session.rollback()
        assert db.session.get(Draw, draw_id).record == first


def test_tampered_pool_file_is_detected(app, task_id):
    from inspection.core import storage
    with app.app_context():
        draw_id = _prepare(task_id, mode="system", secrets=())
        c.execute(draw_id, source_values=[], revealed={}, actor=None)
        db.session.commit()
        draw = db.session.get(Draw, draw_id)
        path = storage.path(c.POOL_AREA, draw.pools[0].sha256)
        original = path.read_bytes()
        path.write_bytes(b"91X\n")
        try:
            assert "does not match" in c.verify_draw(draw)[0]
        finally:
            path.write_bytes(original)  # the store is shared by the whole test run


def test_two_workers_execute_at_once_one_result(app, task_id):
    """Two connections execute the same draw at the same moment: one wins, the other is told
    the draw is final, and there is one set of selections."""
    with app.app_context():
        draw_id = _prepare(task_id)
    barrier = threading.Barrier(2)
    outcomes = []

    def run(values):
        with app.app_context():
            try:
                barrier.wait()
                c.execute(draw_id, source_values=[values],
                          revealed={"office": "s3cret-office-0001",
                                    "supervisor": "s3cret-supervisor-2"}, actor=None)
                db.session.commit()
                outcomes.append("executed")
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(v,)) for v in ([1, 2], [8, 9])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "executed"]
    with app.app_context():
        draw = db.session.get(Draw, draw_id)
        assert db.session.query(DrawSelection).filter_by(draw_id=draw_id).count() == 8
        assert c.verify_draw(draw) == []


def test_draws_prepared_at_once_get_distinct_consecutive_numbers(app, task_id):
    """Public numbers are allocated by one atomic step, not counted and incremented: eight
    preparations at the same moment get DRAW-<year>-0001 to -0008, and none fails."""
    n = 8
    barrier = threading.Barrier(n)
    numbers, failures = [], []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                draw_id = _prepare(task_id)
                numbers.append(db.session.get(Draw, draw_id).public_id)
            except Exception as error:  # noqa: BLE001 - any failure is the defect
                db.session.rollback()
                failures.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    year = numbers[0].split("-")[1]
    assert sorted(numbers) == [f"DRAW-{year}-{k:04d}" for k in range(1, n + 1)]
