"""Text with a NUL character: PostgreSQL cannot store or compare it, so every request that
carries one is refused before a view reads it, the same on SQLite and PostgreSQL (the API
fuzzer found a search by ``?actor=`` that failed in the driver with a 500)."""
from __future__ import annotations


def _inspector(**over) -> dict:
    return {"name": "张三", "department": "LSJC", "cert_kind": "labour_inspector",
            "cert_number": "LS0000001", "cert_expires": "2030-12-31", **over}


def test_a_query_parameter_with_nul_is_422_naming_it(login_as):
    c = login_as("admin")
    r = c.get("/api/v1/audit?actor=a%00b")
    assert r.status_code == 422
    assert list(r.get_json()["error"]["fields"]) == ["actor"]


def test_a_json_text_with_nul_is_422_naming_it(login_as):
    c = login_as("admin", "office")
    r = c.api("POST", "/api/v1/inspectors", json=_inspector(tags=["ok", "a\x00b"]))
    assert r.status_code == 422
    assert list(r.get_json()["error"]["fields"]) == ["tags.1"]
    # a backslash followed by "u0000" is text like any other
    r = c.api("POST", "/api/v1/inspectors", json=_inspector(notes="C:\\u0000"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["notes"] == "C:\\u0000"


def test_a_form_field_with_nul_is_refused(client):
    r = client.post_form("/login", {"username": "a\x00b", "password": "x"})
    assert r.status_code == 422


def test_a_path_with_nul_names_nothing(login_as):
    c = login_as("admin", "office")
    r = c.get("/api/v1/employers/9137%000305")
    assert r.status_code == 404 and r.get_json()["error"]["status"] == 404
