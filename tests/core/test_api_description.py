"""The OpenAPI description says what the answers are: the one error shape, date-times with
their zone, what a signer must give, a body where one is required. The fuzzer
(test_api_fuzz.py) checks every operation against the description; these pin the points
the description once got wrong."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from inspection.catalogue import operations as catalogue_ops
from inspection.catalogue.demo import seed_catalogue
from inspection.catalogue.models import CataloguePublication
from inspection.core import operations as core_ops
from inspection.core.access import PUBLIC, access_of
from inspection.extensions import db

from employers_support import codes, employer_values, regions  # noqa: F401 (a fixture)


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, operation


def test_every_error_response_is_the_one_error_shape(spec, client):
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"] and error["additionalProperties"] is False
    body = spec["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"code", "status", "message"}
    assert body["properties"]["status"]["type"] == "integer"
    assert body["properties"]["code"]["type"] == "string"
    answer = client.get("/api/v1/me").get_json()
    assert set(answer) == {"error"} and set(answer["error"]) <= set(body["properties"])
    for method, path, operation in _operations(spec):
        assert "default" not in operation["responses"], (method, path)
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            if "$ref" in response:
                name = response["$ref"].rsplit("/", 1)[1]
                response = spec["components"]["responses"][name]
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_every_operation_documents_sign_in_and_roles(app, spec):
    public = set()
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            public |= {(method.lower(), path) for method in rule.methods
                       if access_of(rule.endpoint, method) == PUBLIC}
    for method, path, operation in _operations(spec):
        if (method, path) not in public:
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
        if method != "get":
            assert "400" in operation["responses"], (method, path)


def test_date_times_are_sent_with_their_zone(regions, login_as):
    c = login_as("office")
    r = c.api("POST", "/api/v1/employers", json=employer_values(codes(1)[0]))
    assert r.status_code == 201, r.get_json()
    employer = r.get_json()
    for key in ("created_at", "updated_at"):
        assert employer[key].endswith("Z"), employer[key]
        assert datetime.fromisoformat(employer[key]).utcoffset() == timedelta(0)
    admin = login_as("admin")
    entry = admin.get("/api/v1/audit?limit=1").get_json()[0]
    assert entry["at"].endswith("Z") and datetime.fromisoformat(entry["at"]).tzinfo


def test_a_signer_gives_what_its_kind_needs(spec):
    signer = spec["components"]["schemas"]["SignatureUpload"]["properties"]["signer"]
    by_kind = {variant["properties"]["kind"]["enum"][0]: variant for variant in signer["oneOf"]}
    assert set(by_kind["witness"]["required"]) == {"kind", "name"}
    assert set(by_kind["representative"]["required"]) == {"kind", "name", "role"}
    assert set(by_kind["inspector"]["required"]) == {"kind", "user_id"}
    assert by_kind["witness"]["properties"]["name"]["minLength"] == 1


def test_publishing_the_catalogue_needs_a_body(app, department, login_as):
    with app.app_context():
        core_ops.create_department("社会保险", "SHBX")
        item = seed_catalogue()[0]
        catalogue_ops.revise_item(item, {"frequency": 2}, "两次")  # something to publish
        before = db.session.scalar(select(func.count()).select_from(CataloguePublication))
    c = login_as("approver")
    for kwargs in ({}, {"data": "{}", "content_type": "text/plain"}):
        r = c.http.post("/api/v1/catalogue/publications",
                        headers={"X-CSRFToken": c.api_token()}, **kwargs)
        assert r.status_code == 422, r.get_data(as_text=True)
        assert r.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CataloguePublication)) == before
    assert c.api("POST", "/api/v1/catalogue/publications", json={}).status_code == 201
