"""Joint visits: the team leader arranges the visit and splits the items; members send their
parts; the leader is given each member's part whole, or not at all (issue 6)."""
from __future__ import annotations

from sqlalchemy import select

from inspection.catalogue.models import CheckItem
from inspection.core.models import AuditEntry, User
from inspection.directory.models import Inspector
from inspection.draws.models import TeamMember
from inspection.extensions import db
from inspection.fieldwork import visits
from inspection.fieldwork.models import (ItemAssignment, RecordRevision, Visit, VisitArrangement,
                                         VisitTask)
from inspection.planning.models import TaskItem

from field_support import jpeg, link, new_key, photo_ref, put_photo, record, setup


def _team(app, number):
    """(leader inspector id, [other member inspector ids]) of the visit."""
    with app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.number == number))
        members = db.session.scalars(select(TeamMember).where(
            TeamMember.visit_id == visit.id, TeamMember.replaced_at.is_(None))
            .order_by(TeamMember.id)).all()
        leader = next(m.inspector_id for m in members if m.is_leader)
        return leader, [m.inspector_id for m in members if not m.is_leader]


def _second_item(app, number) -> str:
    """Give the visit a second check item (of the same task) and return its code."""
    with app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.number == number))
        have = set(visits.item_versions(visit.id))
        item = next(i for i in db.session.scalars(select(CheckItem).order_by(CheckItem.code))
                    if i.current is not None and i.current.id not in have
                    and i.current.questions)
        task_id = db.session.scalar(select(VisitTask.task_id)
                                    .where(VisitTask.visit_id == visit.id))
        # (a task's items are fixed once approved through the operations: the test's own
        # change; every visit of the task now checks the item too)
        db.session.add(TaskItem(task_id=task_id, item_version_id=item.current.id))
        db.session.commit()
        return item.code


def _questions(app, code) -> list[str]:
    with app.app_context():
        item = db.session.scalar(select(CheckItem).where(CheckItem.code == code))
        return [q.code for q in item.current.questions]


def _joint(app, department, login_as):
    """Signed-in leader and member clients on one visit, and the Field of the visit."""
    leader_client, field = setup(app, department, login_as, username="lead_a")
    leader, others = _team(app, field.mine)
    link(app, leader, "lead_a")
    member_client = login_as("inspector", username="member_b")
    link(app, others[0], "member_b")
    # setup() linked lead_a to the first member; make sure each account has one inspector.
    with app.app_context():
        lead_user = db.session.scalar(select(User.id).where(User.username == "lead_a"))
        for inspector in db.session.scalars(select(Inspector).where(
                Inspector.user_id == lead_user, Inspector.id != leader)):
            inspector.user_id = None
        db.session.commit()
    return leader_client, member_client, field, leader, others[0]


def _arrange(client, number, **data):
    body = {"revision": 0, "scheduled_on": None, "meeting_time": "", "meeting_point": "",
            "notes": "", "split": {}}
    body.update(data)
    return client.api("PUT", f"/api/v1/field/visits/{number}/arrangement", json=body)


def test_the_leader_arranges_the_visit_and_every_member_sees_it(app, department, login_as):
    leader_client, member_client, field, leader, member = _joint(app, department, login_as)
    second = _second_item(app, field.mine)
    response = _arrange(leader_client, field.mine, scheduled_on="2026-04-15",
                        meeting_time="08:30", meeting_point="园区北门",
                        split={field.item: [leader], second: [member, leader]})
    assert response.status_code == 200, response.get_json()
    saved = response.get_json()
    assert saved["revision"] == 1
    assert saved["split"] == {field.item: [leader], second: [member, leader]}
    assert saved["my_items"] == [field.item, second]

    seen = member_client.api("GET", f"/api/v1/field/visits/{field.mine}/arrangement").get_json()
    assert seen["scheduled_on"] == "2026-04-15"
    assert seen["meeting_point"] == "园区北门" and seen["meeting_time"] == "08:30"
    assert seen["my_items"] == [second]
    assert [m["is_me"] for m in seen["members"] if m["inspector_id"] == member] == [True]
    # The member's pack carries the arrangement, so the phone knows its items offline.
    pack = member_client.api("GET", f"/api/v1/field/visits/{field.mine}/pack").get_json()
    assert pack["arrangement"]["my_items"] == [second]
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "visit.arranged")).all()
        assert len(entries) == 1


def test_only_the_leader_arranges_and_reads_parts(app, department, login_as):
    leader_client, member_client, field, leader, member = _joint(app, department, login_as)
    response = _arrange(member_client, field.mine, meeting_point="x")
    assert response.status_code == 403
    assert member_client.api("GET", f"/api/v1/field/visits/{field.mine}/parts").status_code == 403
    outsider = login_as("inspector", username="outsider_c")
    assert outsider.api("GET", f"/api/v1/field/visits/{field.mine}/arrangement"
                        ).status_code == 404
    assert _arrange(outsider, field.mine).status_code == 404
    office = login_as("office", username="office_d")
    assert office.api("GET", f"/api/v1/field/visits/{field.mine}/parts").status_code == 403
    with app.app_context():
        assert db.session.scalars(select(VisitArrangement)).all() == []


def test_a_bad_arrangement_is_refused_whole_and_changes_nothing(app, department, login_as):
    leader_client, member_client, field, leader, member = _joint(app, department, login_as)
    second = _second_item(app, field.mine)
    error = _arrange(leader_client, field.mine, scheduled_on="2027-01-05",
                     meeting_time="25:00", split={field.item: [leader], "NOPE-1": [member]})
    assert error.status_code == 422
    fields = error.get_json()["error"]["fields"]
    assert {"scheduled_on", "meeting_time", "split.NOPE-1", f"split.{second}"} <= set(fields)
    outsider_inspector = field.other_inspector
    error = _arrange(leader_client, field.mine,
                     split={field.item: [outsider_inspector], second: []})
    assert error.status_code == 422
    assert set(error.get_json()["error"]["fields"]) == {f"split.{field.item}", f"split.{second}"}
    with app.app_context():
        assert db.session.scalars(select(VisitArrangement)).all() == []
        assert db.session.scalars(select(ItemAssignment)).all() == []


def test_a_stale_save_of_the_arrangement_is_refused(app, department, login_as):
    leader_client, _member_client, field, leader, member = _joint(app, department, login_as)
    assert _arrange(leader_client, field.mine, meeting_point="A").status_code == 200
    assert _arrange(leader_client, field.mine, revision=1, meeting_point="B").status_code == 200
    stale = _arrange(leader_client, field.mine, revision=1, meeting_point="C")
    assert stale.status_code == 409
    assert "revision" in stale.get_json()["error"]["fields"]
    now = leader_client.api("GET", f"/api/v1/field/visits/{field.mine}/arrangement").get_json()
    assert now["meeting_point"] == "B" and now["revision"] == 2


def _part(field, item, questions, *, finished, record_id=None, revision=1, photos=(),
          answers=None):
    answers = answers if answers is not None else [
        {"item": item, "question": q, "answer": "compliant", "note": "", "order": None}
        for q in questions]
    return record(field, record_id=record_id, revision=revision, answers=answers,
                  photos=photos, part={"finished": finished})


def test_a_member_may_answer_only_the_items_given_to_them(app, department, login_as):
    leader_client, member_client, field, leader, member = _joint(app, department, login_as)
    second = _second_item(app, field.mine)
    assert _arrange(leader_client, field.mine,
                    split={field.item: [leader], second: [member]}).status_code == 200
    wrong = _part(field, field.item, field.questions, finished=True)
    response = member_client.api("PUT", f"/api/v1/field/records/{new_key()}", json=wrong)
    assert response.status_code == 422
    assert "answers.0.item" in response.get_json()["error"]["fields"]
    categorised = _part(field, second, _questions(app, second), finished=True)
    categorised["result_category"] = "no_problem"
    response = member_client.api("PUT", f"/api/v1/field/records/{new_key()}", json=categorised)
    assert response.status_code == 422
    assert "result_category" in response.get_json()["error"]["fields"]
    right = _part(field, second, _questions(app, second), finished=True)
    assert member_client.api("PUT", f"/api/v1/field/records/{new_key()}",
                             json=right).status_code == 201


def test_parts_are_not_the_visits_record(app, department, login_as):
    leader_client, member_client, field, leader, member = _joint(app, department, login_as)
    own = record(field)
    assert leader_client.api("PUT", f"/api/v1/field/records/{new_key()}",
                             json=own).status_code == 201
    part = _part(field, field.item, field.questions, finished=False)
    assert member_client.api("PUT", f"/api/v1/field/records/{new_key()}",
                             json=part).status_code == 201
    state = leader_client.api("GET", f"/api/v1/field/visits/{field.mine}/record").get_json()
    assert state["record_id"] == own["record_id"]
    with app.app_context():
        assert db.session.scalar(select(RecordRevision.is_part).where(
            RecordRevision.record_id == part["record_id"])) is True


def test_the_leader_gets_each_part_whole_or_not_at_all(app, department, login_as):
    leader_client, member_client, field, leader, member = _joint(app, department, login_as)
    second = _second_item(app, field.mine)
    questions = _questions(app, second)
    assert _arrange(leader_client, field.mine,
                    split={field.item: [leader], second: [member]}).status_code == 200

    def parts():
        response = leader_client.api("GET", f"/api/v1/field/visits/{field.mine}/parts")
        assert response.status_code == 200
        body = response.get_json()
        return body, next(m for m in body["members"] if m["inspector_id"] == member)

    body, mine = parts()
    assert mine["state"] == "nothing" and not body["ready"]
    assert mine["items"] == [second] and mine["questions"] == len(questions)

    record_id = new_key()
    first = _part(field, second, questions[:1], finished=False, record_id=record_id)
    assert member_client.api("PUT", f"/api/v1/field/records/{new_key()}",
                             json=first).status_code == 201
    body, mine = parts()
    assert mine["state"] == "working" and mine["answered"] == 1 and not body["ready"]

    # The finished part lists a photo that has not arrived: the leader still sees revision 1.
    data = jpeg(seed=11)
    key = new_key()
    finished = _part(field, second, questions, finished=True, record_id=record_id, revision=2,
                     photos=[photo_ref(key, data, questions[0])])
    assert member_client.api("PUT", f"/api/v1/field/records/{new_key()}",
                             json=finished).status_code == 201
    body, mine = parts()
    assert mine["revision"] == 1 and mine["waiting_photos"] and not body["ready"]
    assert [a["question"] for a in mine["answers"]] == questions[:1]

    assert put_photo(member_client, key, data, field.mine, X_Question=questions[0]
                     ).status_code == 201
    body, mine = parts()
    assert mine["revision"] == 2 and mine["state"] == "finished" and body["ready"]
    assert not mine["waiting_photos"]
    assert [a["question"] for a in mine["answers"]] == questions
    assert [p["uuid"] for p in mine["photos"]] == [key]
