"""The employers JSON API: list with filters and keyset pages, get by code, create, patch."""
from employers_support import bad_check_char, codes, employer_values, make_employer, regions  # noqa: F401


def test_api_create_get_list_patch(app, regions, login_as):
    c = login_as("office")
    cs = codes(4)
    r = c.api("POST", "/api/v1/employers", json=employer_values(cs[0], risk_grade="C"))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["credit_code"] == cs[0] and body["version"] == 1 and body["region_name"] == "闻韶街道"
    for code in cs[1:]:
        assert c.api("POST", "/api/v1/employers", json=employer_values(code)).status_code == 201
    assert c.api("GET", f"/api/v1/employers/{cs[0].lower()}").get_json()["risk_grade"] == "C"
    assert c.api("GET", "/api/v1/employers/91370305MA0000000X").status_code == 404

    page = c.api("GET", "/api/v1/employers?risk_grade=C").get_json()
    assert [e["credit_code"] for e in page["items"]] == [cs[0]] and page["count"] == 1
    page1 = c.api("GET", "/api/v1/employers?limit=3").get_json()
    assert len(page1["items"]) == 3 and page1["next_after"]
    page2 = c.api("GET", f"/api/v1/employers?limit=3&after={page1['next_after']}").get_json()
    assert len(page2["items"]) == 1 and page2["next_after"] is None
    assert c.api("GET", "/api/v1/employers?q=淄博齐鲁").get_json()["count"] == 4
    assert c.api("GET", "/api/v1/employers?risk_grade=Q").status_code == 422

    r = c.api("PATCH", f"/api/v1/employers/{cs[0]}", json={"version": 1, "risk_grade": "A"})
    assert r.status_code == 422 and "reason" in r.get_json()["error"]["fields"]
    r = c.api("PATCH", f"/api/v1/employers/{cs[0]}",
              json={"version": 1, "risk_grade": "A", "reason": "整改完成"})
    assert r.status_code == 200 and r.get_json()["version"] == 2
    r = c.api("PATCH", f"/api/v1/employers/{cs[0]}", json={"version": 1, "notes": "stale"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "conflict"
    r = c.api("PATCH", f"/api/v1/employers/{cs[0]}", json={"notes": "no version"})
    assert r.status_code == 422


def test_api_refuses_bad_values_with_reasons(app, regions, login_as):
    c = login_as("admin")
    r = c.api("POST", "/api/v1/employers", json=employer_values(bad_check_char(codes(1)[0])))
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert "credit_code" in err["fields"] and "第18位" in err["message"]
    r = c.api("POST", "/api/v1/employers", json=employer_values(codes(1)[0], region_code="nowhere"))
    assert r.status_code == 422 and "region_code" in r.get_json()["error"]["fields"]
    r = c.api("POST", "/api/v1/employers", json={**employer_values(codes(1)[0]), "surprise": 1})
    assert r.status_code == 422
    r = c.api("POST", "/api/v1/employers",
              json={**employer_values("3703051234567X"), "override_reason": "旧代码，已核对原件"})
    assert r.status_code == 201 and r.get_json()["code_override_reason"] == "旧代码，已核对原件"


def test_api_roles(app, regions, login_as):
    make_employer(app, codes(1)[0])
    assert login_as("inspector").api("GET", "/api/v1/employers").status_code == 403
    s = login_as("approver")
    assert s.api("GET", "/api/v1/employers").status_code == 200
    assert s.api("POST", "/api/v1/employers", json=employer_values(codes(2)[1])).status_code == 403
    anon = app.test_client()
    assert anon.get("/api/v1/employers").status_code == 401


def test_get_answers_what_the_schema_documents(app, regions, login_as):
    """GET /api/v1/employers/<code> is made from one row without the schema: it answers
    exactly what EmployerDumpSchema dumps of the employer (fields, values, formats), for
    one with a flag changed and for a legacy code accepted with its reason."""
    from inspection.directory.employers import operations as ops
    from inspection.directory.employers.schemas import EmployerDumpSchema

    c = login_as("office")
    cs = codes(2)
    r = c.api("POST", "/api/v1/employers", json=employer_values(cs[0], risk_grade="C",
                                                                  employees=12, notes="备注"))
    assert r.status_code == 201, r.get_json()
    r = c.api("PATCH", f"/api/v1/employers/{cs[0]}",
              json={"version": 1, "flag_complaints": True, "reason": "投诉"})
    assert r.status_code == 200, r.get_json()
    legacy = bad_check_char(cs[1])
    r = c.api("POST", "/api/v1/employers", json={**employer_values(legacy),
                                                  "override_reason": "旧证照"})
    assert r.status_code == 201, r.get_json()
    for code in (cs[0], legacy):
        got = c.api("GET", f"/api/v1/employers/{code}").get_json()
        with app.test_request_context():
            wanted = EmployerDumpSchema().dump(ops.get_by_code(code))
        assert got == wanted
        assert set(got) == set(EmployerDumpSchema().fields)
