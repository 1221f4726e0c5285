"""The demo follows today's date and shows the whole path after the visit: ``seed-demo`` makes
this year's plan, tasks whose windows include today, and records at every stage (sealed and
waiting, returned to the team, proposed, approved with one publication overdue, published
with an objection under review, corrected), through the real operations, with four eyes."""
from __future__ import annotations

import dataclasses
from collections import Counter
from contextlib import contextmanager
from datetime import date

import pytest

from flask import current_app
from sqlalchemy import select

from inspection.catalogue import operations as catalogue_ops
from inspection.core import operations as core_ops
from inspection.core.authority import Act, may_approve
from inspection.core.passwords import DEMO_PASSWORD
from inspection.core.workdays import is_known_year
from inspection.extensions import db
from inspection.fieldwork import operations as field_ops
from inspection.fieldwork.models import RecordSignature, Visit
from inspection.planning import operations as planning_ops
from inspection.planning.demo import (WINDOWS, catalogue_published_on, plan_published_on,
                                      task_window)
from inspection.planning.models import Task
from inspection.review import operations as ops
from inspection.review.demo import STORIES, visit_day
from inspection.review.models import Correction, Determination, Objection, Publication

from helpers import Client

#: Enough employers for inspector1's visits and a few more teams' (seconds, not minutes).
EMPLOYERS = "900"


@contextmanager
def demo_mode(app):
    """DEMO_MODE on for the block (the settings object is frozen: swap in a copy)."""
    with app.app_context():
        original = current_app.config["SETTINGS"]
        app.config["SETTINGS"] = dataclasses.replace(original, DEMO_MODE=True)
    try:
        yield
    finally:
        app.config["SETTINGS"] = original


@pytest.mark.parametrize("today", [date(2026, 1, 1), date(2026, 1, 9), date(2026, 3, 1),
                                   date(2026, 12, 3), date(2026, 12, 31), date(2027, 7, 15)])
def test_dates_follow_today(today):
    """Whatever day the demo is seeded: every task's window includes it and lies in its year;
    the item list and the plan were published before the first task starts; the visits took
    place on or before it, inside the window."""
    windows = [task_window(today, name) for name in WINDOWS]
    for start, end in windows:
        assert start <= today <= end and start.year == end.year == today.year
    first = min(start for start, _end in windows)
    assert catalogue_published_on(today) < plan_published_on(today) < first
    wages = task_window(today, "wages")
    for story in STORIES:
        assert wages[0] <= visit_day(today, story.days_ago, wages[0]) <= today


def _user(name):
    return core_ops.find_user(name)


def test_the_demo_is_dated_from_today_and_shows_every_stage(app):
    with demo_mode(app):
        result = app.test_cli_runner().invoke(args=["seed-demo", "--employers", EMPLOYERS])
        assert result.exit_code == 0, result.output
        inspector = Client(app)
        assert inspector.login("inspector1", DEMO_PASSWORD).status_code == 302
        with app.app_context():
            returned = db.session.scalar(select(Visit.number).where(Visit.status == "returned"))
        pack = inspector.get(f"/api/v1/field/visits/{returned}/pack").get_json()
        listed = inspector.get("/api/v1/field/visits").get_json()

    with app.app_context():
        today = ops.today()
        # --- this year's plan; tasks whose windows include today; the list published before
        plan = planning_ops.plan_in_force(today.year)
        assert plan is not None and plan.status == "published" and plan.published_on <= today
        tasks = db.session.scalars(select(Task).order_by(Task.id)).all()
        assert len(tasks) == 3 and all(t.plan_id == plan.id for t in tasks)
        for task in tasks:
            assert task.window_start <= today <= task.window_end, task.name
            assert task.name.startswith(str(today.year))
        first_start = min(t.window_start for t in tasks)
        published = catalogue_ops.last_publication().published_on
        assert published < first_start and plan.published_on < first_start

        # --- accounts: positions and undeliverable addresses
        approver, director, office = _user("approver"), _user("director"), _user("office")
        assert (approver.display_name, approver.position) == ("李建国", "head")
        assert (director.display_name, director.position, sorted(director.roles)) == (
            "孙立华", "principal_head", ["approver"])
        assert approver.department_id == director.department_id == office.department_id
        assert office.email == "office@example.invalid"
        for name in ("admin", "office", "approver", "director", "inspector1", "inspector2",
                     "inspector3", "leader", "supervisor"):
            assert _user(name).email.endswith("@example.invalid"), name

        # --- every stage
        visits = db.session.scalars(select(Visit).where(Visit.status.not_in(
            ("planned", "assigned")))).all()
        statuses = Counter(v.status for v in visits)
        for status in ("recorded", "returned", "proposed", "determined", "published"):
            assert statuses[status] >= 1, statuses
        for visit in visits:
            # a sealed record signed by two inspectors of the team and complete; the day on
            # site is in the past, inside the task's window
            state = field_ops.record_state(visit)
            assert state["seal"] and state["complete"], visit.number
            inspectors = db.session.scalars(select(RecordSignature.signer_user_id).where(
                RecordSignature.visit_id == visit.id,
                RecordSignature.signer_kind == "inspector")).all()
            assert len(set(inspectors)) >= 2
            assert visit.window_start <= ops.check_date(visit) < today

        # returned: the office's comments are in inspector1's pack and list
        assert pack["review"]["status"] == "returned"
        latest = pack["review"]["returns"][0]
        assert latest["comments"] and latest["item_comments"] and not latest["resolved"]
        assert any(v["number"] == returned and v["status"] == "returned" for v in listed)

        # proposed: waiting for the approver, who may decide them
        proposed = db.session.scalars(select(Determination).where(
            Determination.status == "proposed")).all()
        assert proposed
        for det in proposed:
            assert may_approve(approver, Act.DETERMINATION, ops.lead_department_id(det.visit))
            assert approver.id not in ops.participant_ids(det.visit)

        # determined: one publication overdue (its deadline passed), one not
        pending = db.session.scalars(select(Publication).where(
            Publication.status == "pending")).all()
        assert all(p.visit.status == "determined" for p in pending) and len(pending) >= 2
        overdue = [p for p in pending if p.deadline is not None and p.deadline < today]
        if is_known_year(today.year):  # (else every deadline reads "calendar missing")
            assert len(overdue) == 1 and overdue[0].clock_start < today

        # published with an objection from the public under review
        objections = db.session.scalars(select(Objection).where(
            Objection.status == "open")).all()
        assert objections and all(o.source == "public" for o in objections)
        assert any(o.visit.status == "published" for o in objections)
        assert all(ops.publication_of(o.visit).period_end >= today for o in objections)

        # a corrected result: the correction approved by the principal head, original kept
        corrections = db.session.scalars(select(Correction)).all()
        assert len(corrections) == 1 and corrections[0].status == "approved"
        correction = corrections[0]
        assert correction.decided_by_id == director.id
        new = db.session.get(Determination, correction.determination_id)
        original = db.session.get(Determination, correction.original_id)
        assert new.corrects_id == original.id and original.superseded_at is not None
        assert ops.current_determination(new.visit).id == new.id
        assert new.visit.status == "published"

        # four eyes: nobody decided their own proposal or a visit they were on
        decided = db.session.scalars(select(Determination).where(
            Determination.decided_by_id.is_not(None))).all()
        assert len(decided) >= 5
        for row in decided + corrections:
            visit = db.session.get(Visit, row.visit_id)
            assert row.decided_by_id != row.proposed_by_id
            assert row.decided_by_id not in ops.participant_ids(visit)
            assert row.proposed_by_id not in ops.participant_ids(visit)
