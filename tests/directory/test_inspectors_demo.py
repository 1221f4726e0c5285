"""The demo inspectors: on an empty directory, with employers, deterministic."""
import random

from sqlalchemy import delete, func, select

from inspection.core import operations as core_ops
from inspection.demo import DEPARTMENTS, USERS
from inspection.directory.credit_code import random_code
from inspection.directory.inspectors import operations as ops
from inspection.directory.inspectors.demo import seed_inspectors
from inspection.directory.models import (DirectoryChange, Employer, Inspector, InspectorConflict,
                                         Region)
from inspection.extensions import db


def seed_core():
    """The core demo's departments and users, with a password valid outside demo mode."""
    depts = {code: core_ops.create_department(name, code) for name, code in DEPARTMENTS}
    for username, name, dept, roles in USERS:
        core_ops.create_user(username, name, depts[dept], roles, "Correct-horse-42")


def add_employers(n=12):
    db.session.add(Region(code="370305001", name="闻韶街道", county_code="370305",
                          county_name="临淄区"))
    rng = random.Random(3)
    for i in range(n):
        db.session.add(Employer(credit_code=random_code(rng), name=f"示例企业{i:02d}",
                                employer_type="enterprise", region_code="370305001",
                                industry="C"))
    db.session.commit()


def snapshot():
    return [(i.name, i.cert_number, i.status, i.pool, i.department.code, i.tags,
             i.user.username if i.user else None)
            for i in db.session.scalars(select(Inspector).order_by(Inspector.cert_number))]


def test_seed_on_an_empty_directory(ctx):
    seed_core()
    created = seed_inspectors()
    assert 25 <= len(created) <= 35
    day = ops.today()
    inspectors = db.session.scalars(select(Inspector)).all()
    assert sum(i.cert_expires < day for i in inspectors) == 3
    assert sum(i.status == "on_leave" for i in inspectors) == 2
    assert sum(i.status == "transferred" for i in inspectors) == 1
    assert sum(i.pool != "staff" for i in inspectors) >= 3
    assert {i.department.code for i in inspectors} == {"LSJC", "SHBX", "JY", "RLZY"}
    assert len({i.name for i in inspectors}) == len(inspectors)
    assert db.session.scalar(select(func.count(InspectorConflict.id))) == 0
    # the demo users are linked, in their own departments, and may be drawn
    for username in ("inspector1", "inspector2", "leader"):
        user = core_ops.find_user(username)
        inspector = db.session.scalar(select(Inspector).where(Inspector.user_id == user.id))
        assert inspector is not None and inspector.department_id == user.department_id
        assert inspector.name == user.display_name
        assert ops.why_not_drawable(inspector, day) == []
    assert len(ops.drawable_inspectors(on=day)) >= 15
    assert seed_inspectors() == []          # a second run changes nothing


def test_seed_with_employers_declares_conflicts_deterministically(ctx):
    seed_core()
    add_employers()
    seed_inspectors(seed=2026)
    conflicts = db.session.scalars(select(InspectorConflict)).all()
    assert len(conflicts) >= 4
    assert sum(c.ended_at is not None for c in conflicts) == 1
    first = snapshot()
    first_conflicts = sorted((c.inspector.cert_number, c.employer.credit_code, c.relation)
                             for c in conflicts)
    active = [c for c in conflicts if c.ended_at is None][0]
    assert active.inspector_id not in {i.id for i in ops.drawable_inspectors(
        exclude_conflicts_with_employer_ids=[active.employer_id],
        pools=["staff", "expert", "third_party"])}

    db.session.execute(delete(InspectorConflict))
    db.session.execute(delete(DirectoryChange))
    db.session.execute(delete(Inspector))
    db.session.commit()
    seed_inspectors(seed=2026)
    assert snapshot() == first
    again = sorted((c.inspector.cert_number, c.employer.credit_code, c.relation)
                   for c in db.session.scalars(select(InspectorConflict)))
    assert again == first_conflicts
