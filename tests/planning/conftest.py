"""Fixtures of the planning tests: two departments, the catalogue, an office user and an
approver, and an approved 2026 plan; pages and messages in English."""
from __future__ import annotations

from datetime import date

import pytest

from inspection.catalogue.demo import seed_catalogue
from inspection.core import operations as core_ops
from inspection.extensions import db
from inspection.planning import operations as ops


def task_values(ids: dict, **over) -> dict:
    """A valid task of the fixture's plan: LR-02 only, undirected."""
    values = {"plan_id": ids["plan"], "name": "2026年工资支付检查",
              "lead_department_id": ids["LSJC"], "department_ids": [ids["LSJC"]],
              "item_ids": [ids["LR-02"]], "task_type": "undirected", "method": "on_site",
              "window_start": date(2026, 3, 1), "window_end": date(2026, 6, 30),
              "announced": True, "inspectors_per_visit": 2}
    values.update(over)
    return values


def plan_values(**over) -> dict:
    values = {"year": 2026, "title": "2026年度抽查计划", "scope": "本区用人单位"}
    values.update(over)
    return values


@pytest.fixture
def ctx(app):
    """A request context in English: the tests read the messages' English msgids."""
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield
        db.session.remove()


@pytest.fixture
def login_as(login_as):
    """The shared ``login_as``, with the English pages (the bureau's default is Chinese)."""
    def login(*roles: str, username: str | None = None):
        client = login_as(*roles, username=username)
        client.http.set_cookie("lang", "en")
        return client
    return login


@pytest.fixture
def base(app, department, make_user):
    """Departments, catalogue, users; no plan yet. Returns ids by name."""
    office = make_user("office1", "office")
    approver = make_user("approver1", "approver")
    with app.app_context():
        shbx = core_ops.create_department("社会保险", "SHBX")
        jy = core_ops.create_department("就业", "JY")
        items = {i.code: i.id for i in seed_catalogue()}
        return {"LSJC": department, "SHBX": shbx.id, "JY": jy.id, "office": office,
                "approver": approver, **items}


@pytest.fixture
def ids(app, base):
    """``base`` with the 2026 plan approved (defaults: A 1%, B 3%, C 10%, D 20%)."""
    with app.app_context():
        office = core_ops.get_user(base["office"])
        approver = core_ops.get_user(base["approver"])
        plan = ops.create_plan(plan_values(), actor=office)
        ops.submit_plan(plan, actor=office)
        ops.approve_plan(plan, actor=approver)
        plan_id = plan.id
        db.session.remove()
        return {**base, "plan": plan_id}
