"""The public results (公示): `/public/results` (HTML and JSON), one result with its history,
objections from the public page, and the QR check of a sealed record (pending until the
result is published, then the bureau's result only).

The data is built once for the module (eight visits of one task, each record sealed through
the real field API, then reviewed through `inspection.review.operations`) and emptied after
it; the tests that change it come last."""
from __future__ import annotations

import re
from dataclasses import dataclass, field as dc_field
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from inspection.core import operations as core_ops  # noqa: E402
from inspection.core.models import User  # noqa: E402
from inspection.directory.models import Inspector  # noqa: E402
from inspection.draws.models import TeamMember  # noqa: E402
from inspection.extensions import db  # noqa: E402
from inspection.fieldwork.models import RESULT_LABELS, Visit  # noqa: E402
from inspection.review import operations as review_ops  # noqa: E402
from inspection.review import public as public_reader  # noqa: E402
from inspection.review.models import Determination, Objection, Publication  # noqa: E402

from helpers import empty_database as _empty_database  # noqa: E402
from field_support import (Field, jpeg, new_key, photo_ref, put_photo, record,  # noqa: E402
                           settings)
from helpers import PASSWORD, Client, csrf_from  # noqa: E402
from seal_support import inspector, put_record, representative, sign  # noqa: E402
from team_support import build_bureau, draw_teams, visits  # noqa: E402

NOTE = "工资表显示三月工资延迟发放十五天。"
FINDING = "经核查工资台账，确认延迟发放。"
SUMMARY = "认定说明：内部意见。"
REPRESENTATIVE = "王经理"
CONTACT = "李女士 13800000000"
OBJECTION_TEXT = "我单位已于四月补发工资，结果认定有误。"
PUBLISHED = ("V0", "V1", "V2", "V3")


@dataclass
class World:
    numbers: dict[str, str]            # V0..V7 -> visit number
    employers: dict[str, str]          # V0..V7 -> employer name
    codes: dict[str, str]              # V0..V7 -> credit code
    seals: dict[str, str]
    task_id: int
    other_department: int
    department: int
    item: str
    questions: list[str]
    secrets: list[str] = dc_field(default_factory=list)   # never in a public answer


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _as(app, fn, *args, actor: str, **kw):
    """Run a review operation as ``actor`` (loaded from the database), in a request; the id
    of the row it answers."""
    with app.test_request_context():
        result = fn(*args, actor=_user(actor), **kw)
        row_id = result.id
        db.session.remove()
        return row_id


def _seal(app, number: str, field: Field, category: str, *, problem: bool) -> tuple[dict, list]:
    """The visit's record signed by its team and the representative, sealed, sent by its
    first member through the field API."""
    with app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.number == number))
        members = db.session.scalars(select(TeamMember).where(
            TeamMember.visit_id == visit.id, TeamMember.replaced_at.is_(None))
            .order_by(TeamMember.id)).all()
        people = [db.session.get(Inspector, m.inspector_id) for m in members]
        users = []
        for person in people:
            if person.user_id is None:
                dept = core_ops.get_department(person.department_id)
                user = core_ops.create_user(f"insp{person.id}", f"insp{person.id}", dept,
                                            ("inspector",), PASSWORD)
                person.user_id = user.id
                db.session.commit()
            users.append((person.user_id, db.session.get(User, person.user_id).username))
        names = [p.name for p in people]
    client = Client(app)
    assert client.login(users[0][1]).status_code == 302
    here = Field(mine=number, others=[], questions=field.questions, item=field.item,
                 my_inspector=0, other_inspector=0)
    photos = []
    if problem:
        data, key = jpeg(seed=5), new_key()
        assert put_photo(client, key, data, number, X_Question=field.questions[0]).status_code \
            == 201
        photos = [photo_ref(key, data, field.questions[0])]
        answers = [{"item": field.item, "question": field.questions[0],
                    "answer": "non_compliant", "note": NOTE,
                    "order": {"kind": "rectify", "due": "2026-05-01", "text": "足额支付拖欠工资"}}]
    else:
        answers = [{"item": field.item, "question": q, "answer": "compliant"}
                   for q in field.questions]
    body = record(here, answers=answers, category=category, photos=photos)
    signed = sign(client, body, [inspector(uid) for uid, _n in users]
                  + [representative(REPRESENTATIVE)])
    response = put_record(client, signed)
    assert response.status_code == 201, response.get_json()
    secrets = names + [s["png_sha256"] for s in signed["signatures"]] \
        + [p["sha256"] for p in photos] + [u for _i, u in users]
    return signed, secrets


def _finding(w: World) -> list[dict]:
    return [{"item": w.item, "question": w.questions[0], "finding": FINDING,
             "handling": "rectification_order", "due": date(2026, 5, 1), "note": "内部备注"}]


def _determine(app, w: World, key: str, category: str, findings=(), *, approve=True):
    det = _as(app, review_ops.propose_determination, w.numbers[key], category, list(findings),
              SUMMARY, actor="office1")
    if approve:
        _as(app, review_ops.decide_determination, det, True, actor="approver1")
    return det


def _publish(app, w: World, key: str):
    return _as(app, review_ops.publish, w.numbers[key], actor="office1")


@pytest.fixture(autouse=True)
def _clean():
    """Overrides the per-test emptying of tests/conftest.py: the module's data is built
    once (:func:`world`) and emptied after the module."""
    yield


@pytest.fixture(scope="module")
def world(app):
    with app.app_context():
        _empty_database()
        dept = core_ops.create_department("劳动保障监察", "LSJC")
        bureau = build_bureau(dept.id, employers=8, lead_inspectors=6)
        draw_teams(bureau)
        vs = visits(bureau)
        assert len(vs) == 8
        keys = [f"V{n}" for n in range(8)]
        numbers = {k: v.number for k, v in zip(keys, vs)}
        employers = {k: v.employer.name for k, v in zip(keys, vs)}
        codes = {k: v.employer.credit_code for k, v in zip(keys, vs)}
        from inspection.fieldwork.common import visit_versions as _versions

        version, code = _versions(vs[0])[0]
        questions = [q.code for q in version.questions]
        for username, roles_, position in (("office1", ("office",), None),
                                           ("approver1", ("approver",), "head"),
                                           ("principal", ("approver",), "principal_head")):
            user = core_ops.create_user(username, username, dept, roles_, PASSWORD)
            user.position = position
        user.display_name = "张局长"
        db.session.commit()
        task_id, other, dept_id = bureau.task_id, bureau.social_id, dept.id
    field = Field(mine="", others=[], questions=questions, item=code, my_inspector=0,
                  other_inspector=0)
    w = World(numbers=numbers, employers=employers, codes=codes, seals={}, task_id=task_id,
              other_department=other, department=dept_id, item=code, questions=questions)
    for key in keys:
        problem = key in ("V1", "V4")
        signed, secrets = _seal(app, numbers[key], field,
                                "rectification_ordered" if problem else "no_problem",
                                problem=problem)
        w.seals[key] = signed["seal"]
        w.secrets.extend(secrets)
    w.secrets = sorted(set(w.secrets)) + [REPRESENTATIVE, NOTE, FINDING, SUMMARY, "内部备注",
                                          "office1", "approver1", "张局长", "足额支付拖欠工资"]
    # Published, oldest first: V0 no problem, V1 rectification ordered, V2 qualified, V3 none.
    for key, category in (("V0", "no_problem"), ("V1", "rectification_ordered"),
                          ("V2", "qualified"), ("V3", "no_problem")):
        _determine(app, w, key, category, _finding(w) if category == "rectification_ordered"
                   else ())
        _publish(app, w, key)
    # V4 stays recorded (its on-site category: rectification ordered), V5 proposed,
    # V6 determined (approved, not published), V7 withheld.
    _determine(app, w, "V5", "unqualified", _finding(w), approve=False)
    _determine(app, w, "V6", "pending_follow_up", [dict(_finding(w)[0],
                                                        handling="follow_up", due=None)])
    _determine(app, w, "V7", "no_activity")
    row = _as(app, review_ops.propose_exception, numbers["V7"], "state_secret", "涉密",
              actor="office1")
    _as(app, review_ops.decide_exception, row, True, actor="approver1")
    with app.app_context():
        states = dict(db.session.execute(select(Visit.number, Visit.status)).all())
    assert [states[numbers[k]] for k in keys] == [
        "published"] * 4 + ["recorded", "proposed", "determined", "withheld"]
    yield w
    with app.app_context():
        db.session.remove()
        _empty_database()


def _text(response) -> str:
    return response.get_data(as_text=True)


def _json(client, query: str = ""):
    response = client.get("/public/results.json" + query)
    assert response.status_code == 200, _text(response)
    return response.get_json()


def _numbers(data) -> list[str]:
    return [r["visit"] for r in data["results"]]


def _hidden(w: World) -> list[str]:
    return [w.numbers[k] for k in ("V4", "V5", "V6", "V7")] + \
        [w.employers[k] for k in ("V4", "V5", "V6", "V7")]


# --- reading ----------------------------------------------------------------------------------

def test_anonymous_visitors_read_the_published_results_newest_first(world, client):
    w = world
    data = _json(client)
    assert data["total"] == 4 and data["page"] == 1 and data["pages"] == 1
    assert _numbers(data) == [w.numbers[k] for k in ("V3", "V2", "V1", "V0")]
    one = next(r for r in data["results"] if r["visit"] == w.numbers["V1"])
    assert one["credit_code"] == w.codes["V1"] and one["employer"] == w.employers["V1"]
    assert one["result_category"] == "rectification_ordered"
    assert one["result_label"] == RESULT_LABELS["rectification_ordered"]
    assert one["tasks"] == [{"id": w.task_id, "name": "工资支付专项"}]
    assert [i["code"] for i in one["items"]] == [w.item] and one["items"][0]["name"]
    assert one["department"] == {"id": w.department, "name": "劳动保障监察"}
    assert one["determined_on"] == review_ops.today().isoformat()
    assert one["published_on"] == review_ops.today().isoformat()
    assert one["corrected"] is None and one["objections"] == []
    assert one["url"].endswith(f"/public/results/{w.numbers['V1']}")

    page = client.get("/public/results")
    assert page.status_code == 200
    html = _text(page)
    assert '<html lang="zh-CN">' in html and "抽查结果" in html
    for k in PUBLISHED:
        assert w.employers[k] in html and w.codes[k] in html
    assert RESULT_LABELS["qualified"] in html and "劳动保障监察" in html
    assert "<script" not in html and 'style="' not in html
    assert '<label for="q">' in html and '<label for="year">' in html

    client.http.set_cookie("lang", "en")
    english = _text(client.get("/public/results"))
    assert '<html lang="en">' in english and "Results of random inspections" in english
    # the categories in English, not in the legal Chinese wording the JSON carries
    assert "Qualified" in english and RESULT_LABELS["qualified"] not in english
    assert "Problems found and ordered to be corrected" in english
    assert RESULT_LABELS["rectification_ordered"] not in english
    one_page = _text(client.get(f"/public/results/{w.numbers['V1']}"))
    assert "Problems found and ordered to be corrected" in one_page
    assert RESULT_LABELS["rectification_ordered"] not in one_page


def test_results_not_published_never_appear(world, client):
    w = world
    pages = [_text(client.get("/public/results")),
             _text(client.get("/public/results.json")),
             _text(client.get("/public/results.json?q=" + w.employers["V4"]))]
    for body in pages:
        for hidden in _hidden(w):
            assert hidden not in body, hidden
    for k in ("V4", "V5", "V6", "V7"):
        assert client.get(f"/public/results/{w.numbers[k]}").status_code == 404
        assert _json(client, "?q=" + w.codes[k])["total"] == 0
    assert client.get("/public/results/no-such").status_code == 404


def test_no_personal_data_in_any_public_answer(world, client):
    w = world
    answers = [client.get("/public/results"), client.get("/public/results.json")]
    answers += [client.get(f"/public/results/{w.numbers[k]}") for k in PUBLISHED]
    answers += [client.get(f"/public/records/{w.seals[k]}") for k in w.seals]
    for response in answers:
        assert response.status_code == 200
        body = _text(response)
        for secret in w.secrets:
            assert secret not in body, (secret, response.request.path)
        assert "/photos/" not in body and "/signatures/" not in body
        assert "检查员" not in body


def test_search_and_filters(world, client):
    w = world
    assert _numbers(_json(client, "?q=" + w.employers["V2"])) == [w.numbers["V2"]]
    assert _numbers(_json(client, "?q=" + w.codes["V1"])) == [w.numbers["V1"]]
    assert _numbers(_json(client, "?q=" + w.codes["V1"].lower())) == [w.numbers["V1"]]
    assert _json(client, "?q=淄博测试")["total"] == 4
    assert _json(client, "?q=%25")["total"] == 0          # a LIKE wildcard is literal
    assert _json(client, "?q=nobody")["total"] == 0
    assert _json(client, "?year=2026")["total"] == 4 and _json(client, "?year=2025")["total"] == 0
    assert _json(client, f"?task={w.task_id}")["total"] == 4
    assert _json(client, f"?task={w.task_id + 100}")["total"] == 0
    assert _numbers(_json(client, "?category=qualified")) == [w.numbers["V2"]]
    assert set(_numbers(_json(client, "?category=no_problem"))) == {w.numbers["V0"],
                                                                   w.numbers["V3"]}
    assert _json(client, "?category=unqualified")["total"] == 0   # V5's proposal is not public
    assert _json(client, f"?department={w.department}")["total"] == 4
    assert _json(client, f"?department={w.other_department}")["total"] == 0
    both = _json(client, f"?category=no_problem&q={w.employers['V3']}&year=2026")
    assert _numbers(both) == [w.numbers["V3"]]
    # empty values from the HTML form mean "any"
    assert _json(client, "?q=&year=&task=&category=&department=&page=")["total"] == 4
    html = _text(client.get("/public/results?category=qualified"))
    assert w.employers["V2"] in html and w.employers["V0"] not in html
    assert '<option value="qualified" selected>' in html


def test_pages_of_results(world, client, monkeypatch):
    w = world
    monkeypatch.setattr(public_reader, "PER_PAGE", 3)
    first, second = _json(client), _json(client, "?page=2")
    assert (first["total"], first["pages"], second["page"]) == (4, 2, 2)
    assert _numbers(first) + _numbers(second) == [w.numbers[k] for k in ("V3", "V2", "V1", "V0")]
    assert _json(client, "?page=3")["results"] == []
    html = _text(client.get("/public/results?page=2&year=2026"))
    assert 'rel="prev"' in html and "page=1" in html and "year=2026" in html
    assert 'rel="next"' not in html and w.employers["V0"] in html


@pytest.mark.parametrize("query, field", [
    ("year=abc", "year"), ("year=1800", "year"), ("page=0", "page"), ("page=x", "page"),
    ("category=bogus", "category"), ("task=-1", "task"), ("task=1.5", "task"),
    ("department=abc", "department"), ("q=" + "x" * 101, "q"), ("page=99999999999", "page"),
])
def test_bad_values_answer_422(world, client, query, field):
    response = client.get("/public/results.json?" + query)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and field in error["fields"]
    page = client.get("/public/results?" + query)
    assert page.status_code == 422
    html = _text(page)
    assert 'class="error"' in html and "flash-error" in html
    assert field == "page" or f'id="{field}-error"' in html and 'aria-invalid="true"' in html


def _statements(app, client, path: str) -> int:
    seen = []

    def count(*_args, **_kw):
        seen.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen)


def test_statements_do_not_grow_with_the_rows(world, app, client):
    w = world
    one = "?q=" + w.codes["V1"]
    assert _json(client, one)["total"] == 1 and _json(client)["total"] == 4
    for path in ("/public/results.json", "/public/results"):
        few = _statements(app, client, path + one)
        many = _statements(app, client, path)
        assert few == many, (path, few, many)
        assert many <= 10, many   # the page, the count, the result's facts, its handling, its follow-up links


def test_one_result_and_its_objection_form(world, client):
    w = world
    response = client.get(f"/public/results/{w.numbers['V1']}")
    assert response.status_code == 200
    html = _text(response)
    assert w.employers["V1"] in html and w.codes["V1"] in html
    assert RESULT_LABELS["rectification_ordered"] in html
    assert 'name="csrf_token"' in html and 'name="key"' in html
    assert '<label for="credit_code">' in html and '<label for="text">' in html
    assert "已更正" not in html


def test_the_record_check_shows_only_the_published_result(world, client):
    w = world
    pending = _text(client.get(f"/public/records/{w.seals['V4']}"))
    assert w.numbers["V4"] in pending and "结果待审核认定" in pending
    assert RESULT_LABELS["rectification_ordered"] not in pending
    for k in ("V5", "V6", "V7"):
        body = _text(client.get(f"/public/records/{w.seals[k]}"))
        assert "结果待审核认定" in body, k
        assert RESULT_LABELS["unqualified"] not in body
        assert RESULT_LABELS["pending_follow_up"] not in body
        assert RESULT_LABELS["no_activity"] not in body
    published = _text(client.get(f"/public/records/{w.seals['V2']}"))
    assert RESULT_LABELS["qualified"] in published and "结果待审核认定" not in published
    assert f"/public/results/{w.numbers['V2']}" in published
    assert RESULT_LABELS["no_problem"] not in published      # the on-site category


# --- objections (change the data: after the readers) ------------------------------------------

def _objection_form(client, number: str) -> dict:
    html = _text(client.get(f"/public/results/{number}"))
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', html) or \
        re.search(r'id="key" name="key" type="hidden" value="([^"]+)"', html)
    assert key, html
    return {"csrf_token": csrf_from(html), "key": key.group(1)}


def _objections(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Objection.id)))


def test_an_objection_from_the_public_page(world, app, client):
    w = world
    number = w.numbers["V1"]
    path = f"/public/results/{number}/objection"
    values = {"credit_code": w.codes["V1"], "contact": CONTACT, "text": OBJECTION_TEXT}
    # without the CSRF token: refused, nothing stored
    form = _objection_form(client, number)
    assert client.http.post(path, data=dict(values, key=form["key"])).status_code == 400
    assert _objections(app) == 0
    # a wrong credit code: the form again with the message, nothing stored
    wrong = client.http.post(path, data=dict(values, credit_code=w.codes["V2"], **form))
    assert wrong.status_code == 422
    html = _text(wrong)
    assert "统一社会信用代码" in html and 'class="error"' in html and OBJECTION_TEXT in html
    short = client.http.post(path, data=dict(values, credit_code="123", **form))
    assert short.status_code == 422 and "18" in _text(short)
    empty = client.http.post(path, data=dict(values, text="  ", **form))
    assert empty.status_code == 422
    assert _objections(app) == 0
    # right: the receipt
    done = client.http.post(path, data=dict(values, **form))
    assert done.status_code == 200, _text(done)
    receipt = _text(done)
    with app.app_context():
        row = db.session.scalar(select(Objection))
        assert row.source == "public" and row.contact == CONTACT and row.request_key == form["key"]
        assert row.client_address == "127.0.0.1"
        number_, deadline, missing = row.number, row.deadline, row.deadline_year
    assert "回执编号" in receipt and number_ in receipt
    assert (deadline.isoformat() in receipt) if deadline else \
        (f"缺少 {missing} 年工作日历" in receipt)
    # a double submit answers the same receipt
    again = client.http.post(path, data=dict(values, **form))
    assert again.status_code == 200 and number_ in _text(again)
    assert _objections(app) == 1
    # an open review is not public; its outcome is, once decided, without contact or text
    assert _json(client, "?q=" + w.codes["V1"])["results"][0]["objections"] == []
    with app.app_context():
        objection_id = db.session.scalar(select(Objection.id))
    _as(app, review_ops.decide_objection, objection_id, "upheld", "经复核，原结果维持。",
        actor="office1")
    public = _json(client, "?q=" + w.codes["V1"])["results"][0]["objections"]
    assert public == [{"reviewed_on": review_ops.today().isoformat(), "status": "upheld",
                       "status_label": public[0]["status_label"],
                       "outcome": "经复核，原结果维持。"}]
    page = _text(client.get(f"/public/results/{number}"))
    listing = _text(client.get("/public/results"))
    for body in (page, listing, _text(client.get("/public/results.json"))):
        assert "经复核，原结果维持。" in body
        for secret in (CONTACT, OBJECTION_TEXT, number_):
            assert secret not in body


def test_objections_are_rate_limited_per_address(world, app, client):
    w = world
    number = w.numbers["V2"]
    path = f"/public/results/{number}/objection"
    values = {"credit_code": w.codes["V2"], "contact": CONTACT, "text": OBJECTION_TEXT}
    before = _objections(app)
    with app.app_context():
        recent = db.session.scalar(select(func.count(Objection.id)).where(
            Objection.client_address == "127.0.0.1"))
    with settings(app, OBJECTIONS_PER_ADDRESS_PER_HOUR=recent + 1):
        first = client.http.post(path, data=dict(values, **_objection_form(client, number)))
        assert first.status_code == 200
        blocked = client.http.post(path, data=dict(values, **_objection_form(client, number)))
        assert blocked.status_code == 429
        assert "请一小时后再试" in _text(blocked) or "过多" in _text(blocked)
        other = client.http.post(path, data=dict(values, **_objection_form(client, number)),
                                 environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert other.status_code == 200
    assert _objections(app) == before + 2


def test_no_objection_after_the_publication_period(world, app, client):
    w = world
    number = w.numbers["V3"]
    form = _objection_form(client, number)
    with app.app_context():
        visit_id = db.session.scalar(select(Visit.id).where(Visit.number == number))
        publication = db.session.scalar(select(Publication).where(
            Publication.visit_id == visit_id))
        publication.period_end = review_ops.today() - timedelta(days=1)
        db.session.commit()
    html = _text(client.get(f"/public/results/{number}"))
    assert 'name="credit_code"' not in html and "公示期" in html
    before = _objections(app)
    late = client.http.post(f"/public/results/{number}/objection", data=dict(
        form, credit_code=w.codes["V3"], contact=CONTACT, text=OBJECTION_TEXT))
    assert late.status_code == 409
    assert _objections(app) == before


# --- corrections and publication (change the list: last) --------------------------------------

def test_a_corrected_result_shows_corrected_and_keeps_the_original(world, app, client):
    w = world
    number = w.numbers["V0"]
    correction = _as(app, review_ops.propose_correction, number, "bureau", "认定类别有误",
                     "rectification_ordered", _finding(w), actor="office1")
    _as(app, review_ops.decide_correction, correction, True, actor="principal")
    today = review_ops.today().isoformat()
    row = _json(client, "?q=" + w.codes["V0"])["results"][0]
    assert row["result_category"] == "rectification_ordered"
    assert row["corrected"] == {"on": today, "original_category": "no_problem",
                                "original_label": RESULT_LABELS["no_problem"]}
    assert _json(client)["total"] == 4                        # still one row per visit
    listing = _text(client.get("/public/results?q=" + w.codes["V0"]))
    assert "已更正" in listing and today in listing
    page = _text(client.get(f"/public/results/{number}"))
    assert "已更正" in page and RESULT_LABELS["no_problem"] in page \
        and RESULT_LABELS["rectification_ordered"] in page
    assert "认定类别有误" not in page                             # the internal reason
    check = _text(client.get(f"/public/records/{w.seals['V0']}"))
    assert RESULT_LABELS["rectification_ordered"] in check and "已更正" in check
    assert _json(client, "?category=no_problem")["total"] == 1


def test_the_record_check_is_pending_until_the_result_is_published(world, app, client):
    w = world
    seal = w.seals["V4"]
    _determine(app, w, "V4", "pending_follow_up",
               [dict(_finding(w)[0], handling="follow_up", due=None)], approve=False)
    assert "结果待审核认定" in _text(client.get(f"/public/records/{seal}"))   # proposed
    with app.app_context():
        det_id = db.session.scalar(select(func.max(Determination.id)))
    _as(app, review_ops.decide_determination, det_id, True, actor="approver1")
    body = _text(client.get(f"/public/records/{seal}"))                      # determined
    assert "结果待审核认定" in body and RESULT_LABELS["pending_follow_up"] not in body
    assert w.numbers["V4"] not in _text(client.get("/public/results.json"))
    _publish(app, w, "V4")
    body = _text(client.get(f"/public/records/{seal}"))
    assert RESULT_LABELS["pending_follow_up"] in body and "结果待审核认定" not in body
    assert RESULT_LABELS["rectification_ordered"] not in body               # on-site category
    assert _numbers(_json(client))[0] == w.numbers["V4"]                    # newest first
