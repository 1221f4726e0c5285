"""Headers, CSRF, request limits and the JSON shape of every API error."""
from sqlalchemy import func, select

from inspection import create_app
from inspection.core.models import Department
from inspection.extensions import db

from helpers import Client


def test_security_headers(client):
    r = client.get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in r.headers
    https = client.http.get("/login", base_url="https://localhost")
    assert https.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_have_no_inline_script_or_style(login_as):
    c = login_as("admin")
    for path in ("/login", "/", "/admin/users", "/admin/departments", "/audit",
                 "/account/password"):
        html = c.get(path).get_data(as_text=True)
        assert "<script>" not in html and " style=" not in html and "<style" not in html, path


def test_form_without_csrf_token_is_refused_and_changes_nothing(app, login_as):
    c = login_as("admin")
    r = c.http.post("/admin/departments", data={"name": "就业", "code": "JY"})
    assert r.status_code == 400
    assert "security token" in r.get_data(as_text=True) or "安全令牌" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Department.id)).where(
            Department.code == "JY")) == 0


def test_api_requires_csrf_header(login_as):
    c = login_as("office")
    r = c.http.patch("/api/v1/me", json={"locale": "en"})
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "csrf_failed"
    ok = c.api("PATCH", "/api/v1/me", json={"locale": "en"})
    assert ok.status_code == 200 and ok.get_json()["locale"] == "en"


def test_fresh_csrf_token_after_the_old_one_is_lost(login_as):
    """The PWA may hold a token from days ago; it asks for a fresh one and goes on."""
    c = login_as("office")
    stale = "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMCI.aaaa.bbbb"
    r = c.http.patch("/api/v1/me", json={"locale": "en"}, headers={"X-CSRFToken": stale})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "csrf_failed"
    fresh = c.get("/api/v1/auth/csrf-token").get_json()
    assert fresh["header"] == "X-CSRFToken"
    r = c.http.patch("/api/v1/me", json={"locale": "en"},
                     headers={"X-CSRFToken": fresh["csrf_token"]})
    assert r.status_code == 200


def test_api_errors_have_one_shape(login_as):
    c = login_as("office")
    cases = [
        (c.get("/api/v1/no-such-thing"), 404, "not_found"),
        (c.http.delete("/api/v1/me", headers={"X-CSRFToken": c.api_token()}), 405,
         "method_not_allowed"),
        (c.http.patch("/api/v1/me", data="{not json", content_type="application/json",
                      headers={"X-CSRFToken": c.api_token()}), 400, "bad_request"),
        (c.api("PATCH", "/api/v1/me", json={"locale": "fr"}), 422, "validation_failed"),
        (c.api("PATCH", "/api/v1/me", json={}), 422, "validation_failed"),
        (c.get("/api/v1/audit"), 403, "forbidden"),
        (c.get("/api/v1/audit?limit=abc"), 403, "forbidden"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.content_type == "application/json"
        error = response.get_json()["error"]
        assert error["code"] == code and error["status"] == status and error["message"]
    fields = cases[3][0].get_json()["error"]["fields"]
    assert "locale" in fields
    assert "JSON" in cases[2][0].get_json()["error"]["message"]


def test_validation_error_of_query(login_as):
    c = login_as("supervisor")
    r = c.get("/api/v1/audit?limit=abc")
    assert r.status_code == 422 and "limit" in r.get_json()["error"]["fields"]


def test_oversized_body_is_refused(app_config):
    small = create_app(dict(app_config, MAX_CONTENT_LENGTH=1024))
    c = Client(small)
    r = c.http.post("/login", data={"username": "x" * 5000, "password": "y"})
    assert r.status_code == 413


def test_oversized_api_body_json(app_config, make_user):
    small = create_app(dict(app_config, MAX_CONTENT_LENGTH=2048))
    make_user("alice", "office")
    c = Client(small)
    c.login("alice")
    r = c.http.patch("/api/v1/me", data='{"locale": "' + "x" * 5000 + '"}',
                     content_type="application/json", headers={"X-CSRFToken": c.api_token()})
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"


def test_open_redirect_is_refused(make_user, client):
    make_user("alice", "office")
    token = client.token()
    r = client.http.post("/login", data={"username": "alice", "password": "Correct-horse-42",
                                         "csrf_token": token, "next": "https://evil.example/"})
    assert r.headers["Location"] == "/"


def test_healthz(client, app_config):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok", "database": "ok"}
    down = create_app(dict(app_config, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"))
    r = down.test_client().get("/healthz")
    assert r.status_code == 503 and r.get_json()["database"] == "unreachable"


def test_openapi_description(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/auth/csrf-token" in spec["paths"] and "/api/v1/audit" in spec["paths"]
