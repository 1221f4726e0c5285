"""The references a target draw writes in bulk (visit -> employer; visit_task -> visit, task,
draw) are refused when they name no row, on either database: SQLite by its FOREIGN KEYs,
PostgreSQL by one check per statement (migration 0009), which also keeps the rows they name
(never deleted, never renumbered) and the references fixed. Selections (of team draws) keep
their FOREIGN KEYs everywhere."""
from datetime import date

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from inspection.core.bulk import bulk_insert
from inspection.directory.models import Employer
from inspection.draws.models import Draw, DrawSelection
from inspection.extensions import db
from inspection.fieldwork.models import Visit, VisitTask
from inspection.planning.models import Task

from target_support import execute, make_task, prepare, world  # noqa: F401

MISSING = 987654


def _drawn(world):  # noqa: F811
    """A task with an executed target draw; (task id, draw id, a visit of it)."""
    task_id = make_task(world)
    draw_id = prepare(world, task_id).draw.id
    execute(world, draw_id)
    visit = db.session.scalar(select(Visit).join(VisitTask, VisitTask.visit_id == Visit.id)
                              .where(VisitTask.draw_id == draw_id).order_by(Visit.id).limit(1))
    return task_id, draw_id, visit


def _refused(statement, params=None) -> None:
    """``statement`` fails as a broken reference, and leaves nothing behind."""
    with pytest.raises(IntegrityError) as caught:
        db.session.execute(statement, params) if params is not None else \
            db.session.execute(statement)
    db.session.rollback()
    assert "foreign key" in str(caught.value.orig).lower() or \
        "reference" in str(caught.value.orig).lower()


def _counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(t))
                 for t in (Visit, VisitTask, DrawSelection))


def test_a_visit_must_name_an_employer(app, world):  # noqa: F811
    with app.app_context():
        before = _counts()
        employer = db.session.scalar(select(Employer.id).limit(1))
        row = {"year": 2026, "status": "planned", "window_start": date(2026, 4, 1),
               "window_end": date(2026, 6, 30)}
        _refused(insert(Visit), [{"number": "2026-900001", "employer_id": employer, **row},
                                 {"number": "2026-900002", "employer_id": MISSING, **row}])
        # the bulk path of the draw (COPY on PostgreSQL) is checked the same way
        with pytest.raises((IntegrityError, db.engine.dialect.dbapi.IntegrityError)):
            bulk_insert(Visit.__table__, ("number", "employer_id"),
                        [("2026-900003", employer), ("2026-900004", MISSING)],
                        {**row, "created_at": date(2026, 3, 1)})
            db.session.flush()
        db.session.rollback()
        assert _counts() == before


def test_links_and_selections_must_name_their_rows(app, world):  # noqa: F811
    with app.app_context():
        _task_id, draw_id, visit = _drawn(world)
        before = _counts()
        other_task = make_task(world, name="另一任务")
        link = {"visit_id": visit.id, "task_id": other_task, "draw_id": draw_id,
                "pool_name": "A", "rank": 99}
        for key in ("visit_id", "task_id", "draw_id"):
            _refused(insert(VisitTask), [{**link, key: MISSING}])
        pick = {"draw_id": draw_id, "pool_name": "Z", "rank": 1, "position": 1,
                "candidate": "x", "employer_id": visit.employer_id}
        for key in ("draw_id", "employer_id"):
            _refused(insert(DrawSelection), [{**pick, key: MISSING}])
        assert _counts() == before
        # references that name their rows are taken
        db.session.execute(insert(VisitTask), [link])
        db.session.execute(insert(DrawSelection), [pick])
        assert _counts() == (before[0], before[1] + 1, before[2] + 1)
        db.session.rollback()


def test_rows_named_by_a_draw_are_kept(app, world):  # noqa: F811
    with app.app_context():
        task_id, draw_id, visit = _drawn(world)
        for statement in (delete(Employer).where(Employer.id == visit.employer_id),
                          delete(Visit).where(Visit.id == visit.id),
                          delete(Draw).where(Draw.id == draw_id),
                          delete(Task).where(Task.id == task_id)):
            with pytest.raises(DBAPIError):
                db.session.execute(statement)
            db.session.rollback()
        assert db.session.get(Visit, visit.id).employer_id == visit.employer_id


@pytest.mark.parametrize("table", ["employer", "visit"])
def test_postgresql_never_deletes_nor_renumbers_them(app, world, table):  # noqa: F811
    """On PostgreSQL even a row nobody names yet is kept, so that no check of a concurrent
    transaction can miss its deletion; on SQLite the FOREIGN KEYs guard the named ones."""
    with app.app_context():
        _task_id, _draw_id, visit = _drawn(world)
        model = {"employer": Employer, "visit": Visit}[table]
        if db.engine.dialect.name != "postgresql":
            named = select(Visit.employer_id)
            free = db.session.scalar(select(Employer.id).where(Employer.id.not_in(named))
                                     .limit(1))
            db.session.execute(delete(Employer).where(Employer.id == free))
            db.session.rollback()
            return
        free = db.session.scalar(select(Employer.id).where(
            Employer.id.not_in(select(Visit.employer_id))).limit(1)) \
            if table == "employer" else visit.id
        with pytest.raises(DBAPIError, match="never deleted"):
            db.session.execute(delete(model).where(model.id == free))
        db.session.rollback()
        with pytest.raises(DBAPIError, match="never changes"):
            db.session.execute(update(model).where(model.id == free).values(id=MISSING))
        db.session.rollback()


def test_postgresql_keeps_the_references_fixed(app, world):  # noqa: F811
    with app.app_context():
        _task_id, draw_id, visit = _drawn(world)
        other = db.session.scalar(select(Employer.id).where(Employer.id != visit.employer_id)
                                  .limit(1))
        change = update(Visit).where(Visit.id == visit.id).values(employer_id=other)
        if db.engine.dialect.name != "postgresql":
            # SQLite: a reference to an existing row is a valid FOREIGN KEY
            db.session.execute(change)
            db.session.rollback()
            return
        with pytest.raises(DBAPIError, match="never changed"):
            db.session.execute(change)
        db.session.rollback()
        # other columns change as before
        db.session.execute(update(Visit).where(Visit.id == visit.id).values(status="assigned"))
        db.session.rollback()
