"""The catalogue's office pages and JSON API: roles, forms, happy paths and 422 answers."""
from datetime import date

import pytest
from sqlalchemy import func, select

from inspection.catalogue import operations as ops
from inspection.catalogue.demo import seed_catalogue
from inspection.catalogue.models import CataloguePublication, CheckItem, CheckItemVersion
from inspection.core import operations as core_ops
from inspection.extensions import db


def api_values(dept_id, **over):
    data = {
        "code": "T-01", "name": "工资支付情况检查", "legal_basis": "《劳动保障监察条例》第十一条",
        "content": "检查工资支付。", "department_id": dept_id,
        "target_types": ["enterprise"], "method": "on_site", "kind": "general",
        "ratio": "0.05", "frequency": 1,
        "questions": [{"text": "是否按月支付工资？", "legal_basis": "《劳动法》第五十条",
                       "evidence_hint": "工资表"}],
    }
    data.update(over)
    return data


@pytest.fixture
def seeded(app, department):
    with app.app_context():
        core_ops.create_department("社会保险", "SHBX")
        items = seed_catalogue()
        return {i.code: i.id for i in items}


def form_data(dept_id, **over):
    data = {
        "code": "T-09", "name": "劳务派遣检查", "name_en": "", "legal_basis": "《劳务派遣暂行规定》",
        "content": "检查劳务派遣用工。", "department_id": str(dept_id),
        "target_types": ["enterprise", "social_group"], "method": "on_site", "kind": "general",
        "ratio": "5", "frequency": "1",
        "questions-0-order": "1", "questions-0-text": "第一问", "questions-0-legal_basis": "第一条",
        "questions-0-evidence_hint": "合同",
        "questions-1-order": "2", "questions-1-text": "第二问", "questions-1-legal_basis": "第二条",
        "questions-1-evidence_hint": "",
        "questions-2-order": "", "questions-2-text": "", "questions-2-legal_basis": "",
        "questions-2-evidence_hint": "",
        "change_note": "", "save": "y",
    }
    data.update(over)
    return data


# ----------------------------------------------------------------------------- roles
def test_inspector_reads_the_api_but_not_the_office_pages(seeded, login_as):
    c = login_as("inspector")
    for path in ("/catalogue/", f"/catalogue/{seeded['LR-01']}", "/catalogue/new",
                 f"/catalogue/{seeded['LR-01']}/edit", "/catalogue/publish",
                 f"/catalogue/{seeded['LR-01']}/versions/1"):
        assert c.get(path).status_code == 403, path
    r = c.get("/api/v1/catalogue/items")
    assert r.status_code == 200 and len(r.get_json()) == 8
    assert c.get(f"/api/v1/catalogue/items/{seeded['LR-02']}").status_code == 200
    version_id = r.get_json()[0]["current"]["id"]
    assert c.get(f"/api/v1/catalogue/versions/{version_id}").status_code == 200
    assert c.get("/api/v1/catalogue/publications").status_code == 200
    with c.app.app_context():
        dept = core_ops.get_department("LSJC").id
    assert c.api("POST", "/api/v1/catalogue/items", json=api_values(dept)).status_code == 403
    assert c.api("PUT", f"/api/v1/catalogue/items/{seeded['LR-01']}",
                 json={"frequency": 2, "change_note": "x"}).status_code == 403
    assert c.api("POST", f"/api/v1/catalogue/items/{seeded['LR-01']}/retire",
                 json={"reason": "x"}).status_code == 403
    assert c.api("POST", "/api/v1/catalogue/publications", json={}).status_code == 403


def test_supervisor_reads_but_cannot_edit_or_publish(seeded, login_as):
    c = login_as("supervisor")
    assert c.get("/catalogue/").status_code == 200
    assert c.get(f"/catalogue/{seeded['LR-03']}").status_code == 200
    assert c.get("/catalogue/new").status_code == 403
    assert c.get("/catalogue/publish").status_code == 403
    html = c.get("/catalogue/").get_data(as_text=True)
    assert "/catalogue/new" not in html and "/catalogue/publish" not in html


def test_office_edits_but_cannot_publish(seeded, login_as):
    c = login_as("office")
    assert c.get("/catalogue/new").status_code == 200
    assert c.get("/catalogue/publish").status_code == 403
    assert c.api("POST", "/api/v1/catalogue/publications", json={}).status_code == 403


def test_approver_publishes_but_cannot_edit(app, seeded, login_as):
    c = login_as("approver")
    assert c.get("/catalogue/").status_code == 200
    assert c.get("/catalogue/new").status_code == 403
    with app.app_context():
        item = ops.get_item(seeded["LR-01"])
        ops.revise_item(item, {"frequency": 2}, "两次")
    r = c.post_form("/catalogue/publish", {"published_on": "2026-02-01", "note": "调整"})
    assert r.status_code == 302
    with app.app_context():
        last = ops.last_publication()
        assert last.published_on == date(2026, 2, 1) and last.note == "调整"
        assert not ops.has_unpublished_changes()
    r = c.post_form("/catalogue/publish", {"published_on": "2026-02-02"})
    assert r.status_code == 409  # nothing changed since


def test_pages_have_no_inline_script_or_style(seeded, login_as):
    c = login_as("admin")
    for path in ("/catalogue/", f"/catalogue/{seeded['LR-01']}", "/catalogue/new",
                 f"/catalogue/{seeded['LR-01']}/edit", "/catalogue/publish",
                 f"/catalogue/{seeded['LR-01']}/versions/1", "/catalogue/publications/1"):
        r = c.get(path)
        html = r.get_data(as_text=True)
        assert r.status_code == 200, path
        assert "<script>" not in html and " style=" not in html and "<style" not in html, path


# ----------------------------------------------------------------------------- pages
def test_list_shows_columns_filters_and_publication_state(app, seeded, login_as):
    c = login_as("office")
    html = c.get("/catalogue/").get_data(as_text=True)
    assert html.count("LR-0") >= 8 and "2026-01-05" in html
    assert "Unpublished changes" not in html and "未发布的变更" not in html
    key_only = c.get("/catalogue/?status=&kind=key").get_data(as_text=True)
    assert "LR-06" in key_only and "LR-01" not in key_only
    with app.app_context():
        shbx = core_ops.get_department("SHBX").id
    dept_only = c.get(f"/catalogue/?status=&department_id={shbx}").get_data(as_text=True)
    assert "LR-07" in dept_only and "LR-02" not in dept_only
    written = c.get("/catalogue/?status=&method=written").get_data(as_text=True)
    assert "LR-01" in written and "LR-02" not in written
    with app.app_context():
        ops.retire_item(ops.get_item(seeded["LR-08"]), "合并")
    active = c.get("/catalogue/").get_data(as_text=True)
    assert "LR-08" not in active
    assert "badge warn" in active  # unpublished changes
    retired = c.get("/catalogue/?status=retired").get_data(as_text=True)
    assert "LR-08" in retired and "LR-01" not in retired


def test_create_through_the_form(app, department, login_as):
    c = login_as("office")
    r = c.post_form("/catalogue/new", form_data(department))
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        item = ops.get_item_by_code("T-09")
        v = item.current
        assert str(v.ratio) == "0.0500" and v.target_types == ["enterprise", "social_group"]
        assert [(q.code, q.text) for q in v.questions] == [("T-09-01", "第一问"),
                                                          ("T-09-02", "第二问")]
    assert r.headers["Location"] == f"/catalogue/{item.id}"
    html = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "第一问" in html and "T-09-02" in html


def test_form_errors_are_shown_per_field(app, department, login_as):
    c = login_as("office")
    r = c.post_form("/catalogue/new", form_data(
        department, ratio="25", target_types=[], **{"questions-0-text": "",
                                                    "questions-0-legal_basis": "",
                                                    "questions-0-evidence_hint": "",
                                                    "questions-1-text": "",
                                                    "questions-1-legal_basis": ""}))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert html.count('class="error"') >= 3
    assert "20%" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(CheckItem.id))) == 0


def test_more_rows_button_adds_rows_without_saving(app, department, login_as):
    c = login_as("office")
    r = c.post_form("/catalogue/new", {**form_data(department), "save": "",
                                       "more_rows": "y"}, token_from="/catalogue/new")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'name="questions-5-text"' in html and "第二问" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(CheckItem.id))) == 0


def test_edit_form_makes_a_version_reorders_and_removes(app, seeded, login_as):
    c = login_as("office")
    item_id = seeded["LR-01"]
    page = c.get(f"/catalogue/{item_id}/edit").get_data(as_text=True)
    assert "LR-01" in page and 'name="questions-4-text"' in page and 'name="questions-7-text"' in page
    with app.app_context():
        v1 = ops.get_item(item_id).current
        data = {key: getattr(v1, key) for key in ("name", "name_en", "legal_basis", "content",
                                                   "method", "kind")}
        data.update(department_id=str(v1.department_id), target_types=v1.target_types,
                    ratio="3", frequency="1")
        texts = [q.text for q in v1.questions]
        for n, q in enumerate(v1.questions):
            data.update({f"questions-{n}-order": str(n + 1), f"questions-{n}-text": q.text,
                         f"questions-{n}-legal_basis": q.legal_basis,
                         f"questions-{n}-evidence_hint": q.evidence_hint})
    # unchanged: no version
    r = c.post_form(f"/catalogue/{item_id}/edit", {**data, "save": "y"})
    assert r.status_code == 302
    with app.app_context():
        assert ops.get_item(item_id).current.number == 1
    # move question 5 to the top, remove question 2, change the ratio; no change note yet
    moved = {**data, "questions-4-order": "1", "questions-1-remove": "y", "ratio": "4",
             "save": "y"}
    r = c.post_form(f"/catalogue/{item_id}/edit", moved)
    assert r.status_code == 422
    assert "change note" in r.get_data(as_text=True).lower() or "变更说明" in r.get_data(as_text=True)
    r = c.post_form(f"/catalogue/{item_id}/edit", {**moved, "change_note": "调整顺序"})
    assert r.status_code == 302
    with app.app_context():
        item = ops.get_item(item_id)
        v2 = item.current
        assert v2.number == 2 and str(v2.ratio) == "0.0400" and v2.change_note == "调整顺序"
        assert [q.text for q in v2.questions] == [texts[4], texts[0], texts[2], texts[3]]
        assert [q.code for q in v2.questions] == ["LR-01-01", "LR-01-02", "LR-01-03", "LR-01-04"]
        assert [q.text for q in item.versions[0].questions] == texts
    detail = c.get(f"/catalogue/{item_id}").get_data(as_text=True)
    assert "调整顺序" in detail and f"/catalogue/{item_id}/versions/1" in detail
    old = c.get(f"/catalogue/{item_id}/versions/1").get_data(as_text=True)
    assert texts[1] in old and "3%" in old
    assert c.get(f"/catalogue/{item_id}/versions/9").status_code == 404


def test_retire_and_reinstate_through_the_pages(app, seeded, login_as):
    c = login_as("office")
    item_id = seeded["LR-04"]
    path = f"/catalogue/{item_id}"
    r = c.post_form(f"{path}/retire", {"reason": ""}, token_from=path)
    assert r.status_code == 302
    with app.app_context():
        assert ops.get_item(item_id).status == "active"
    r = c.post_form(f"{path}/retire", {"reason": "并入 LR-05"}, token_from=path)
    assert r.status_code == 302
    with app.app_context():
        assert ops.get_item(item_id).status == "retired"
        assert "LR-04" not in [i.code for i in ops.active_items()]
    html = c.get(path).get_data(as_text=True)
    assert "并入 LR-05" in html and f"{path}/edit" not in html
    assert c.get(f"{path}/edit").status_code == 302
    r = c.post_form(f"{path}/reinstate", {"reason": "恢复"}, token_from=path)
    assert r.status_code == 302
    with app.app_context():
        assert ops.get_item(item_id).status == "active"


# ----------------------------------------------------------------------------- API
def test_api_create_revise_retire_publish(app, department, login_as):
    office = login_as("office")
    r = office.api("POST", "/api/v1/catalogue/items", json=api_values(department))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    item_id = body["id"]
    assert body["code"] == "T-01" and body["current"]["number"] == 1
    assert body["current"]["ratio"] == "0.05"
    assert body["current"]["questions"][0]["code"] == "T-01-01"
    assert body["current"]["department"]["code"] == "LSJC"

    r = office.api("PUT", f"/api/v1/catalogue/items/{item_id}",
                   json={"kind": "key", "ratio": 1, "change_note": "列为重点事项"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert [v["number"] for v in body["versions"]] == [1, 2]
    assert body["current"]["ratio"] == "1" and body["current"]["kind"] == "key"
    assert body["versions"][0]["ratio"] == "0.05"
    v1_id = body["versions"][0]["id"]
    r = office.api("PUT", f"/api/v1/catalogue/items/{item_id}", json={"kind": "key"})
    assert r.status_code == 200 and len(r.get_json()["versions"]) == 2  # no-op

    r = office.get(f"/api/v1/catalogue/versions/{v1_id}")
    assert r.status_code == 200 and r.get_json()["number"] == 1
    assert r.get_json()["questions"][0]["text"] == "是否按月支付工资？"
    assert office.get("/api/v1/catalogue/versions/99999").status_code == 404

    approver = login_as("approver")
    r = approver.api("POST", "/api/v1/catalogue/publications",
                     json={"published_on": "2026-03-01", "note": "首次"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["published_on"] == "2026-03-01"
    assert r.get_json()["version_ids"] == [body["current"]["id"]]
    r = approver.api("POST", "/api/v1/catalogue/publications", json={"published_on": "2026-03-02"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "conflict"
    pubs = office.get("/api/v1/catalogue/publications").get_json()
    assert [p["published_on"] for p in pubs] == ["2026-03-01"]
    published = office.get("/api/v1/catalogue/published?on=2026-03-01").get_json()
    assert [v["number"] for v in published] == [2]
    assert office.get("/api/v1/catalogue/published?on=2026-02-28").get_json() == []

    r = office.api("POST", f"/api/v1/catalogue/items/{item_id}/retire", json={"reason": "停止"})
    assert r.status_code == 200 and r.get_json()["status"] == "retired"
    assert office.get("/api/v1/catalogue/items").get_json() == []
    assert len(office.get("/api/v1/catalogue/items?status=all").get_json()) == 1
    r = office.api("POST", f"/api/v1/catalogue/items/{item_id}/retire", json={"reason": "again"})
    assert r.status_code == 409
    r = office.api("POST", f"/api/v1/catalogue/items/{item_id}/reinstate", json={})
    assert r.status_code == 200 and r.get_json()["status"] == "active"


def test_api_validation_errors_are_422_json_with_fields(app, department, login_as):
    c = login_as("office")
    r = c.api("POST", "/api/v1/catalogue/items",
              json=api_values(department, ratio="0.5", target_types=["alien"], questions=[]))
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert {"ratio", "target_types", "questions"} <= set(error["fields"])
    r = c.api("POST", "/api/v1/catalogue/items", json={"code": "X-1"})
    assert r.status_code == 422
    assert {"name", "ratio", "questions"} <= set(r.get_json()["error"]["fields"])
    r = c.api("POST", "/api/v1/catalogue/items", json=api_values(department, ratio="many"))
    assert r.status_code == 422 and "ratio" in r.get_json()["error"]["fields"]
    r = c.api("POST", "/api/v1/catalogue/items", json=api_values(department))
    assert r.status_code == 201
    r = c.api("POST", "/api/v1/catalogue/items", json=api_values(department))
    assert r.status_code == 422 and "code" in r.get_json()["error"]["fields"]
    item_id = r.get_json() and c.get("/api/v1/catalogue/items").get_json()[0]["id"]
    r = c.api("PUT", f"/api/v1/catalogue/items/{item_id}", json={"frequency": 3})
    assert r.status_code == 422 and "change_note" in r.get_json()["error"]["fields"]
    r = c.api("PUT", f"/api/v1/catalogue/items/{item_id}",
              json={"frequency": 0, "change_note": "零次"})
    assert r.status_code == 422 and "frequency" in r.get_json()["error"]["fields"]
    r = c.api("POST", f"/api/v1/catalogue/items/{item_id}/retire", json={})
    assert r.status_code == 422 and "reason" in r.get_json()["error"]["fields"]
    assert c.api("PUT", "/api/v1/catalogue/items/9999",
                 json={"frequency": 2, "change_note": "x"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(CheckItemVersion.id))) == 1
        assert db.session.scalar(select(func.count(CataloguePublication.id))) == 0


def test_api_item_lists_current_versions_with_questions(seeded, login_as):
    c = login_as("inspector")
    items = c.get("/api/v1/catalogue/items").get_json()
    assert [i["code"] for i in items] == [f"LR-0{n}" for n in range(1, 9)]
    assert all(len(i["current"]["questions"]) >= 4 for i in items)
    assert items[0]["current"]["questions"][0]["evidence_hint"]
    one = c.get(f"/api/v1/catalogue/items/{seeded['LR-07']}").get_json()
    assert one["current"]["department"]["name"] == "社会保险" and len(one["versions"]) == 1


def test_cli_seed_and_list(app, department):
    with app.app_context():
        core_ops.create_department("社会保险", "SHBX")
    runner = app.test_cli_runner()
    r = runner.invoke(args=["catalogue", "seed"])
    assert r.exit_code == 0, r.output
    assert "8 active items" in r.output and "2026-01-05" in r.output
    r = runner.invoke(args=["catalogue", "list", "--on", "2026-01-05"])
    assert r.exit_code == 0 and r.output.count("\tv1\t") == 8
    r = runner.invoke(args=["catalogue", "publish", "--date", "2026-02-01"])
    assert r.exit_code != 0 and "未发生变更" in r.output  # the CLI speaks the bureau's language
