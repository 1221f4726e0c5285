"""Records returned by the office (docs/field-sync.md "Records returned by the office"): the
pack carries the office's comments, the visit list flags the visit, and a sealed correction
from the team puts the visit back in the review queue and resolves the return.

The office's own operation to return a record is tested elsewhere: here the ReviewReturn row
is made directly, as that operation leaves it (visit status ``returned``)."""
from datetime import datetime


from sqlalchemy import select

from inspection.core.models import User
from inspection.extensions import db
from inspection.fieldwork.models import RecordRevision, ReviewReturn, Visit

from field_support import new_key, record, setup
from seal_support import inspector, put_record, representative, sign, team_users


def _signers(team):
    return [inspector(team[0]), inspector(team[1]), representative()]


def _sealed_and_returned(app, department, login_as):
    """A sealed record of my visit on the server, returned by an office user with a general
    comment and one on the first question."""
    client, field = setup(app, department, login_as)
    team = team_users(app, field, login_as)
    record_id, key = new_key(), new_key()
    sealed = sign(client, record(field, record_id=record_id, category="no_problem"),
                  _signers(team))
    assert put_record(client, sealed, key).status_code == 201
    login_as("office", username="office_r")
    with app.app_context():
        office = db.session.scalar(select(User).where(User.username == "office_r"))
        office.display_name = "审核员甲"
        visit = db.session.scalar(select(Visit).where(Visit.number == field.mine))
        assert visit.status == "recorded"
        row = db.session.scalar(select(RecordRevision).where(
            RecordRevision.revision_uuid == key))
        older = ReviewReturn(visit_id=visit.id, revision_id=row.id, comments="旧的意见",
                             item_comments=[], returned_by_id=office.id,
                             returned_at=datetime(2026, 4, 3, 1, 0, 0),
                             resolved_by_id=row.id, resolved_at=datetime(2026, 4, 3, 2, 0, 0))
        back = ReviewReturn(visit_id=visit.id, revision_id=row.id,
                            comments="现场照片不足，请补充说明。",
                            item_comments=[{"item": field.item, "question": field.questions[0],
                                            "comment": "该项结论与照片不符"}],
                            returned_by_id=office.id, returned_at=datetime(2026, 4, 5, 8, 30, 0))
        db.session.add_all([older, back])
        visit.status = "returned"
        db.session.commit()
    return client, field, team, sealed, key


def test_the_pack_and_the_list_carry_the_return(app, department, login_as):
    client, field, _team, _sealed, _key = _sealed_and_returned(app, department, login_as)
    before = client.get(f"/api/v1/field/visits/{field.mine}/pack")
    pack = before.get_json()
    review = pack["review"]
    assert review["status"] == "returned" and pack["visit"]["status"] == "returned"
    assert [r["comments"] for r in review["returns"]] == ["现场照片不足，请补充说明。", "旧的意见"]
    latest = review["returns"][0]
    assert latest == {"at": "2026-04-05T08:30:00.000Z", "by": "审核员甲",
                      "comments": "现场照片不足，请补充说明。",
                      "item_comments": [{"item": field.item, "question": field.questions[0],
                                         "comment": "该项结论与照片不符"}],
                      "resolved": False}
    assert review["returns"][1]["resolved"] is True
    assert pack["visit"]["returned"] is True
    listed = {v["number"]: v for v in client.get("/api/v1/field/visits").get_json()}
    assert listed[field.mine]["status"] == "returned"
    # the list's ETag is the pack's: a phone sees that the returned visit must be downloaded
    assert f'"{listed[field.mine]["pack_etag"]}"' == before.headers["ETag"]


def test_the_visit_list_flags_a_returned_visit(app, department, login_as):
    client, field, _team, _sealed, _key = _sealed_and_returned(app, department, login_as)
    listed = {v["number"]: v for v in client.get("/api/v1/field/visits").get_json()}
    assert listed[field.mine]["returned"] is True
    assert all(v["returned"] is False for n, v in listed.items() if n != field.mine)


def test_a_sealed_correction_answers_the_return(app, department, login_as):
    client, field, team, sealed, key = _sealed_and_returned(app, department, login_as)
    etag = client.get(f"/api/v1/field/visits/{field.mine}/pack").headers["ETag"]
    # a draft of the correction changes nothing yet: the office still waits for a sealed one
    draft = dict(record(field, record_id=sealed["record_id"], revision=2, category="no_problem",
                        answers=[{"item": field.item, "question": field.questions[0],
                                  "answer": "not_applicable", "note": "", "order": None}]),
                 corrects=key, correction_reason="按审核意见更正")
    assert put_record(client, draft).status_code == 201
    with app.app_context():
        assert db.session.scalar(select(Visit.status).where(
            Visit.number == field.mine)) == "returned"
    correction = sign(client, dict(draft, revision=3), _signers(team))
    correction_key = new_key()
    response = put_record(client, correction, correction_key)
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.number == field.mine))
        assert visit.status == "recorded"
        row = db.session.scalar(select(RecordRevision).where(
            RecordRevision.revision_uuid == correction_key))
        assert row.corrects == key
        returns = db.session.scalars(select(ReviewReturn).where(
            ReviewReturn.visit_id == visit.id).order_by(ReviewReturn.id)).all()
        older, back = returns
        assert back.resolved_by_id == row.id and back.resolved_at is not None
        assert older.resolved_by_id != row.id  # an old, resolved return stays as it was
    after = client.get(f"/api/v1/field/visits/{field.mine}/pack")
    assert after.headers["ETag"] != etag
    pack = after.get_json()
    assert pack["visit"]["returned"] is False and pack["review"]["status"] == "recorded"
    assert all(r["resolved"] for r in pack["review"]["returns"])
    # a replay of the sealed correction changes nothing
    assert put_record(client, correction, correction_key).status_code == 200


def test_a_visit_never_returned_has_an_empty_review(app, department, login_as):
    client, field = setup(app, department, login_as)
    pack = client.get(f"/api/v1/field/visits/{field.mine}/pack").get_json()
    assert pack["review"] == {"status": pack["visit"]["status"], "returns": []}
    assert pack["visit"]["returned"] is False
