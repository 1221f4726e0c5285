"""The team draw over HTTP: office pages, the API, substitution pages, roles, my visits."""
import re

from sqlalchemy import select

from inspection.core.models import User
from inspection.directory.models import Inspector
from inspection.draws.models import Draw, Substitution, TeamMember
from inspection.draws.team import queries as team_queries
from inspection.extensions import db

from team_support import (SECRETS, SOURCE, build_bureau, draw_teams, english, secret_specs,
                          visits)
from target_support import soon, wait_until_known


def _bureau(app, department, **kw):
    with app.app_context():
        return build_bureau(department, **kw)


def _link(app, inspector_id, user_id):
    with app.app_context():
        db.session.get(Inspector, inspector_id).user_id = user_id
        db.session.commit()


def test_office_prepares_and_executes_through_the_pages(app, department, login_as):
    b = _bureau(app, department, employers=3, lead_inspectors=4)
    office = english(login_as("office"))
    page = office.get(f"/teams/tasks/{b.task_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Eligibility preview" in html or "eligible" in html.lower()
    declared = soon(SOURCE)
    form = {"department": str(department), "mode": "public",
            "source_1": SOURCE[0]["name"], "source_1_at": declared[0]["available_at"],
            "party_1": "office", "sha256_1": secret_specs()[0]["sha256"],
            "party_2": "supervisor", "sha256_2": secret_specs()[1]["sha256"]}
    response = office.post_form(f"/teams/tasks/{b.task_id}/prepare", form,
                                token_from=f"/teams/tasks/{b.task_id}")
    assert response.status_code == 302, response.get_data(as_text=True)
    draw_path = response.headers["Location"]
    draw_id = int(re.search(r"/teams/draws/(\d+)", draw_path).group(1))
    page = office.get(draw_path).get_data(as_text=True)
    assert "Execute the team draw" in page
    wait_until_known(declared)
    # a wrong secret: refused, nothing assigned
    bad = office.post_form(f"/teams/draws/{draw_id}/execute",
                           {"source_0": "3 11 17", "secret_0": SECRETS["office"],
                            "secret_1": "wrong"}, token_from=draw_path)
    assert bad.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(TeamMember.id).limit(1)) is None
    ok = office.post_form(f"/teams/draws/{draw_id}/execute",
                          {"source_0": "3 11 17", "secret_0": SECRETS["office"],
                           "secret_1": SECRETS["supervisor"]}, token_from=draw_path)
    assert ok.status_code == 302
    page = office.get(draw_path).get_data(as_text=True)
    assert page.count('data-leader="1"') == 3
    record = office.get(f"/teams/draws/{draw_id}/record.json").get_json()
    assert record["kind"] == "team" and len(record["assignment"]) == 3
    assert record["substitutions"] == []
    with app.app_context():
        assert db.session.get(Draw, draw_id).status == "executed"
        assert all(v.status == "assigned" for v in visits(b))


def test_prepare_page_names_the_short_visit(app, department, login_as):
    b = _bureau(app, department, employers=2, lead_inspectors=1)
    office = english(login_as("office"))
    page = office.get(f"/teams/tasks/{b.task_id}").get_data(as_text=True)
    assert "1 short" in page
    response = office.post_form(f"/teams/tasks/{b.task_id}/prepare",
                                {"department": str(department), "mode": "system"},
                                token_from=f"/teams/tasks/{b.task_id}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    with app.app_context():
        assert visits(b)[0].number in html
    assert "1 eligible, 2 required" in html


def test_roles_on_team_pages_and_api(app, department, login_as):
    b = _bureau(app, department, employers=2, lead_inspectors=3)
    with app.app_context():
        draw = draw_teams(b)
        draw_id = draw.id
        member_id = db.session.scalars(select(TeamMember.id)).first()
    for role, code in (("supervisor", 200), ("approver", 200), ("admin", 200),
                       ("inspector", 403)):
        c = english(login_as(role, username=f"r_{role}"))
        assert c.get(f"/teams/draws/{draw_id}").status_code == code, role
        assert c.get(f"/api/v1/teams/draws/{draw_id}").status_code == code, role
        assert c.get(f"/teams/tasks/{b.task_id}").status_code == code, role
    supervisor = english(login_as("supervisor", username="sup2"))
    assert supervisor.api("POST", f"/api/v1/teams/members/{member_id}/substitutions",
                          json={"reason": "health"}).status_code == 403
    assert supervisor.api("POST", f"/api/v1/teams/tasks/{b.task_id}/draws",
                          json={"department_id": department, "mode": "system"}
                          ).status_code == 403
    office = english(login_as("office", username="office2"))
    assert office.get("/my/visits").status_code == 403
    assert office.get("/api/v1/my/visits").status_code == 403


def test_substitution_pages_request_and_approve(app, department, login_as):
    b = _bureau(app, department, employers=2, lead_inspectors=5)
    with app.app_context():
        draw_id = draw_teams(b).id
        member = db.session.scalars(select(TeamMember).where(TeamMember.is_leader)).first()
        member_id, visit_id = member.id, member.visit_id
    office = english(login_as("office"))
    path = f"/teams/members/{member_id}/substitute"
    assert office.get(path).status_code == 200
    refused = office.post_form(path, {"reason": "", "note": "换人"})
    assert refused.status_code == 422
    response = office.post_form(path, {"reason": "schedule_conflict", "note": "出差"})
    assert response.status_code == 302
    with app.app_context():
        sub_id = db.session.scalar(select(Substitution.id))
    # the office cannot decide, the approver can
    assert office.post_form(f"/teams/substitutions/{sub_id}/decide",
                            {"decision": "approve", "mode": "reserve"},
                            token_from=f"/teams/substitutions/{sub_id}").status_code == 403
    approver = english(login_as("approver"))
    with app.app_context():  # substitutions are approved by the head (APPROVE_SUBSTITUTION)
        db.session.scalar(select(User).where(User.username == "u_approver")).position = "head"
        db.session.commit()
    page = approver.get(f"/teams/substitutions/{sub_id}").get_data(as_text=True)
    assert "Next in reserve order" in page
    decided = approver.post_form(f"/teams/substitutions/{sub_id}/decide",
                                 {"decision": "approve", "mode": "reserve", "replacement": "0"},
                                 token_from=f"/teams/substitutions/{sub_id}")
    assert decided.status_code == 302, decided.get_data(as_text=True)
    with app.app_context():
        sub = db.session.get(Substitution, sub_id)
        assert sub.status == "approved" and sub.mode == "reserve"
        active = db.session.scalars(select(TeamMember).where(
            TeamMember.visit_id == visit_id, TeamMember.replaced_at.is_(None))).all()
        assert sub.replacement_id in {m.inspector_id for m in active}
    record = office.get(f"/api/v1/teams/draws/{draw_id}/record").get_json()
    assert record["substitutions"][0]["mode"] == "reserve"
    assert record["substitutions"][0]["reason"] == "schedule_conflict"
    page = office.get(f"/teams/draws/{draw_id}").get_data(as_text=True)
    assert "replaced" in page


def test_api_prepare_execute_and_substitute_by_choice(app, department, login_as):
    b = _bureau(app, department, employers=2, lead_inspectors=4)
    office = english(login_as("office"))
    overview = office.api("GET", f"/api/v1/teams/tasks/{b.task_id}").get_json()
    assert overview["departments"][0]["is_lead"] and overview["departments"][0]["draw"] is None
    assert all(len(v["eligible"]) == 4 for v in overview["departments"][0]["visits"])
    prepared = office.api("POST", f"/api/v1/teams/tasks/{b.task_id}/draws",
                          json={"department_id": department, "mode": "secrets",
                                "secrets": [{"party": "office", "generate": True},
                                            {"party": "supervisor", "generate": True}]})
    assert prepared.status_code == 201, prepared.get_json()
    body = prepared.get_json()
    secrets = body["generated_secrets"]
    assert set(secrets) == {"office", "supervisor"}
    again = office.api("POST", f"/api/v1/teams/tasks/{b.task_id}/draws",
                       json={"department_id": department, "mode": "system"})
    assert again.status_code == 409
    executed = office.api("POST", f"/api/v1/teams/draws/{body['id']}/execute",
                          json={"secrets": secrets})
    assert executed.status_code == 200, executed.get_json()
    teams = executed.get_json()["teams"]
    assert len(teams) == 2 and all(len(t["members"]) == 2 for t in teams)
    assert all(t["members"][0]["is_leader"] for t in teams)
    twice = office.api("POST", f"/api/v1/teams/draws/{body['id']}/execute",
                       json={"secrets": secrets})
    assert twice.status_code == 409
    member = teams[0]["members"][1]
    asked = office.api("POST", f"/api/v1/teams/members/{member['id']}/substitutions",
                       json={"reason": "nonsense"})
    assert asked.status_code == 422
    asked = office.api("POST", f"/api/v1/teams/members/{member['id']}/substitutions",
                       json={"reason": "recusal", "note": "发现亲属关系"})
    assert asked.status_code == 201
    sub = asked.get_json()
    choice = team_queries.key_id(teams[0]["reserve"][-1])
    approver = english(login_as("approver"))
    with app.app_context():  # substitutions are approved by the head (APPROVE_SUBSTITUTION)
        db.session.scalar(select(User).where(User.username == "u_approver")).position = "head"
        db.session.commit()
    decided = approver.api("POST", f"/api/v1/teams/substitutions/{sub['id']}/decision",
                           json={"decision": "approve", "mode": "approver_choice",
                                 "replacement_id": choice})
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["replacement_id"] == choice
    after = office.api("GET", f"/api/v1/teams/draws/{body['id']}").get_json()
    assert after["substitutions"][0]["mode"] == "approver_choice"
    assert choice in {m["inspector_id"] for m in after["teams"][0]["members"]}
    assert member["inspector_id"] in {m["inspector_id"] for m in after["teams"][0]["former"]}


def test_my_visits_shows_only_my_own(app, department, login_as, make_user):
    b = _bureau(app, department, employers=4, lead_inspectors=4)
    with app.app_context():
        draw_teams(b)
        vs = visits(b)
        first_team = db.session.scalars(select(TeamMember).where(
            TeamMember.visit_id == vs[0].id, TeamMember.replaced_at.is_(None))
            .order_by(TeamMember.id)).all()
        mine = {m.visit_id for m in db.session.scalars(select(TeamMember).where(
            TeamMember.inspector_id == first_team[0].inspector_id))}
        numbers = {v.id: v.number for v in vs}
        others = [numbers[v] for v in numbers if v not in mine]
        a_id = first_team[0].inspector_id
        employer = vs[0].employer.name
    assert others, "with 4 visits and 4 inspectors somebody is not on every visit"
    a = english(login_as("inspector", username="insp_a"))
    with app.app_context():
        from inspection.core.models import User
        user_a = db.session.scalar(select(User.id).where(User.username == "insp_a"))
    _link(app, a_id, user_a)
    page = a.get("/my/visits")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert employer in html
    assert 'data-you-lead="1"' in html       # the first member of the team leads it
    assert f'href="/visits/{numbers[vs[0].id]}/record"' in html
    for number in others:
        assert number not in html
    data = a.api("GET", "/api/v1/my/visits").get_json()
    assert {v["number"] for v in data} == {numbers[v] for v in mine}
    first = next(v for v in data if v["number"] == numbers[vs[0].id])
    assert first["leader"] is True and first["items"]
    assert sum(m["is_me"] for m in first["team"]) == 1
    assert [m["is_leader"] for m in first["team"]] == [True, False]
    # inspector B, linked to nobody on the teams, sees nothing
    b_client = english(login_as("inspector", username="insp_b"))
    assert b_client.api("GET", "/api/v1/my/visits").get_json() == []
    assert employer not in b_client.get("/my/visits").get_data(as_text=True)
