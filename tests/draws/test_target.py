"""The target draw through its operations: eligibility, commit then execute, visits, merges,
the yearly cap, the directory confirmation, locking."""
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from inspection.catalogue.models import CheckItemVersion
from inspection.core.errors import Conflict, ValidationFailed
from inspection.directory.employers import operations as employers
from inspection.directory.models import Employer
from inspection.draws import commitments
from inspection.draws.models import Draw, DrawSelection
from inspection.draws.target import operations as target
from inspection.extensions import db
from inspection.fieldwork import visits
from inspection.fieldwork.models import Visit, VisitTask
from inspection.planning.models import Task

from target_support import (SECRETS, build_world, execute, make_task, office, prepare,
                            world)  # noqa: F401


def _visits(task_id):
    return db.session.execute(
        select(Visit, VisitTask).join(VisitTask, VisitTask.visit_id == Visit.id)
        .where(VisitTask.task_id == task_id).order_by(Visit.number)).all()


def test_preview_counts_per_grade(app, world):
    with app.app_context():
        task_id = make_task(world)
        p = target.preview(task_id)
        assert [(x.grade, x.size, x.count) for x in p.pools.pools] == [
            ("A", 10, 1), ("B", 30, 3), ("C", 20, 4), ("D", 5, 2)]
        assert p.pools.excluded_by_cap == 0 and p.confirmed_current and p.blocking == []


def test_prepare_execute_creates_visits(app, world):
    with app.app_context():
        task_id = make_task(world, items=("LR-06", "LR-01"))
        prepared = prepare(world, task_id)
        draw = prepared.draw
        assert prepared.generated == {}
        assert draw.public_id.startswith("DRAW-") and draw.status == "prepared"
        params = draw.commitment["parameters"]
        assert params["yearly_cap"] == 2 and params["ratios"]["C"] == "0.20"
        assert params["directory_confirmation"]["row_count"] == 65
        assert [p["count"] for p in draw.commitment["pools"]] == [1, 3, 4, 2]
        assert db.session.get(Task, task_id).status == "approved"

        execute(world, draw.id)
        draw = db.session.get(Draw, draw.id)
        assert draw.status == "executed"
        assert commitments.verify_draw(draw) == []
        assert db.session.get(Task, task_id).status == "targets_drawn"
        picks = target.results(draw)
        assert len(picks) == 10 and all(p.employer_id for p in picks)
        codes = {db.session.get(Employer, p.employer_id).credit_code for p in picks}
        assert codes == {p.credit_code for p in picks}
        assert [(p.pool, p.rank) for p in picks] == [
            ("A", 1), ("B", 1), ("B", 2), ("B", 3), ("C", 1), ("C", 2), ("C", 3), ("C", 4),
            ("D", 1), ("D", 2)]
        # each drawn employer is visited, its visit linked by pool and rank
        assert {(p.pool, p.rank, p.visit.employer_id) for p in picks} == {
            (vt.pool_name, vt.rank, v.employer_id) for v, vt in _visits(task_id)}
        # the list is the record and the links: no selection rows repeat it
        assert db.session.scalar(select(func.count(DrawSelection.id))) == 0
        rows = _visits(task_id)
        assert len(rows) == 10
        assert [v.number for v, _vt in rows] == [f"2026-{n:06d}" for n in range(1, 11)]
        for visit, link in rows:
            assert (visit.window_start, visit.window_end) == (date(2026, 4, 1), date(2026, 6, 30))
            assert visit.status == "planned" and link.draw_id == draw.id
            assert len(visits.item_versions(visit.id)) == 2
        # visit order follows the draw: grade A first, then B ranks 1..3 ...
        order = sorted(((vt.pool_name, vt.rank), v.number) for v, vt in rows)
        assert [n for _k, n in order] == sorted(n for _k, n in order)


def test_generated_secrets_are_returned_once_and_never_stored(app, world):
    with app.app_context():
        task_id = make_task(world)
        prepared = target.prepare_target_draw(
            task_id, "secrets", [], [{"party": "劳动保障监察", "generate": True},
                                     {"party": "法制机构", "generate": True}], office(world))
        draw = prepared.draw
        assert set(prepared.generated) == {"劳动保障监察", "法制机构"}
        for secret in draw.secrets:
            assert secret.secret is None
            assert secret.sha256 == commitments.verify.secret_commitment(
                prepared.generated[secret.party])
        target.execute_target_draw(draw.id, [], prepared.generated, office(world))
        assert commitments.verify_draw(db.session.get(Draw, draw.id)) == []


def test_directory_not_confirmed_is_refused(app, department):
    with app.app_context():
        w = build_world(department, confirm=False)
        task_id = make_task(w)
        with pytest.raises(Conflict) as err:
            prepare(w, task_id)
        blocking = target.preview(task_id).blocking
        assert blocking == [err.value.message]   # the only reason: the directory
        employers.confirm_current(office(w))
        assert target.preview(task_id).blocking == []
        assert db.session.scalar(select(func.count(Draw.id))) == 0


def test_directory_changed_since_confirmation_is_refused(app, world):
    with app.app_context():
        task_id = make_task(world)
        employer = db.session.scalar(select(Employer).limit(1))
        values = employers.current_values(employer)
        values["name"] = "改名后的有限公司"
        employers.update_employer(employer, values, version=employer.version,
                                  actor=office(world))
        with pytest.raises(Conflict):
            prepare(world, task_id)
        employers.confirm_current(office(world))
        assert prepare(world, task_id).draw.status == "prepared"


def test_only_approved_tasks_and_one_draw_per_task(app, world):
    with app.app_context():
        draft = make_task(world, name="草稿", status="draft")
        with pytest.raises(Conflict):
            prepare(world, draft)
        task_id = make_task(world)
        draw = prepare(world, task_id).draw
        with pytest.raises(Conflict) as err:
            prepare(world, task_id)
        assert draw.public_id in err.value.message
        target.cancel_target_draw(draw.id, "彩票停售", office(world))
        again = prepare(world, task_id).draw
        assert again.public_id != draw.public_id


def test_second_pending_draw_of_the_year_waits(app, world):
    with app.app_context():
        first = make_task(world, name="一")
        second = make_task(world, name="二")
        d1 = prepare(world, first).draw
        with pytest.raises(Conflict) as err:
            prepare(world, second)
        assert d1.public_id in err.value.message
        execute(world, d1.id)
        assert prepare(world, second).draw.status == "prepared"


def test_bad_inputs_are_refused(app, world):
    with app.app_context():
        task_id = make_task(world)
        with pytest.raises(ValidationFailed):
            target.prepare_target_draw(task_id, "lottery", [], [], office(world))
        with pytest.raises(ValidationFailed):
            target.prepare_target_draw(task_id, "public", [], [], office(world))
        with pytest.raises(ValidationFailed) as err:
            target.prepare_target_draw(task_id, "secrets", [],
                                       [{"party": "x", "sha256": "abc"},
                                        {"party": "y", "generate": True}], office(world))
        assert "x" in err.value.fields
        draw = prepare(world, task_id).draw
        with pytest.raises(ValidationFailed):
            execute(world, draw.id, values=())
        db.session.rollback()
        with pytest.raises(ValidationFailed):
            execute(world, draw.id, secrets={**SECRETS, "法制机构": "wrong"})
        db.session.rollback()
        assert db.session.get(Draw, draw.id).status == "prepared"
        assert db.session.scalar(select(func.count(Visit.id))) == 0


def test_yearly_cap_excludes_employers(app, department):
    with app.app_context():
        w = build_world(department, grades={"A": 0, "B": 4, "C": 0, "D": 0}, cap=1)
        first = make_task(w, name="一", ratios={"B": "0.50"})
        execute(w, prepare(w, first).draw.id)
        drawn = {vt.visit.employer.credit_code for _v, vt in _visits(first)}
        assert len(drawn) == 2
        second = make_task(w, name="二", ratios={"B": "0.50"},
                           window=(date(2026, 8, 1), date(2026, 9, 30)))
        p = target.preview(second)
        assert p.pools.excluded_by_cap == 2
        assert set(p.pools.pools[1].ids).isdisjoint(drawn)
        draw = prepare(w, second).draw
        assert draw.commitment["parameters"]["excluded_by_cap"] == 2
        execute(w, draw.id)
        again = {vt.visit.employer.credit_code for _v, vt in _visits(second)}
        assert len(again) == 1 and again.isdisjoint(drawn)


def test_key_item_at_full_ratio_orders_everyone(app, department):
    with app.app_context():
        w = build_world(department, grades={"A": 3, "B": 5, "C": 2, "D": 1})
        task_id = make_task(w, ratios={g: "1.00" for g in "ABCD"})
        assert target.preview(task_id).everyone
        draw = prepare(w, task_id).draw
        execute(w, draw.id)
        rows = _visits(task_id)
        assert len(rows) == 11
        ranks = sorted((vt.pool_name, vt.rank) for _v, vt in rows)
        assert ranks == [("A", r) for r in (1, 2, 3)] + [("B", r) for r in range(1, 6)] + \
            [("C", 1), ("C", 2), ("D", 1)]


def test_merge_overlapping_tasks_into_one_visit(app, department):
    with app.app_context():
        w = build_world(department, grades={"A": 0, "B": 3, "C": 0, "D": 0})
        one = make_task(w, name="工资专项", ratios={"B": "1.00"}, items=("LR-06", "LR-01"),
                        window=(date(2026, 4, 1), date(2026, 6, 30)))
        execute(w, prepare(w, one).draw.id)
        two = make_task(w, name="社保专项", ratios={"B": "1.00"}, items=("LR-01", "LR-08"),
                        window=(date(2026, 5, 15), date(2026, 7, 31)))
        d2 = prepare(w, two).draw
        execute(w, d2.id)
        assert db.session.scalar(select(func.count(Visit.id))) == 3
        for visit in db.session.scalars(select(Visit)):
            assert sorted(vt.task_id for vt in visit.tasks) == [one, two]
            assert (visit.window_start, visit.window_end) == (date(2026, 5, 15),
                                                              date(2026, 6, 30))
            codes = [db.session.get(CheckItemVersion, i).item.code
                     for i in visits.item_versions(visit.id)]
            assert codes == ["LR-06", "LR-01", "LR-08"]  # LR-01 pinned by both: once
        rows = target.results(db.session.get(Draw, d2.id))
        assert all(r.joined_existing and r.other_tasks == [(one, "工资专项")] for r in rows)
        first_rows = target.results(db.session.scalar(select(Draw).where(Draw.task_id == one)))
        assert all(not r.joined_existing and r.other_tasks == [(two, "社保专项")]
                   for r in first_rows)


def test_no_merge_when_windows_do_not_overlap(app, department):
    with app.app_context():
        w = build_world(department, grades={"A": 0, "B": 2, "C": 0, "D": 0}, cap=3)
        one = make_task(w, name="一", ratios={"B": "1.00"},
                        window=(date(2026, 3, 1), date(2026, 3, 31)))
        execute(w, prepare(w, one).draw.id)
        two = make_task(w, name="二", ratios={"B": "1.00"},
                        window=(date(2026, 4, 1), date(2026, 4, 30)))
        execute(w, prepare(w, two).draw.id)
        assert db.session.scalar(select(func.count(Visit.id))) == 4
        assert all(len(v.tasks) == 1 for v in db.session.scalars(select(Visit)))
        assert all(len(visits.item_versions(v.id)) == 1 for v in db.session.scalars(select(Visit)))


def test_no_merge_into_a_closed_visit(app, department):
    with app.app_context():
        w = build_world(department, grades={"A": 0, "B": 1, "C": 0, "D": 0}, cap=3)
        one = make_task(w, name="一", ratios={"B": "1.00"})
        execute(w, prepare(w, one).draw.id)
        visit = db.session.scalar(select(Visit))
        visit.status = "recorded"
        db.session.commit()
        two = make_task(w, name="二", ratios={"B": "1.00"})
        execute(w, prepare(w, two).draw.id)
        assert db.session.scalar(select(func.count(Visit.id))) == 2


def test_execute_twice_is_refused_and_visits_stay(app, world):
    with app.app_context():
        task_id = make_task(world)
        draw = prepare(world, task_id).draw
        execute(world, draw.id)
        record = db.session.get(Draw, draw.id).record
        with pytest.raises(Conflict):
            execute(world, draw.id, values=("1 2 3",))
        db.session.rollback()
        assert db.session.get(Draw, draw.id).record == record
        assert db.session.scalar(select(func.count(Visit.id))) == 10


def test_two_workers_execute_at_once_one_set_of_visits(app, world):
    with app.app_context():
        task_id = make_task(world)
        draw_id = prepare(world, task_id).draw.id
    barrier = threading.Barrier(2)
    outcomes = []

    def run(value):
        with app.app_context():
            try:
                barrier.wait()
                execute(world, draw_id, values=(value,))
                outcomes.append("executed")
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(v,)) for v in ("1 2 3", "7 8 9")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "executed"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Visit.id))) == 10
        assert db.session.scalar(select(func.count(VisitTask.id))) == 10
        assert len(target.results(db.session.get(Draw, draw_id))) == 10
        assert commitments.verify_draw(db.session.get(Draw, draw_id)) == []


def test_cancelled_task_draw_cannot_execute(app, world):
    with app.app_context():
        task_id = make_task(world)
        draw = prepare(world, task_id).draw
        task = db.session.get(Task, task_id)
        task.status = "cancelled"
        db.session.commit()
        with pytest.raises(Conflict):
            execute(world, draw.id)


def test_directed_task_uses_the_task_filters(app, world):
    with app.app_context():
        task_id = make_task(world, filters={"grades": ["C", "D"]},
                            ratios={g: "0.10" for g in "ABCD"})
        sizes = [p.size for p in target.preview(task_id).pools.pools]
        assert sizes == [0, 0, 20, 5]


def test_a_pool_file_changed_in_the_store_stops_the_execution(app, world):
    from inspection.core import storage

    with app.app_context():
        task_id = make_task(world)
        draw = prepare(world, task_id).draw
        pool = next(p for p in draw.pools if p.size)
        path = storage.path(commitments.POOL_AREA, pool.sha256)
        original = path.read_bytes()        # the store is shared by the tests: put it back
        path.write_bytes(original.replace(b"\n", b"\n\n", 1))
        try:
            with pytest.raises(RuntimeError, match="SHA-256 differs"):
                execute(world, draw.id)
        finally:
            path.write_bytes(original)
        db.session.rollback()
        assert db.session.get(Draw, draw.id).status == "prepared"
        assert db.session.scalar(select(func.count(Visit.id))) == 0
        assert db.session.scalar(select(func.count(DrawSelection.id))) == 0

