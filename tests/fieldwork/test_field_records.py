"""The field app's record uploads over HTTP: idempotency, conflicts, validation, scope."""
import threading

from sqlalchemy import func, select

from inspection.core.models import AuditEntry
from inspection.extensions import db
from inspection.fieldwork.models import RecordRevision, Visit

from helpers import Client

from field_support import link, new_key, record, setup


def _count(app, model=RecordRevision, **where):
    with app.app_context():
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return db.session.scalar(query)


def _audits(app, action):
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEntry.seq))
                                 .where(AuditEntry.action == action))


def test_same_revision_twice_makes_one_row_and_the_same_receipt(app, department, login_as):
    client, field = setup(app, department, login_as)
    key, body = new_key(), record(field)
    first = client.api("PUT", f"/api/v1/field/records/{key}", json=body)
    assert first.status_code == 201, first.get_json()
    receipt = first.get_json()
    assert receipt["key"] == key and receipt["kind"] == "record"
    assert receipt["record_id"] == body["record_id"] and receipt["revision"] == 1
    assert len(receipt["sha256"]) == 64 and receipt["missing_photos"] == []
    again = client.api("PUT", f"/api/v1/field/records/{key}", json=body)
    assert again.status_code == 200
    assert again.get_json() == receipt
    # the same body with its keys in another order is the same canonical body
    reordered = dict(reversed(list(body.items())))
    assert client.api("PUT", f"/api/v1/field/records/{key}", json=reordered).get_json() == receipt
    assert _count(app, revision_uuid=key) == 1
    assert _audits(app, "field.record_revision") == 1      # no audit entry for replays
    with app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.number == field.mine))
        assert visit.status == "in_progress"


def test_changed_body_under_the_same_key_is_refused(app, department, login_as):
    client, field = setup(app, department, login_as)
    key, body = new_key(), record(field)
    assert client.api("PUT", f"/api/v1/field/records/{key}", json=body).status_code == 201
    changed = dict(body, saved_at="2026-04-02T10:16:00+08:00")
    response = client.api("PUT", f"/api/v1/field/records/{key}", json=changed)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    with app.app_context():
        stored = db.session.scalar(select(RecordRevision).where(
            RecordRevision.revision_uuid == key))
        assert stored.body["saved_at"] == body["saved_at"]
    # another key for a revision number already stored is refused too
    other = client.api("PUT", f"/api/v1/field/records/{new_key()}", json=changed)
    assert other.status_code == 409
    assert _count(app) == 1


def test_the_latest_revision_is_the_record(app, department, login_as):
    client, field = setup(app, department, login_as)
    record_id = new_key()
    for revision, category in ((1, None), (3, "no_problem"), (2, None)):  # 3 arrives before 2
        body = record(field, record_id=record_id, revision=revision, category=category)
        assert client.api("PUT", f"/api/v1/field/records/{new_key()}",
                          json=body).status_code == 201
    state = client.api("GET", f"/api/v1/field/visits/{field.mine}/record").get_json()
    assert state["revision"] == 3 and state["revisions"] == 3
    assert state["result_category"] == "no_problem" and state["complete"] is True
    assert state["body"]["revision"] == 3


def test_key_must_be_a_lower_case_uuid(app, department, login_as):
    client, field = setup(app, department, login_as)
    for key in ("not-a-uuid", new_key().upper()):
        response = client.api("PUT", f"/api/v1/field/records/{key}", json=record(field))
        assert response.status_code == 422
        assert "key" in response.get_json()["error"]["fields"]
    assert _count(app) == 0


def test_permissions(app, department, login_as, client):
    inspector, field = setup(app, department, login_as)
    body = record(field)
    # another inspector, on other teams: my visit does not exist for them
    other = login_as("inspector", username="insp_b")
    link(app, field.other_inspector, "insp_b")
    assert other.api("PUT", f"/api/v1/field/records/{new_key()}", json=body).status_code == 404
    assert other.get(f"/api/v1/field/visits/{field.mine}/pack").status_code == 404
    assert other.get(f"/api/v1/field/visits/{field.mine}/record").status_code == 404
    assert field.mine not in {v["number"] for v in other.get("/api/v1/field/visits").get_json()}
    # my own client cannot reach a visit I am not on
    assert field.others
    response = inspector.api("PUT", f"/api/v1/field/records/{new_key()}",
                             json=dict(body, visit=field.others[0]))
    assert response.status_code == 404
    # an inspector account linked to nobody sees nothing
    idle = login_as("inspector", username="insp_c")
    assert idle.get("/api/v1/field/visits").get_json() == []
    assert idle.get(f"/api/v1/field/visits/{field.mine}/pack").status_code == 404
    # the office is not an inspector
    office = login_as("office")
    assert office.get("/api/v1/field/visits").status_code == 403
    assert office.api("PUT", f"/api/v1/field/records/{new_key()}", json=body).status_code == 403
    # nobody signed in
    assert client.get("/api/v1/field/visits").status_code == 401
    assert client.http.put(f"/api/v1/field/records/{new_key()}", json=body).status_code in (
        400, 401)  # refused before anything: the CSRF check or the sign-in check
    assert _count(app) == 0


def test_writes_need_the_csrf_header(app, department, login_as):
    client, field = setup(app, department, login_as)
    response = client.http.put(f"/api/v1/field/records/{new_key()}", json=record(field))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


def _fields(response):
    assert response.status_code == 422, response.get_json()
    return response.get_json()["error"]["fields"]


def test_result_category_must_agree_with_the_answers(app, department, login_as):
    client, field = setup(app, department, login_as)
    q = field.questions
    bad = {"item": field.item, "question": q[0], "answer": "non_compliant",
           "note": "工资未按月足额支付", "order": None}
    put = lambda body: client.api("PUT", f"/api/v1/field/records/{new_key()}", json=body)  # noqa
    fields = _fields(put(record(field, answers=[bad], category="no_problem")))
    assert "result_category" in fields
    # rectification ordered needs an order given with a non-compliant answer
    fields = _fields(put(record(field, answers=[bad], category="rectification_ordered")))
    assert "result_category" in fields
    ordered = dict(bad, order={"kind": "rectify", "due": "2026-05-01", "text": "限期补发"})
    assert put(record(field, answers=[ordered],
                      category="rectification_ordered")).status_code == 201
    # a non-compliant answer needs a note; an order to rectify a date
    fields = _fields(put(record(field, answers=[dict(bad, note="  ")])))
    assert "answers.0.note" in fields
    fields = _fields(put(record(field, answers=[dict(ordered, order={"kind": "rectify"})])))
    assert "answers.0.order.due" in fields
    # an order only goes with a non-compliant answer
    compliant = dict(ordered, answer="compliant")
    assert "answers.0.order" in _fields(put(record(field, answers=[compliant])))
    # unreachable: nothing could be checked, and the scene is fixed with photos
    fields = _fields(put(record(field, category="unreachable")))
    assert len(fields["result_category"]) == 2
    # follow-up needs a problem
    assert "result_category" in _fields(put(record(field, category="pending_follow_up")))
    # unknown codes
    assert "result_category" in _fields(put(record(field, category="fine")))
    assert "answers.0.answer" in _fields(put(record(field, answers=[dict(bad, answer="ok")])))
    assert "answers.0.item" in _fields(put(record(field, answers=[dict(bad, item="XX-99")])))
    assert "answers.0.question" in _fields(
        put(record(field, answers=[dict(bad, question="LR-01-01")])))
    # a malformed body
    assert "revision" in _fields(put(dict(record(field), revision="two")))
    assert "record_id" in _fields(put(dict(record(field), record_id="x")))
    assert _count(app) == 1


def test_a_record_belongs_to_one_visit(app, department, login_as):
    client, field = setup(app, department, login_as)
    body = record(field)
    assert client.api("PUT", f"/api/v1/field/records/{new_key()}", json=body).status_code == 201
    with app.app_context():
        from inspection.draws.models import TeamMember
        second = db.session.scalar(select(Visit.number).join(
            TeamMember, TeamMember.visit_id == Visit.id).where(
            TeamMember.inspector_id == field.my_inspector, Visit.number != field.mine,
            TeamMember.replaced_at.is_(None)).limit(1))
    assert second is not None, "the first member of a team is on more than one visit"
    moved = dict(body, visit=second, revision=2, answers=[])
    response = client.api("PUT", f"/api/v1/field/records/{new_key()}", json=moved)
    assert response.status_code == 422
    assert "record_id" in response.get_json()["error"]["fields"]


def test_the_same_revision_sent_at_once_by_two_connections(app, department, login_as):
    """Two requests with the same key race to the insert: one row, both get the receipt."""
    first, field = setup(app, department, login_as)
    second = Client(app)  # the same person on a second phone: one account, two sessions
    assert second.login("insp_a").status_code == 302
    for round_ in range(4):
        key, body = new_key(), record(field, revision=1)
        tokens = [first.api_token(), second.api_token()]
        barrier = threading.Barrier(2)
        results = [None, None]

        def send(n, c):
            barrier.wait()
            results[n] = c.http.put(f"/api/v1/field/records/{key}", json=body,
                                    headers={"X-CSRFToken": tokens[n]})

        threads = [threading.Thread(target=send, args=(n, c))
                   for n, c in enumerate((first, second))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 201], [r.get_json() for r in results]
        assert results[0].get_json() == results[1].get_json()
        assert results[0].get_json()["key"] == key
        assert _count(app, revision_uuid=key) == 1
    assert _audits(app, "field.record_revision") == 4
