"""The inspectors JSON API: list with filters and pages, get, create, patch with version,
conflicts; errors answer JSON."""
import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from inspection.core import operations as core_ops
from inspection.directory.credit_code import random_code
from inspection.directory.inspectors import operations as ops
from inspection.directory.models import DirectoryChange, Employer, Region
from inspection.extensions import db


def body(**over):
    data = {"name": "孙丽", "department": "LSJC", "cert_kind": "law_enforcement",
            "cert_number": "370305001001", "cert_expires": "2029-12-31",
            "tags": ["wages", "劳务派遣"]}
    data.update(over)
    return data


@pytest.fixture
def office(login_as, department):
    return login_as("office")


@pytest.fixture
def employer_code(app):
    with app.app_context():
        db.session.add(Region(code="370305002", name="雪宫街道", county_code="370305",
                              county_name="临淄区"))
        code = random_code(random.Random(7))
        db.session.add(Employer(credit_code=code, name="淄博丁公司", employer_type="enterprise",
                                region_code="370305002", industry="F"))
        db.session.commit()
        return code


def test_create_get_and_list(office):
    response = office.api("POST", "/api/v1/inspectors", json=body())
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["tags"] == ["wages", "labour_dispatch"]
    assert created["department"] == "LSJC" and created["version"] == 1
    assert created["drawable"] is True and created["not_drawable_reasons"] == []
    got = office.api("GET", f"/api/v1/inspectors/{created['id']}").get_json()
    assert got["cert_number"] == "370305001001"
    listing = office.api("GET", "/api/v1/inspectors").get_json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == created["id"]
    assert office.api("GET", "/api/v1/inspectors/999").status_code == 404


def test_create_validation_answers_json_per_field(office):
    response = office.api("POST", "/api/v1/inspectors",
                          json=body(cert_kind="passport", cert_expires="soon"))
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"cert_kind", "cert_expires"}
    response = office.api("POST", "/api/v1/inspectors", json=body(department="NOPE"))
    assert response.status_code == 422
    assert "department" in response.get_json()["error"]["fields"]
    office.api("POST", "/api/v1/inspectors", json=body())
    response = office.api("POST", "/api/v1/inspectors", json=body(name="另一人"))
    assert response.status_code == 422
    assert "cert_number" in response.get_json()["error"]["fields"]


def test_list_filters_and_pages(app, office):
    with app.app_context():
        day = ops.today()
        for n in range(5):
            ops.create_inspector(body(cert_number=f"A{n}", name=f"甲{n}", tags=["wages"]))
        ops.create_inspector(body(cert_number="B1", name="乙", status="on_leave",
                                  tags=["social_insurance"]))
        ops.create_inspector(body(cert_number="B2", name="丙",
                                  cert_expires=day - timedelta(days=1)))
        ops.create_inspector(body(cert_number="B3", name="丁", pool="expert",
                                  cert_expires=day + timedelta(days=5)))

    def get(query):
        response = office.api("GET", "/api/v1/inspectors?" + query)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    page = get("per_page=3&page=2")
    assert page["total"] == 8 and page["pages"] == 3 and len(page["items"]) == 3
    assert {i["name"] for i in get("drawable=false")["items"]} == {"乙", "丙"}
    assert get("drawable=true")["total"] == 6
    assert [i["name"] for i in get("expiring=true")["items"]] == ["丁"]
    assert [i["name"] for i in get("tag=social_insurance")["items"]] == ["乙"]
    assert [i["name"] for i in get("pool=expert")["items"]] == ["丁"]
    assert [i["name"] for i in get("status=on_leave")["items"]] == ["乙"]
    expired = get("q=丙")["items"][0]
    assert expired["drawable"] is False
    assert [r["code"] for r in expired["not_drawable_reasons"]] == ["certificate_expired"]
    assert office.api("GET", "/api/v1/inspectors?status=asleep").status_code == 422


def test_patch_needs_the_current_version(app, office, make_user):
    make_user("liuyang", "inspector")
    inspector = office.api("POST", "/api/v1/inspectors", json=body()).get_json()
    path = f"/api/v1/inspectors/{inspector['id']}"
    missing = office.api("PATCH", path, json={"name": "孙丽丽"})
    assert missing.status_code == 422 and "version" in missing.get_json()["error"]["fields"]
    ok = office.api("PATCH", path, json={"name": "孙丽丽", "username": "liuyang",
                                         "version": 1, "reason": "更名"})
    assert ok.status_code == 200 and ok.get_json()["version"] == 2
    assert ok.get_json()["username"] == "liuyang"
    office.http.set_cookie("lang", "en")  # the message is checked in English
    stale = office.api("PATCH", path, json={"name": "孙三", "version": 1})
    assert stale.status_code == 409
    error = stale.get_json()["error"]
    assert error["code"] == "conflict" and "Reload" in error["message"]
    unlinked = office.api("PATCH", path, json={"username": None, "version": 2}).get_json()
    assert unlinked["username"] is None
    with app.app_context():
        rows = db.session.scalars(select(DirectoryChange).order_by(DirectoryChange.id)).all()
        assert [r.action for r in rows] == ["create", "update", "update"]
        assert rows[1].actor_name == "u_office" and rows[1].reason == "更名"
        assert rows[1].changes == {"name": ["孙丽", "孙丽丽"], "username": [None, "liuyang"]}


def test_conflicts_api(office, employer_code):
    inspector = office.api("POST", "/api/v1/inspectors", json=body()).get_json()
    path = f"/api/v1/inspectors/{inspector['id']}/conflicts"
    assert office.api("GET", path).get_json() == []
    unknown = office.api("POST", path, json={"credit_code": "91370305XXXXXXXXXX",
                                             "relation": "relative"})
    assert unknown.status_code == 422
    assert office.api("POST", path, json={"relation": "relative"}).status_code == 422
    created = office.api("POST", path, json={"credit_code": employer_code,
                                             "relation": "shareholding", "note": "持股 1%"})
    assert created.status_code == 201
    conflict = created.get_json()
    assert conflict["active"] and conflict["employer_name"] == "淄博丁公司"
    again = office.api("POST", path, json={"credit_code": employer_code, "relation": "other"})
    assert again.status_code == 409
    end = f"{path}/{conflict['id']}/end"
    assert office.api("POST", end, json={}).status_code == 422
    ended = office.api("POST", end, json={"reason": "股份已转让"})
    assert ended.status_code == 200 and ended.get_json()["active"] is False
    listed = office.api("GET", path).get_json()
    assert len(listed) == 1 and listed[0]["ended_at"] is not None
    assert office.api("POST", f"{path}/999/end", json={"reason": "x"}).status_code == 404


def test_supervisor_and_approver_read(login_as, app, department):
    with app.app_context():
        ops.create_inspector(body())
    for role in ("supervisor", "approver", "admin"):
        c = login_as(role)
        assert c.api("GET", "/api/v1/inspectors").get_json()["total"] == 1, role


def test_admin_writes(login_as, department):
    c = login_as("admin")
    assert c.api("POST", "/api/v1/inspectors", json=body()).status_code == 201


def test_openapi_describes_the_inspectors_api(client, app, department):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/inspectors" in spec["paths"]
    assert "patch" in spec["paths"]["/api/v1/inspectors/{inspector_id}"]
    with app.app_context():
        core_ops.get_department("LSJC")
