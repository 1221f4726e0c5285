"""An unannounced task's draws keep their secret (seed 004 第十九条(二) "不得向检查对象透露
情况"): the commitment is public from the preparation and the record's hash from the
execution, but the drawn employers and the teams are published only for the visits that have
happened, and in full once the task's window has ended; such a visit has no notice document,
and a record with a notice section is refused."""
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from inspection.core.errors import ValidationFailed
from inspection.directory.inspectors import operations as inspector_ops
from inspection.directory.models import Inspector
from inspection.draws import commitments, disclosure
from inspection.draws.engine import verify
from inspection.draws.models import Draw, TeamMember
from inspection.draws.team import operations as team_ops
from inspection.draws.team import queries as team_queries
from inspection.extensions import db
from inspection.fieldwork.models import Visit, VisitTask
from inspection.planning.models import Task

from helpers import replayed
from field_support import new_key, record, setup
from target_support import (SECRETS, build_world, execute, make_task, office, prepare, soon,
                            wait_until_known)
from team_support import SOURCE as TEAM_SOURCE
from team_support import SECRETS as TEAM_SECRETS
from team_support import make_inspector
from team_support import secret_specs as team_secret_specs


@replayed
def unannounced_draws(department: int) -> dict:
    """Within an app context: an unannounced task whose window includes today, its four
    employers drawn (at 100 %) and its teams drawn; nothing has happened yet."""
    today = disclosure.today()
    world = build_world(department, grades={"B": 4}, year=today.year)
    window = (max(date(today.year, 1, 1), today - timedelta(days=10)),
              min(date(today.year, 12, 31), today + timedelta(days=20)))
    task_id = make_task(world, ratios={"A": "0", "B": "1.00", "C": "0", "D": "0"},
                        window=window)
    db.session.get(Task, task_id).announced = False
    db.session.commit()
    target_draw = execute(world, prepare(world, task_id).draw.id)
    for n in range(4):
        make_inspector(department, n)
    inspector_ops.confirm_current(office(world))
    declared = soon(TEAM_SOURCE)
    prepared = team_ops.prepare_team_draw(
        team_queries.get_task(task_id), department, mode="public",
        declared_sources=declared, secret_specs=team_secret_specs(), actor=office(world))
    wait_until_known(declared)
    team_draw = team_ops.execute_team_draw(prepared.draw.id, source_values=["3 11 17"],
                                           revealed=dict(TEAM_SECRETS), actor=office(world))
    return {"task": task_id, "target": target_draw.public_id, "team": team_draw.public_id,
            "end": window[1].isoformat()}


def _visits(task_id: int) -> list[tuple[str, str, list[str], list[str]]]:
    """(visit number, credit code, the team's inspector keys, their names) of each visit of
    the task."""
    out = []
    for visit in db.session.scalars(select(Visit).join(VisitTask, VisitTask.visit_id == Visit.id)
                                    .where(VisitTask.task_id == task_id).order_by(Visit.number)):
        team = db.session.execute(select(Inspector.id, Inspector.name).join(
            TeamMember, TeamMember.inspector_id == Inspector.id).where(
            TeamMember.visit_id == visit.id)).all()
        out.append((visit.number, visit.employer.credit_code,
                    [team_queries.inspector_key(i) for i, _name in team],
                    [name for _i, name in team]))
    return out


def _draw(public_id: str) -> Draw:
    return db.session.scalar(select(Draw).where(Draw.public_id == public_id))


def _pools(draw: Draw) -> dict[str, bytes]:
    return {p.name: commitments.pool_bytes(draw, p) for p in draw.pools}


@pytest.fixture
def drawn(app, department):
    with app.app_context():
        made = unannounced_draws(department)
        made["visits"] = _visits(made["task"])
        target, team = _draw(made["target"]), _draw(made["team"])
        made["hashes"] = {made["target"]: (target.commitment_sha256, target.record_sha256),
                          made["team"]: (team.commitment_sha256, team.record_sha256)}
        made["secrets"] = [s.secret for d in (target, team) for s in d.secrets]
        return made


def test_the_commitment_is_public_the_list_and_the_teams_are_not(app, drawn, client, login_as):
    numbers = [number for number, _c, _k, _t in drawn["visits"]]
    codes = [code for _n, code, _k, _t in drawn["visits"]]
    names = {name for _n, _c, _k, team in drawn["visits"] for name in team}
    assert len(codes) == 4 and names
    for public_id in (drawn["target"], drawn["team"]):
        page = client.get(f"/public/draws/{public_id}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        commitment_sha, record_sha = drawn["hashes"][public_id]
        assert commitment_sha in html and record_sha in html        # fixed, and public
        assert 'id="withheld"' in html and drawn["end"] in html
        assert not [c for c in codes if c in html]
        assert not [n for n in names if n in html]
        assert not [n for n in numbers if n in html]                # no visit, no team
        assert not [s for s in drawn["secrets"] if s in html]       # no re-run before time

        body = client.get(f"/public/draws/{public_id}/record.json")
        assert body.status_code == 200
        text = body.get_data(as_text=True)
        data = json.loads(text)
        assert data["withheld"]["visits"] == 4 and data["withheld"]["until"] == drawn["end"]
        assert (data["commitment_sha256"], data["record_sha256"]) == (commitment_sha, record_sha)
        assert "results" not in data and "assignment" not in data
        assert "secrets_revealed" not in data["execution"] and "key_string" not in data["execution"]
        assert not [c for c in codes if c in text]
        assert not [s for s in drawn["secrets"] if s in text]
        problems = verify.verify(json.loads(text), {})
        assert len(problems) == 1 and "withheld" in problems[0]
        # the candidate lists were published at the preparation and stay downloadable
        for pool in data["commitment"]["pools"]:
            assert client.get(f"/public/draws/{public_id}/pools/{pool['name']}.txt") \
                .status_code == 200

    team = client.get(f"/public/draws/{drawn['team']}/record.json").get_json()
    assert all(v == {"visit": v["visit"], "withheld": True}
               for v in team["commitment"]["parameters"]["visits"])

    # the office sees everything inside the application
    with app.app_context():
        draw_id = _draw(drawn["target"]).id
    inside = login_as("office").get(f"/draws/{draw_id}").get_data(as_text=True)
    assert all(c in inside for c in codes)


def test_each_visit_appears_once_it_happened_and_all_after_the_window(app, drawn, client,
                                                                       monkeypatch):
    (first, first_code, first_team, _names), *others = drawn["visits"]
    with app.app_context():
        db.session.scalar(select(Visit).where(Visit.number == first)).status = "recorded"
        db.session.commit()
    page = client.get(f"/public/draws/{drawn['target']}").get_data(as_text=True)
    assert first_code in page and not [c for _n, c, _k, _t in others if c in page]
    team_page = client.get(f"/public/draws/{drawn['team']}").get_data(as_text=True)
    assert first in team_page and all(key in team_page for key in first_team)
    assert not [n for n, _c, _k, _t in others if n in team_page]
    record = client.get(f"/public/draws/{drawn['target']}/record.json").get_json()
    assert record["withheld"]["visits"] == 3             # the file waits for the last one

    end = date.fromisoformat(drawn["end"])
    monkeypatch.setattr(disclosure, "today", lambda: end + timedelta(days=1))
    page = client.get(f"/public/draws/{drawn['target']}").get_data(as_text=True)
    assert all(code in page for _n, code, _k, _t in drawn["visits"])
    assert 'id="withheld"' not in page
    with app.app_context():
        for public_id in (drawn["target"], drawn["team"]):
            full = client.get(f"/public/draws/{public_id}/record.json").get_json()
            assert "withheld" not in full
            assert verify.verify(full, _pools(_draw(public_id))) == []


def test_the_day_the_window_ends_is_still_secret(app, drawn):
    end = date.fromisoformat(drawn["end"])
    with app.app_context():
        draw = _draw(drawn["target"])
        assert len(disclosure.of(draw, end).hidden) == 4
        assert disclosure.of(draw, end + timedelta(days=1)).complete


def test_public_values_alone_cannot_keep_an_unannounced_list_secret(app, department):
    """With the pool files public, a lottery result alone would give the list away."""
    with app.app_context():
        world = build_world(department)
        task_id = make_task(world)
        db.session.get(Task, task_id).announced = False
        db.session.commit()
        with pytest.raises(ValidationFailed) as refused:
            prepare(world, task_id, secrets={})
        assert "secrets" in refused.value.fields
        db.session.rollback()
        assert prepare(world, task_id, secrets=SECRETS).draw.status == "prepared"


# --- no notice for an unannounced visit -----------------------------------------------------------

def _unannounced(app, field) -> None:
    with app.app_context():
        task_id = db.session.scalar(select(VisitTask.task_id).join(
            Visit, Visit.id == VisitTask.visit_id).where(Visit.number == field.mine))
        db.session.get(Task, task_id).announced = False
        db.session.commit()


def test_no_notice_document_and_no_notice_section(app, department, login_as):
    client, field = setup(app, department, login_as)
    _unannounced(app, field)
    notice = client.get(f"/visits/{field.mine}/notice.pdf")
    assert notice.status_code == 404 and notice.mimetype != "application/pdf"
    pack = client.get(f"/api/v1/field/visits/{field.mine}/pack").get_json()
    assert pack["visit"]["announced"] is False and pack["notice_text"] is None
    page = client.get(f"/visits/{field.mine}/record").get_data(as_text=True)
    assert "notice.pdf" not in page

    refused = client.api("PUT", f"/api/v1/field/records/{new_key()}", json=record(field))
    assert refused.status_code == 422
    assert list(refused.get_json()["error"]["fields"]) == ["notice"]
    stored = client.api("PUT", f"/api/v1/field/records/{new_key()}",
                        json=record(field, notice=None))
    assert stored.status_code == 201, stored.get_json()
