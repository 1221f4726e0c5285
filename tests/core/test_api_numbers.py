"""Numbers too large for the database, everywhere the API description takes a whole number:
a query parameter or a body field is refused with 422 naming it, a number in the path is a
404 like any unknown id; never an overflow in the driver (a 500). The walk reads the
description, so a parameter added later is covered without a line here."""
from __future__ import annotations

import pytest

from inspection.core.fields import MAX_ID

HUGE = ["99999999999999999999", str(MAX_ID + 1), "-99999999999999999999"]
ALL_ROLES = ("admin", "office", "approver", "inspector", "supervisor")


@pytest.fixture
def root(login_as):
    """A user holding every role, so that no operation answers 403 before it reads."""
    return login_as(*ALL_ROLES, username="root")


def _description(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    return schema


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, operation, operation.get("parameters", []) + shared


def _integer(schema: dict) -> bool:
    return schema.get("type") == "integer"


def _filled(path: str, params: list[dict]) -> str:
    """The path with a well-formed value in each of its parameters."""
    for param in params:
        if param["in"] == "path":
            uuid = param.get("schema", {}).get("format") == "uuid"
            value = "0d5c0ac8-5a53-4a8e-9b4e-5b3f4e0f2a61" if uuid else "1"
            path = path.replace("{" + param["name"] + "}", value)
    return path


def test_every_integer_query_parameter_refuses_huge_numbers(root):
    spec = _description(root.http)
    seen = 0
    for method, path, _operation, params in _operations(spec):
        for param in params:
            if param["in"] != "query" or not _integer(param.get("schema", {})):
                continue
            for number in HUGE:
                r = root.api(method, f"{_filled(path, params)}?{param['name']}={number}")
                assert r.status_code == 422, (method, path, param["name"], number,
                                              r.status_code)
                error = r.get_json()["error"]
                assert param["name"] in error.get("fields", {}), (path, error)
            seen += 1
    assert seen >= 15


def test_every_integer_path_parameter_is_404_beyond_the_database(root):
    spec = _description(root.http)
    seen = 0
    for method, path, _operation, params in _operations(spec):
        for param in params:
            if param["in"] != "path" or not _integer(param.get("schema", {})):
                continue
            for number in HUGE[:2]:
                target = path.replace("{" + param["name"] + "}", number)
                r = root.api(method, _filled(target, params), json={})
                assert r.status_code == 404, (method, path, param["name"], r.status_code)
                assert r.get_json()["error"]["status"] == 404
            seen += 1
    assert seen >= 40


def test_every_integer_body_field_refuses_huge_numbers(root):
    """Each whole number of a JSON body, alone or in a list, on its own in the body: the body
    is refused before anything looks the number up."""
    spec = _description(root.http)
    seen = 0
    for method, path, operation, params in _operations(spec):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        schema = _resolve(spec, content["application/json"]["schema"])
        for name, prop in schema.get("properties", {}).items():
            prop = _resolve(spec, prop)
            if _integer(prop):
                values = [int(n) for n in HUGE]
            elif prop.get("type") == "array" and _integer(_resolve(spec, prop["items"])):
                values = [[int(n)] for n in HUGE]
            else:
                continue
            for value in values:
                r = root.api(method, _filled(path, params), json={name: value})
                assert r.status_code in (404, 422), (method, path, name, r.status_code)
                if r.status_code == 422:
                    fields = r.get_json()["error"].get("fields", {})
                    assert any(key == name or key.startswith(name + ".") for key in fields), \
                        (method, path, name, fields)
            seen += 1
    assert seen >= 10


def test_a_department_named_by_a_huge_number_is_unknown(root):
    """An inspector's department may be given by id, code or name, as text: a number beyond
    the database is no department, not an overflow."""
    for number in HUGE[:2]:
        r = root.api("POST", "/api/v1/inspectors", json={
            "name": "张三", "department": number, "cert_kind": "labour_inspector",
            "cert_number": "LS0000001", "cert_expires": "2030-12-31"})
        assert r.status_code == 422, r.get_data(as_text=True)
        assert "department" in r.get_json()["error"]["fields"]
