"""The public portal (docs/portal.md): reachable without an account, only what is public,
lists in pages with their JSON twins and the results as CSV, small accessible pages in the
statements a list allows, and the limit against scraping."""
from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from inspection.catalogue import operations as catalogue_ops
from inspection.catalogue.models import CheckItem
from inspection.core import operations as core_ops
from inspection.core.access import PUBLIC, access_of
from inspection.core.models import Department, LoginFailure, utcnow
from inspection.core.throttle import throttle
from inspection.draws.models import Draw, DrawKind
from inspection.draws.public_views import TEAMS_PER_PAGE
from inspection.extensions import db
from inspection.fieldwork.models import Visit
from inspection.planning import plans as plan_ops
from inspection.planning.models import AnnualPlan, Task, TaskDepartment, TaskItem
from inspection.portal import queries, throttling

from helpers import PASSWORD, Client
from portal_support import settings

CSS = Path(__file__).resolve().parents[2] / "static/css/app.css"
#: What a page may weigh, its HTML and its stylesheet together, uncompressed.
MAX_PAGE_BYTES = 50 * 1024

#: Every list of the portal: the page and its JSON twin, and the key of the rows.
LISTS = [("/public/catalogue", "/public/catalogue.json", "items"),
         ("/public/plans", "/public/plans.json", "plans"),
         ("/public/tasks", "/public/tasks.json", "tasks"),
         ("/public/draws", "/public/draws.json", "draws"),
         ("/public/results", "/public/results.json", "results")]


def _pages() -> list[str]:
    """The portal's pages in the demo (the lists, and one of each kind of record)."""
    with_ids = []
    plan = db.session.scalar(select(AnnualPlan.id).where(AnnualPlan.status == "published"))
    task = db.session.scalar(select(Task.id).where(Task.status == "teams_drawn"))
    with_ids += [f"/public/plans/{plan}", f"/public/tasks/{task}", "/public/catalogue/LR-06"]
    # Each executed draw's page; a team draw of more visits than a page shows its last too.
    for public_id, kind, record in db.session.execute(
            select(Draw.public_id, Draw.kind, Draw.record).where(Draw.status == "executed")):
        with_ids.append(f"/public/draws/{public_id}")
        if kind == DrawKind.TEAM.value and len(record["assignment"]) > TEAMS_PER_PAGE:
            last = -(-len(record["assignment"]) // TEAMS_PER_PAGE)
            with_ids.append(f"/public/draws/{public_id}?page={last}")
    return ["/public/", *(page for page, _json, _key in LISTS), *with_ids]


def fill(n: int = 25) -> None:
    """(In an app context.) More than a page of tasks (each with every item, a long name and
    two departments), draws and catalogue items."""
    plan = db.session.scalar(select(AnnualPlan).where(AnnualPlan.status == "published"))
    first = db.session.scalar(select(Task).where(Task.plan_id == plan.id).order_by(Task.id))
    office = core_ops.find_user("office")
    versions = [item.current for item in db.session.scalars(select(CheckItem))]
    tasks_before = db.session.scalar(select(func.count(Task.id)))
    items_before = len(versions)
    lead = first.lead_department_id
    other = db.session.scalar(select(Department.id).where(Department.id != lead).limit(1))
    for k in range(tasks_before, tasks_before + n):
        task = Task(plan_id=plan.id, name=f"{plan.year}年第{k + 1}批用人单位遵守劳动保障法律"
                    f"法规情况联合随机抽查任务（工资支付、劳动合同、社会保险）",
                    lead_department_id=lead, window_start=first.window_start,
                    window_end=first.window_end, status="approved", approved_at=utcnow(),
                    announced=bool(k % 2), grade_ratios=dict(first.grade_ratios))
        task.departments = [TaskDepartment(department_id=lead, is_lead=True),
                            TaskDepartment(department_id=other)]
        task.items = [TaskItem(item_version_id=v.id) for v in versions]
        db.session.add(task)
        db.session.flush()
        db.session.add(Draw(public_id=f"DRAW-{plan.year}-{9000 + k}", kind="target",
                            task_id=task.id, status="prepared", entropy_mode="secrets",
                            algorithm="rfc3797", commitment={}, commitment_sha256="ab" * 32))
    db.session.commit()
    for k in range(items_before, items_before + max(1, n - 8)):
        catalogue_ops.create_item({
            "code": f"T-{k + 1:02d}", "name": f"用人单位遵守劳动保障法律法规专项事项{k + 1}",
            "legal_basis": "《劳动保障监察条例》第十一条、第十八条；《中华人民共和国劳动合同法》"
                           "第七条、第十条、第八十二条；《中华人民共和国社会保险法》第五十八条",
            "content": "检查用人单位是否依法订立劳动合同、按时足额支付工资、参加社会保险。",
            "department_id": lead, "target_types": ["enterprise"], "method": "on_site",
            "kind": "general", "ratio": "0.05", "frequency": 1,
            "questions": [{"text": "是否按月支付工资？", "legal_basis": "《劳动法》第五十条",
                           "evidence_hint": "工资表"}]}, actor=office)
    catalogue_ops.publish(queries.today(), actor=office)


# --- reachable without an account ------------------------------------------------------------

def test_the_front_door_is_the_portal_for_the_public_and_home_for_staff(app, make_user):
    anonymous = Client(app)
    response = anonymous.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/public/"
    assert anonymous.get("/public/").status_code == 200
    make_user("clerk", "office")
    staff = Client(app)
    assert staff.login("clerk", PASSWORD).status_code == 302
    page = staff.get("/")
    assert page.status_code == 200 and 'class="public-nav"' not in page.get_data(as_text=True)


def _values(app) -> dict[str, str]:
    """A real value for each argument of the public routes, from the demo."""
    with app.app_context():
        target = db.session.scalar(select(Draw).where(Draw.kind == "team"))
        return {"public_id": target.public_id, "name": "inspectors", "seal": _seal(),
                "number": db.session.scalar(select(Visit.number).where(
                    Visit.status == "published").limit(1)),
                "key": "LR-06", "filename": "css/app.css",
                "plan_id": str(db.session.scalar(select(AnnualPlan.id).where(
                    AnnualPlan.status == "published"))),
                "task_id": str(target.task_id)}


def _seal() -> str:
    from inspection.fieldwork.models import RecordRevision

    return db.session.scalar(select(RecordRevision.seal).where(
        RecordRevision.seal.is_not(None)).limit(1))


def test_every_public_endpoint_answers_without_an_account(app, demo):
    """The allow-list (tests/core/test_access.py has it, and checks that everything else
    refuses): each of its endpoints lets an anonymous visitor in; the portal's answer 200."""
    values = _values(app)
    client = app.test_client()
    checked = []
    for rule in app.url_map.iter_rules():
        with app.test_request_context():
            if access_of(rule.endpoint, "GET") != PUBLIC or "GET" not in rule.methods:
                continue
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(r"<[^>]*\b" + arg + r">", values.get(arg, "x"), url)
        response = client.get(url)
        assert response.status_code not in (401, 403), (url, response.status_code)
        assert not response.headers.get("Location", "").startswith("/login"), url
        if rule.endpoint.startswith("portal."):
            assert response.status_code in (200, 302), (url, response.status_code)
            checked.append(rule.endpoint)
    assert len(checked) == 16, checked


def test_a_portal_page_is_the_same_for_everyone_and_sets_no_cookie(app, demo):
    client = app.test_client()
    response = client.get("/public/")
    html = response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    assert 'name="csrf-token"' not in html and 'name="csrf_token"' not in html
    assert '<html lang="zh-CN">' in html and "随机抽查信息公开" in html
    # the language switch works without an account, and the choice is a cookie
    switched = client.post("/language", data={"lang": "en", "next": "/public/"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/public/"
    english = client.get("/public/").get_data(as_text=True)
    assert '<html lang="en">' in english and "Random inspections: public information" in english


# --- only what is public --------------------------------------------------------------------

def test_only_published_plans_approved_tasks_and_published_lists_are_shown(app, demo):
    client = app.test_client()
    with app.app_context():
        draft = db.session.scalar(select(Task).where(Task.status == "draft"))
        plan = db.session.scalar(select(AnnualPlan).where(AnnualPlan.status == "published"))
        plan_ops.revise_plan(plan, "调整", actor=core_ops.find_user("office"))
        revision = db.session.scalar(select(AnnualPlan.id).where(AnnualPlan.status == "draft"))
        draft_id, plan_id = draft.id, plan.id
        # an item published from a day still to come is not public yet
        catalogue_ops.create_item({
            "code": "T-99", "name": "尚未公布的事项", "legal_basis": "《劳动保障监察条例》",
            "content": "检查内容。", "department_id": plan.tasks[0].lead_department_id,
            "target_types": ["enterprise"], "method": "on_site", "kind": "general",
            "ratio": "0.05", "frequency": 1,
            "questions": [{"text": "是否？", "legal_basis": "《劳动法》", "evidence_hint": ""}]},
            actor=core_ops.find_user("office"))
        catalogue_ops.publish(queries.today() + timedelta(days=3),
                              actor=core_ops.find_user("office"))

    tasks = client.get("/public/tasks.json").get_json()["tasks"]
    assert draft_id not in {t["id"] for t in tasks} and tasks
    assert all(t["status"] != "draft" for t in tasks)
    assert client.get(f"/public/tasks/{draft_id}").status_code == 404
    assert client.get(f"/public/tasks/{draft_id}.json").status_code == 404
    plans = client.get("/public/plans.json").get_json()["plans"]
    assert [p["id"] for p in plans] == [plan_id]
    assert client.get(f"/public/plans/{revision}").status_code == 404
    listed = client.get("/public/catalogue.json").get_json()
    assert "T-99" not in {i["code"] for i in listed["items"]} and len(listed["items"]) == 8
    assert client.get("/public/catalogue/T-99").status_code == 404
    # a task says whether its visits are announced, and lists its draws with their hashes
    task = next(t for t in tasks if t["draws"])
    assert task["announced"] in (True, False)
    assert all(len(d["commitment_sha256"]) == 64 for d in task["draws"])


def test_the_draws_index_shows_every_draw_from_its_preparation(app, demo):
    with app.app_context():
        fill(3)
        prepared = db.session.scalar(select(func.count(Draw.id)).where(
            Draw.status == "prepared"))
    body = app.test_client().get("/public/draws.json?status=prepared").get_json()
    assert body["total"] == prepared == 3
    assert all(d["status"] == "prepared" and d["task"]["name"] for d in body["draws"])
    html = app.test_client().get("/public/draws").get_data(as_text=True)
    assert "ab" * 32 in html


# --- lists, pages, JSON and CSV -------------------------------------------------------------

@pytest.mark.parametrize("page, twin, key", LISTS)
def test_a_list_has_pages_and_a_json_twin_and_refuses_a_bad_page(app, demo, page, twin, key):
    client = app.test_client()
    body = client.get(twin).get_json()
    assert {key, "page", "pages", "total", "per_page"} <= set(body)
    assert body["page"] == 1 and len(body[key]) <= body["per_page"]
    for bad in ("abc", "0", "-1", "2.5", str(2**31)):
        html = client.get(f"{page}?page={bad}")
        assert html.status_code == 422, (page, bad)
        answer = client.get(f"{twin}?page={bad}")
        assert answer.status_code == 422, (twin, bad)
        assert "page" in answer.get_json()["error"]["fields"]
    far = client.get(f"{twin}?page=99").get_json()
    assert far[key] == [] and far["page"] == 99


def test_pages_of_a_long_list(app, demo):
    with app.app_context():
        fill()
    client = app.test_client()
    first = client.get("/public/tasks.json").get_json()
    assert first["pages"] == 2 and len(first["tasks"]) == 20
    second = client.get("/public/tasks.json?page=2").get_json()
    assert {t["id"] for t in first["tasks"]}.isdisjoint({t["id"] for t in second["tasks"]})
    html = client.get("/public/tasks").get_data(as_text=True)
    assert 'href="?page=2" rel="next"' in html
    assert client.get("/public/catalogue.json?page=2").get_json()["items"]
    # a plan lists its year's tasks in pages too
    with app.app_context():
        plan = db.session.scalar(select(AnnualPlan.id).where(AnnualPlan.status == "published"))
    body = client.get(f"/public/plans/{plan}.json?page=2").get_json()
    assert body["id"] == plan and body["page"] == 2 and body["tasks"]
    assert client.get(f"/public/plans/{plan}?page=x").status_code == 422


def test_the_results_as_csv(app, demo):
    client = app.test_client()
    response = client.get("/public/results.csv")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    published = client.get("/public/results.json").get_json()
    assert rows[0][:4] == ["visit", "year", "credit_code", "employer"]
    assert len(rows) - 1 == published["total"] >= 2
    assert {r[0] for r in rows[1:]} == {r["visit"] for r in published["results"]}
    # the filters of the results page
    code = published["results"][0]["credit_code"]
    only = list(csv.reader(io.StringIO(client.get(f"/public/results.csv?q={code}")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    assert len(only) == 2 and only[1][2] == code
    bad = client.get("/public/results.csv?year=abc")
    assert bad.status_code == 422 and "year" in bad.get_json()["error"]["fields"]


# --- small, accessible, constant in statements ----------------------------------------------

class _Markup(HTMLParser):
    """What the accessibility checks look at: headings, labels, table headers, images."""

    def __init__(self):
        super().__init__()
        self.h1 = 0
        self.ids: set[str] = set()
        self.labels: set[str] = set()
        self.fields: list[tuple[str, dict]] = []
        self.th_without_scope = 0
        self.lang = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "html":
            self.lang = attrs.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        elif tag in ("input", "select", "textarea") and attrs.get("type") not in (
                "hidden", "submit"):
            self.fields.append((tag, attrs))
        elif tag == "th" and "scope" not in attrs:
            self.th_without_scope += 1


def test_pages_are_small_and_their_markup_accessible(app, demo):
    with app.app_context():
        fill()
        pages = _pages()
    css = CSS.stat().st_size
    client = app.test_client()
    for language in ("zh_CN", "en"):
        client.set_cookie("lang", language)
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, path
            html = response.get_data(as_text=True)
            assert len(response.get_data()) + css < MAX_PAGE_BYTES, (
                path, len(response.get_data()), css)
            markup = _Markup()
            markup.feed(html)
            assert markup.h1 == 1, (path, markup.h1)
            assert markup.lang == ("zh-CN" if language == "zh_CN" else "en")
            assert markup.th_without_scope == 0, path
            for tag, attrs in markup.fields:
                assert attrs.get("id") in markup.labels or attrs.get("aria-label"), (path, tag,
                                                                                    attrs)
            assert "<img" not in html


def _statements(app, paths: list[str]) -> dict[str, int]:
    client = app.test_client()
    counted = [0]

    def count(*_args, **_kw):
        counted[0] += 1

    with app.app_context():
        engine = db.engine
    counts = {}
    event.listen(engine, "before_cursor_execute", count)
    try:
        for path in paths:
            client.get(path)
            counted[0] = 0
            assert client.get(path).status_code == 200, path
            counts[path] = counted[0]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return counts


def test_statements_do_not_grow_with_the_rows(app, demo):
    """Every kind of row first (a few of each), then pages full of them: no page costs more
    statements (one may cost fewer: a page of rows that all lack a detail does not read it).
    tests/core/test_statement_counts.py checks every list of the app the same way."""
    with app.app_context():
        fill(3)
        paths = _pages() + [twin for _page, twin, _key in LISTS] + ["/public/results.csv"]
    before = _statements(app, paths)
    with app.app_context():
        fill(25)
    after = _statements(app, paths)
    grown = {path: (before[path], after[path]) for path in paths if after[path] > before[path]}
    assert not grown, grown
    assert max(before.values()) <= 30, before


# --- the limit against scraping -------------------------------------------------------------

def test_too_many_requests_from_one_address_get_429_with_retry_after(app, demo):
    with settings(app, PUBLIC_REQUESTS_PER_MINUTE=3):
        client = app.test_client()
        for _n in range(3):
            assert client.get("/public/plans").status_code == 200
        refused = client.get("/public/plans")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "访问过于频繁" in refused.get_data(as_text=True)
        # a file answers JSON, in the visitor's language
        client.set_cookie("lang", "en")
        answer = client.get("/public/plans.json")
        assert answer.status_code == 429 and answer.headers["Retry-After"]
        error = answer.get_json()["error"]
        assert error["code"] == "too_many_requests" and "Too many requests" in error["message"]
        # another address, and the pages that are not the portal's, are not held back
        other = app.test_client()
        assert other.get("/public/plans", environ_base={"REMOTE_ADDR": "10.0.0.2"}
                         ).status_code == 200
        assert client.get("/login").status_code == 200
    with app.app_context():
        keys = set(db.session.scalars(select(LoginFailure.key)))
    assert keys == {"public:127.0.0.1", "public:10.0.0.2"}


def test_the_limit_forgets_addresses_that_left_the_window(app):
    with app.app_context():
        old = utcnow() - timedelta(minutes=5)
        db.session.add_all([LoginFailure(key="public:10.0.0.9", at=old),
                            LoginFailure(key="public:10.0.0.8", at=utcnow()),
                            LoginFailure(key="user:someone", at=old)])
        db.session.commit()
        throttling._requests = itertools.count()
        throttling._sweep(throttle())
        left = set(db.session.scalars(select(LoginFailure.key)))
    assert left == {"public:10.0.0.8", "user:someone"}
