"""Builders shared by the benchmarks that need a large database (``bench.draw``, ``bench.api``).

The demo bureau's departments, users, regions and catalogue; a directory of ``N`` demo
employers through the bulk importer (the path of a real import); the year's plan and its
approved tasks; visits and their task links written by the draws' own bulk writer
(:func:`inspection.fieldwork.visits._insert_visits`, :func:`inspection.core.bulk.bulk_insert`),
so that a million employers and a hundred thousand visits take minutes, not hours.

Every function but :func:`make_app` and :func:`run_child` runs in an app context and commits
what it makes. ``make bench`` skips this module (its name starts with ``_``).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from typing import Iterable, Sequence

YEAR = 2026
#: The plan's default ratios (A 1 %, B 3 %, C 10 %, D 20 %).
RATIOS = {"A": "0.01", "B": "0.03", "C": "0.10", "D": "0.20"}
#: A target draw's sources in the "secrets" mode: two parties, each secret generated.
SECRETS = [{"party": "劳动保障监察", "generate": True}, {"party": "法制", "generate": True}]
SECRET_KEY = "bench-" + "x" * 40


def make_app(url: str, files, **settings):
    from inspection import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY,
                       "FILE_STORE": str(files), **settings})


def _mb(kb: int) -> float:
    return round(kb / 1024, 1)


def run_child(args: list[str], cwd: str | None = None) -> tuple[int, str, float, float]:
    """(exit status, output, seconds, peak RSS in MB) of a child process; a build runs in
    one so that its memory is not counted as the measured process's."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    return proc.returncode, output.decode("utf-8", "replace"), seconds, _mb(usage.ru_maxrss)


# ---------------------------------------------------------------------------- the bureau
def bureau(employers: int, password: str, reset: bool = False) -> dict:
    """The schema (migrated), the demo departments and users (all with ``password``), the
    regions, the catalogue and ``employers`` demo employers through the bulk importer.
    Returns the departments by code. Stops when the database has users already: a
    benchmark builds on a scratch database (``reset`` first empties a PostgreSQL one)."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from inspection.catalogue.demo import seed_catalogue
    from inspection.core import audit
    from inspection.core import operations as core_ops
    from inspection.core.models import User
    from inspection.demo import DEPARTMENTS, USERS
    from inspection.directory.employers.demo import seed_employers, seed_regions
    from inspection.extensions import db

    if reset and db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP SCHEMA public CASCADE"))
        db.session.execute(text("CREATE SCHEMA public"))
        db.session.commit()
    upgrade()
    audit.ensure_head()
    db.session.commit()
    if db.session.scalar(select(func.count(User.id))):
        sys.exit("the database has users already: use a scratch database (or --reset)")
    depts = {code: core_ops.create_department(name, code) for name, code in DEPARTMENTS}
    for username, name, dept, roles in USERS:
        core_ops.create_user(username, name, depts[dept], roles, password)
    seed_regions()
    seed_catalogue()

    t0 = time.perf_counter()
    report = seed_employers(count=employers)
    assert report.rows_invalid == 0, report.summary()
    print(f"directory: {employers} employers loaded in {time.perf_counter() - t0:.1f} s",
          flush=True)
    return depts


def plan(year: int = YEAR):
    """The year's plan (the demo's values: default grade rules, yearly cap 2), approved."""
    from inspection.core import operations as core_ops
    from inspection.planning import operations as plans
    from inspection.planning.demo import plan_values

    office, approver = core_ops.find_user("office"), core_ops.find_user("approver")
    made = plans.create_plan(plan_values(year), actor=office)
    plans.submit_plan(made, actor=office)
    plans.approve_plan(made, actor=approver)
    return made


def item_ids(*codes: str) -> list[int]:
    from inspection.catalogue import operations as catalogue_ops

    return [catalogue_ops.get_item_by_code(code).id for code in codes]


def task(of_plan, lead, name: str, start: date, end: date, items: Sequence[str], **values):
    """An approved on-site task of ``of_plan`` led (alone) by the department ``lead``,
    checking the catalogue items ``items`` (codes); undirected with :data:`RATIOS` unless
    ``values`` say otherwise."""
    from inspection.core import operations as core_ops
    from inspection.planning import operations as plans

    office, approver = core_ops.find_user("office"), core_ops.find_user("approver")
    made = plans.create_task({
        "plan_id": of_plan.id, "name": name, "lead_department_id": lead.id,
        "department_ids": [lead.id], "item_ids": item_ids(*items), "task_type": "undirected",
        "method": "on_site", "window_start": start, "window_end": end, "announced": False,
        "inspectors_per_visit": 2, "grade_ratios": RATIOS, **values}, actor=office)
    plans.submit_task(made, actor=office)
    plans.approve_task(made, actor=approver)
    return made


def earlier_draw(of_task, public_id: str) -> int:
    """An executed target draw of ``of_task`` standing for one made earlier (no record, no
    pools): what visits written in bulk link to. Returns its id."""
    from inspection.draws.models import Draw
    from inspection.extensions import db

    draw = Draw(public_id=public_id, kind="target", task_id=of_task.id, status="executed",
                entropy_mode="system", algorithm="rfc3797-v1", commitment={},
                commitment_sha256="0" * 64)
    db.session.add(draw)
    db.session.flush()
    return draw.id


def add_visits(of_task, draw_id: int, employer_ids: Sequence[int],
               status: str = "planned") -> list[int]:
    """One visit per employer for ``of_task`` (its window, numbered after the year's last
    number) linked to the draw ``draw_id`` in pool "A", ranked in the given order, by the
    draws' own bulk writers; ``status`` set on all. Returns the visit ids in order. Does
    not commit."""
    from inspection.core.bulk import bulk_insert
    from inspection.fieldwork.models import VisitTask
    from inspection.fieldwork.visits import _insert_visits

    ids = _insert_visits(list(employer_ids), of_task.plan.year, of_task.window_start,
                         of_task.window_end)
    bulk_insert(VisitTask.__table__, ("visit_id", "rank"),
                [(visit_id, rank) for rank, visit_id in enumerate(ids, 1)],
                {"task_id": of_task.id, "draw_id": draw_id, "pool_name": "A"})
    if status != "planned" and ids:
        set_status(ids, status)
    return ids


def set_status(visit_ids: list[int], status: str) -> None:
    """The status of the visits ``visit_ids``, in one statement. Does not commit."""
    from sqlalchemy import update

    from inspection.core.bulk import one_of
    from inspection.extensions import db
    from inspection.fieldwork.models import Visit

    for condition in one_of(Visit.id, visit_ids):
        db.session.execute(update(Visit).where(condition).values(status=status)
                           .execution_options(synchronize_session=False))


def insert_with_ids(table, columns: Sequence[str], rows: Iterable[Sequence],
                    constants: dict | None = None) -> range:
    """Bulk-insert ``rows`` into ``table`` with ids given here (after the table's largest),
    so that other rows can refer to them without reading them back; returns the ids. On
    PostgreSQL the id sequence is moved past them, as inserts that take ids from it would."""
    from sqlalchemy import func, select, text

    from inspection.core.bulk import bulk_insert
    from inspection.extensions import db

    rows = list(rows)
    first = (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
    ids = range(first, first + len(rows))
    bulk_insert(table, ("id", *columns), [(i, *row) for i, row in zip(ids, rows)], constants)
    if rows and db.session.connection().dialect.name == "postgresql":
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                f"{ids[-1]})"))
    return ids


def analyze() -> None:
    """Refresh the database's statistics, as autovacuum would after a bulk load
    (``VACUUM ANALYZE`` on PostgreSQL, ``ANALYZE`` on SQLite), and close the connections."""
    from inspection.extensions import db

    db.session.remove()
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql"
                             else "ANALYZE")
    db.engine.dispose()
