"""Rectification follow-up visits (seed 002 五(三), docs/followup.md) and the employer's
history: a follow-up made when a result with rectification orders is approved, for the same
team, after the latest order is due; its pack holds only what was non-compliant; its record
is sealed through the field API as the phone sends it, reviewed, determined and published;
both results link each other on the public JSON; the employer's page lists everything newest
first in a number of statements that does not grow with the visits; a change of its team
needs an approver (four eyes)."""
from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta

from sqlalchemy import event, func, select

from inspection.core.models import AuditEntry
from inspection.core.workdays import add_workdays
from inspection.directory.models import Inspector
from inspection.draws.models import TeamMember
from inspection.extensions import db
from inspection.fieldwork.models import Visit, VisitTask
from inspection.review import todo
from inspection.review.models import Determination, Objection

from helpers import Client
from test_review_support import bureau, seal_and_send  # noqa: I001
from field_support import new_key, record
from seal_support import put_record

FIRST_DUE, LAST_DUE = "2026-06-01", "2026-06-05"


def _visit(number: str) -> Visit:
    return db.session.scalar(select(Visit).where(Visit.number == number))


def _approve(office, approver, number: str, proposal: dict) -> int:
    made = office.api("POST", f"/api/v1/review/visits/{number}/determinations", json=proposal)
    assert made.status_code == 201, made.get_json()
    det = made.get_json()["id"]
    decided = approver.api("POST", f"/api/v1/review/determinations/{det}/decision",
                           json={"approve": True, "reason": ""})
    assert decided.status_code == 200, decided.get_json()
    return det


def _orders(s) -> dict:
    q0, q1 = s.field.questions[:2]
    return {"result_category": "rectification_ordered", "summary": "责令限期改正",
            "findings": [
                {"item": s.field.item, "question": q0, "finding": "未签订书面劳动合同",
                 "handling": "rectification_order", "due": FIRST_DUE},
                {"item": s.field.item, "question": q1, "finding": "未按时足额支付工资",
                 "handling": "rectification_order", "due": LAST_DUE}]}


def _statements(app, client, path: str) -> tuple[int, str]:
    """(statements, page) of a GET: the fewer of two requests, so that a once-a-while write
    of the sign-in session does not count as the page's."""
    first, _page = _once(app, client, path)
    second, page = _once(app, client, path)
    return min(first, second), page


def _once(app, client, path: str) -> tuple[int, str]:
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return len(seen), response.get_data(as_text=True)


def test_a_follow_up_from_an_order_sealed_determined_published_and_linked(
        app, department, login_as):
    s, office, approver, _principal = bureau(app, department, login_as)
    with app.app_context():
        original = _visit(s.visit)
        team = sorted((m.inspector_id, m.is_leader) for m in db.session.scalars(
            select(TeamMember).where(TeamMember.visit_id == original.id,
                                     TeamMember.replaced_at.is_(None))))
        employer_id = original.employer_id
        assert db.session.scalar(select(func.count(Visit.id))
                                 .where(Visit.follows_id.is_not(None))) == 0

    # approving the result with two orders makes one follow-up, after the later order
    _approve(office, approver, s.visit, _orders(s))
    with app.app_context():
        follow = db.session.scalar(select(Visit).where(Visit.follows_id == original.id))
        assert follow is not None and follow.status == "assigned"
        assert follow.employer_id == employer_id and follow.year == original.year
        assert re.fullmatch(rf"{follow.year}-\d{{6}}", follow.number)
        assert follow.window_start == date(2026, 6, 6)
        assert follow.window_end == add_workdays(date.fromisoformat(LAST_DUE),
                                                 app.config["SETTINGS"].FOLLOW_UP_WORKDAYS)
        assert follow.window_end == date(2026, 6, 22)  # 10 working days; 端午 2026-06-19 off
        copied = sorted((m.inspector_id, m.is_leader) for m in db.session.scalars(
            select(TeamMember).where(TeamMember.visit_id == follow.id)))
        assert copied == team and any(leader for _i, leader in copied)
        # not drawn: no task link of its own (the draw's record and task progress ignore it)
        assert db.session.scalar(select(func.count(VisitTask.id))
                                 .where(VisitTask.visit_id == follow.id)) == 0
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "followup.schedule"))
        assert entry.object_id == str(follow.id) and entry.summary["follows"] == s.visit
        number = follow.number
        # on the office's deadlines, due on the window's last day, under the original's task
        groups = todo.deadlines(today=date(2026, 6, 1))["groups"]
        [line] = [i for g in groups for i in g["items"] if i.kind == "follow_up"]
        assert line.number == number and line.due == date(2026, 6, 22) and line.task_id
        assert "follow-up" in line.title.lower() or "复查" in line.title

    # the phone's list and pack: marked as a follow-up, only the non-compliant question
    listed = {v["number"]: v for v in s.inspector.get("/api/v1/field/visits").get_json()}
    assert listed[number]["follows"] == s.visit and listed[s.visit]["follows"] is None
    assert [i["code"] for i in listed[number]["items"]] == [s.field.item]
    pack = s.inspector.get(f"/api/v1/field/visits/{number}/pack").get_json()
    assert pack["visit"]["follows"] == s.visit
    assert [i["code"] for i in pack["items"]] == [s.field.item]
    assert [q["code"] for q in pack["items"][0]["questions"]] == [s.field.questions[0]]
    assert len(s.field.questions) > 1  # the other questions were compliant: left out
    assert pack["visit"]["tasks"] and pack["visit"]["tasks"] == listed[s.visit]["tasks"]
    assert s.visit in [p["number"] for p in pack["previous"]]

    # sealed through the field API as the phone sends it: rectified
    field = dataclasses.replace(s.field, mine=number, questions=[s.field.questions[0]])
    # a question the original found compliant is not the follow-up's: refused, nothing kept
    outside = [{"item": field.item, "question": s.field.questions[1], "answer": "compliant",
                "note": "", "order": None}]
    refused = put_record(s.inspector, record(field, answers=outside), new_key())
    assert refused.status_code == 422 and "answers.0.question" in refused.get_json()[
        "error"]["fields"], refused.get_json()
    answers = [{"item": field.item, "question": field.questions[0], "answer": "compliant",
                "note": "已补签劳动合同"}]
    seal_and_send(s.inspector, field, s.team, category="no_problem", answers=answers)
    queue = office.get("/api/v1/review/queue").get_json()
    assert number in [i["visit"] for i in queue["items"]]

    # reviewed, determined (an approver of the original's lead department), published
    _approve(office, approver, number, {"result_category": "no_problem", "findings": [],
                                        "summary": "已整改"})
    for visit in (s.visit, number):
        published = office.api("POST", f"/api/v1/review/visits/{visit}/publish")
        assert published.status_code == 200, published.get_json()
    with app.app_context():
        # no follow-up of a follow-up without an order
        assert db.session.scalar(select(func.count(Visit.id))
                                 .where(Visit.follows_id.is_not(None))) == 1

    # linked both ways on the public JSON and pages
    anyone = Client(app)  # nobody signed in: the public JSON needs no account
    rows = {r["visit"]: r for r in anyone.get("/public/results.json").get_json()["results"]}
    assert rows[number]["follow_up"]["follows"]["visit"] == s.visit
    assert rows[number]["follow_up"]["followed_by"] == []
    assert [f["visit"] for f in rows[s.visit]["follow_up"]["followed_by"]] == [number]
    assert rows[s.visit]["follow_up"]["follows"] is None
    # The follow-up serves the original's tasks (it was not drawn): its public row says so.
    assert rows[number]["tasks"] and rows[number]["tasks"] == rows[s.visit]["tasks"]
    assert rows[number]["department"] == rows[s.visit]["department"]
    page = office.get(f"/public/results/{s.visit}").get_data(as_text=True)
    assert f"/public/results/{number}" in page
    page = office.get(f"/public/results/{number}").get_data(as_text=True)
    assert f"/public/results/{s.visit}" in page

    # the employer's history, newest first: the follow-up's result above the original's
    html = office.get(f"/employers/{employer_id}").get_data(as_text=True)
    section = html[html.index('id="employer-history"'):]
    assert section.index(number) < section.index(s.visit)
    assert LAST_DUE in section and FIRST_DUE in section
    with app.app_context():
        from inspection.review.followup.history import employer_history

        kinds = [(e.kind, e.visit) for e in employer_history(employer_id).entries]
    assert kinds[0] == ("published", number) or kinds[0][1] == number
    assert ("follow_up", number) in kinds and ("visit", s.visit) in kinds
    assert kinds.index(("follow_up", number)) < kinds.index(("visit", s.visit))
    assert [k for k, v in kinds if v == s.visit].count("order") == 2

    # the history costs the same number of statements with more visits, results, objections
    few, _html = _statements(app, office, f"/employers/{employer_id}")
    with app.app_context():
        _more_history(employer_id, original.id, 20)
    many, html = _statements(app, office, f"/employers/{employer_id}")
    assert many <= few, (few, many)
    assert "YY-2026-EXTRA19" in html and "history_page=2" in html
    older, html = _statements(app, office, f"/employers/{employer_id}?history_page=2")
    assert s.visit in html and older <= few
    assert office.get(f"/employers/{employer_id}?history_page=0").status_code == 422


def _more_history(employer_id: int, like_visit_id: int, n: int) -> None:
    """``n`` more published-looking visits of the employer, each with an approved result
    with an order and an objection (rows, for the statement count only)."""
    like = db.session.get(Determination, db.session.scalar(
        select(Determination.id).where(Determination.visit_id == like_visit_id)))
    for k in range(n):
        visit = Visit(number=f"2025-9{k:05d}", year=2025, employer_id=employer_id,
                      status="published", window_start=date(2025, 3, 1) + timedelta(days=k),
                      window_end=date(2025, 6, 30))
        db.session.add(visit)
        db.session.flush()
        db.session.add(Determination(
            visit_id=visit.id, revision_id=like.revision_id, result_category=like.result_category,
            findings=like.findings, status="approved", proposed_by_id=like.proposed_by_id,
            decided_by_id=like.decided_by_id, decided_at=like.decided_at))
        db.session.add(Objection(number=f"YY-2026-EXTRA{k:02d}", visit_id=visit.id,
                                 source="office", credit_code="X", contact="c", text="t"))
    db.session.commit()


def test_a_follow_up_goes_to_other_inspectors_only_with_approval(app, department, login_as):
    s, office, approver, _principal = bureau(app, department, login_as)
    _approve(office, approver, s.visit, _orders(s))
    with app.app_context():
        follow = db.session.scalar(select(Visit).where(Visit.follows_id.is_not(None)))
        number = follow.number
        on_team = set(db.session.scalars(select(TeamMember.inspector_id)
                                         .where(TeamMember.visit_id == follow.id)))
        others = [i for i in db.session.scalars(select(Inspector.id).order_by(Inspector.id))
                  if i not in on_team][:2]
    assert len(others) == 2
    few, page = _statements(app, office, "/review/follow-ups/")
    assert number in page and s.visit in page

    # refused input: one inspector only, no reason
    bad = office.post_form(f"/review/follow-ups/{number}/reassign",
                           {"inspector_ids": str(others[0]), "reason": ""},
                           token_from="/review/follow-ups/")
    assert bad.status_code == 303
    with app.app_context():
        from inspection.review.followup.models import FollowUpReassignment

        assert db.session.scalar(select(func.count(FollowUpReassignment.id))) == 0
    asked = office.post_form(f"/review/follow-ups/{number}/reassign",
                             {"inspector_ids": f"{others[0]}, {others[1]}",
                              "reason": "原检查组成员出差"}, token_from="/review/follow-ups/")
    assert asked.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(FollowUpReassignment))
        assert row.inspector_ids == others and row.status == "proposed"
        request_id = row.id
    # an inspector cannot decide; the office cannot either (approvers only)
    assert office.post_form(f"/review/follow-ups/requests/{request_id}/decision",
                            {"approve": "true"}, token_from="/review/follow-ups/"
                            ).status_code == 403
    decided = approver.post_form(f"/review/follow-ups/requests/{request_id}/decision",
                                 {"approve": "true", "reason": ""},
                                 token_from="/review/follow-ups/")
    assert decided.status_code == 302
    with app.app_context():
        active = db.session.scalars(select(TeamMember).where(
            TeamMember.visit_id == follow.id, TeamMember.replaced_at.is_(None))
            .order_by(TeamMember.is_leader.desc(), TeamMember.id)).all()
        assert [m.inspector_id for m in active] == others and active[0].is_leader
        replaced = db.session.scalar(select(func.count(TeamMember.id)).where(
            TeamMember.visit_id == follow.id, TeamMember.replaced_at.is_not(None)))
        assert replaced == len(on_team)  # kept on record
        actions = list(db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("followup.%")).order_by(AuditEntry.seq)))
        assert actions == ["followup.schedule", "followup.reassign.request",
                           "followup.reassign.approve"]
    # the old team no longer sees it on the phone
    listed = [v["number"] for v in s.inspector.get("/api/v1/field/visits").get_json()]
    assert number not in listed and s.visit in listed

    # the list costs the same number of statements with more follow-ups, teams and requests
    with app.app_context():
        office_id = db.session.scalar(select(AuditEntry.actor_id).where(
            AuditEntry.action == "followup.reassign.request"))
        for k in range(6):
            more = Visit(number=f"2026-8{k:05d}", year=2026, employer_id=follow.employer_id,
                         status="assigned", window_start=date(2026, 7, 1),
                         window_end=date(2026, 7, 15), follows_id=follow.follows_id)
            db.session.add(more)
            db.session.flush()
            for n, inspector_id in enumerate(others):
                db.session.add(TeamMember(visit_id=more.id, inspector_id=inspector_id,
                                          department_id=department, is_leader=n == 0,
                                          source="follow_up"))
            db.session.add(FollowUpReassignment(visit_id=more.id, inspector_ids=list(on_team),
                                                reason="r", proposed_by_id=office_id))
        db.session.commit()
    many, page = _statements(app, office, "/review/follow-ups/")
    assert many <= few + 1, (few, many)  # (+1: the requests' people not on a team, once)
    assert "2026-800005" in page


def test_four_eyes_on_a_change_of_team(app, department, login_as):
    from inspection.core.errors import PermissionDenied
    from inspection.review.followup import operations as ops
    from test_review_support import user

    s, office, approver, _principal = bureau(app, department, login_as)
    _approve(office, approver, s.visit, _orders(s))
    with app.app_context():
        follow = db.session.scalar(select(Visit).where(Visit.follows_id.is_not(None)))
        ids = list(db.session.scalars(select(Inspector.id).order_by(Inspector.id)))[-2:]
        row = ops.request_reassignment(follow.number, ids, "调整", actor=user("approver1"))
        try:
            ops.decide_reassignment(row.id, True, actor=user("approver1"))
        except PermissionDenied as error:
            assert "own proposal" in error.message or "自己" in error.message
        else:
            raise AssertionError("an approver decided their own request")
