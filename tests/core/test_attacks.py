"""What an attacker tried from outside, each a test that failed before its fix: a copied
session cookie replayed after sign-out, racing wrong passwords, ids and parameters too large
for the database, deeply nested JSON, and answers a cache could keep."""
import threading

import pytest
from sqlalchemy import func, select

from inspection import create_app
from inspection.core import operations as ops
from inspection.core.fields import MAX_ID
from inspection.core.limits import MAX_JSON_DEPTH, json_depth
from inspection.core.models import LoginFailure
from inspection.extensions import db

from helpers import PASSWORD, Client

HUGE = "99999999999999999999"


def _copy_cookie(source: Client, target: Client) -> None:
    cookie = source.http.get_cookie("inspection_session")
    assert cookie is not None
    target.http.set_cookie("inspection_session", cookie.value)


# --- sessions end on the server --------------------------------------------------------------

def test_a_copied_cookie_is_worthless_after_sign_out(app, login_as):
    c = login_as("office")
    thief = Client(app)
    _copy_cookie(c, thief)
    assert thief.get("/api/v1/me").status_code == 200  # the copy works while signed in
    token = thief.api_token()
    assert c.post_form("/logout", {}, token_from="/").status_code == 302
    assert thief.get("/api/v1/me").status_code == 401
    r = thief.http.patch("/api/v1/me", json={"locale": "en"}, headers={"X-CSRFToken": token})
    assert r.status_code == 401
    assert thief.get("/").status_code == 302


def test_sign_out_ends_only_that_session(app, make_user):
    make_user("alice", "office")
    phone, desk = Client(app), Client(app)
    assert phone.login("alice").status_code == 302
    assert desk.login("alice").status_code == 302
    desk.post_form("/logout", {}, token_from="/")
    assert desk.get("/api/v1/me").status_code == 401
    assert phone.get("/api/v1/me").status_code == 200


def test_disabling_an_account_ends_its_sessions(app, make_user):
    uid = make_user("alice", "office")
    admin = make_user("root", "admin")
    c = Client(app)
    c.login("alice")
    assert c.get("/api/v1/me").status_code == 200
    with app.app_context():
        ops.set_active(ops.get_user(uid), False, actor=ops.get_user(admin))
        ops.set_active(ops.get_user(uid), True, actor=ops.get_user(admin))
    assert c.get("/api/v1/me").status_code == 401  # enabled again, but the old session is gone


def test_a_cookie_of_the_old_form_is_refused(app, make_user):
    """An identity without a session key (as cookies were before sessions had rows)."""
    uid = make_user("alice", "office")
    c = Client(app)
    with app.app_context():
        token = ops.get_user(uid).session_token
    with c.http.session_transaction() as session:
        session["_user_id"] = f"{uid}:{token}"
        session["_fresh"] = True
    assert c.get("/api/v1/me").status_code == 401


# --- the sign-in throttle ------------------------------------------------------------------

def test_the_login_page_says_when_to_retry(app, client, make_user):
    make_user("alice", "office")
    for _ in range(app.config["SETTINGS"].LOGIN_MAX_FAILURES_PER_ACCOUNT):
        client.login("alice", "wrong-password-1")
    r = client.login("alice")
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= app.config["SETTINGS"].LOGIN_FAILURE_WINDOW_SECONDS


def _race_wrong_passwords(application, n: int) -> list[int]:
    clients = [Client(application) for _ in range(n)]
    tokens = [c.token() for c in clients]
    barrier = threading.Barrier(n)
    statuses: list[int] = []

    def guess(c: Client, token: str) -> None:
        barrier.wait()
        r = c.http.post("/login", data={"username": "alice", "password": "wrong-password-1",
                                        "csrf_token": token},
                        environ_base={"REMOTE_ADDR": f"10.0.0.{len(token) % 200}"})
        statuses.append(r.status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_simultaneous_guesses_get_exactly_the_limit(app, app_config, make_user, backend):
    make_user("alice", "office")
    config = dict(app_config)
    if backend == "redis":
        import redis

        config["REDIS_URL"] = "redis://127.0.0.1:6379/15"
        redis.Redis.from_url(config["REDIS_URL"]).flushdb()
    application = create_app(config)
    limit = application.config["SETTINGS"].LOGIN_MAX_FAILURES_PER_ACCOUNT
    statuses = _race_wrong_passwords(application, 20)
    assert sorted(statuses) == [400] * limit + [429] * (20 - limit)
    if backend == "database":
        with app.app_context():
            assert db.session.scalar(select(func.count(LoginFailure.id))
                                     .where(LoginFailure.key == "user:alice")) == limit
    else:
        redis.Redis.from_url(config["REDIS_URL"]).flushdb()


def test_a_right_password_leaves_no_failure_behind(app, client, make_user):
    make_user("alice", "office")
    assert client.login("alice").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginFailure.id))) == 0


# --- numbers the database cannot hold ---------------------------------------------------------

def _int_rules(app):
    for rule in app.url_map.iter_rules():
        if any(type(conv).__name__ == "IdConverter" for conv in rule._converters.values()):
            yield rule


def test_every_route_with_an_id_answers_404_for_ids_beyond_the_database(app, login_as):
    c = login_as("admin", "office")
    rules = list(_int_rules(app))
    assert len(rules) > 40
    for rule in rules:
        for number in (HUGE, str(MAX_ID + 1)):
            path = rule.rule
            for name, conv in rule._converters.items():
                path = path.replace(f"<int:{name}>", number)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                r = c.http.open(path, method=method)
                assert r.status_code == 404, (method, path, r.status_code)
                if path.startswith("/api/"):
                    assert r.get_json()["error"]["status"] == 404


@pytest.mark.parametrize("path", ["/admin/users?page=" + HUGE, "/employers/?after=" + HUGE,
                                  "/employers/?before=" + HUGE, "/review/?page=" + HUGE,
                                  "/audit?before=" + HUGE, "/plans/?page=-1",
                                  "/review/?page=abc"])
def test_page_parameters_beyond_the_database_are_422(login_as, path):
    c = login_as("admin", "office", "approver")
    r = c.get(path)
    assert r.status_code == 422, (path, r.status_code)


# --- deeply nested JSON -------------------------------------------------------------------------

def test_json_depth_counts_brackets_outside_strings():
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert json_depth(b'"\\"[[["') == 0
    assert json_depth(b"[" * 1000 + b"]" * 1000) == 1000


@pytest.mark.parametrize("method, path", [("PATCH", "/api/v1/me"),
                                          ("POST", "/api/v1/employers"),
                                          ("PUT", "/api/v1/field/visits/1/record"),
                                          ("POST", "/api/v1/catalogue/items")])
def test_deeply_nested_json_is_400_before_parsing(login_as, method, path):
    c = login_as("admin", "office", "inspector")
    body = "[" * 1000 + "]" * 1000
    r = c.api(method, path, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert str(MAX_JSON_DEPTH) in r.get_json()["error"]["message"]


def test_nesting_up_to_the_limit_is_parsed(login_as):
    c = login_as("office")
    body = '{"locale": "en", "x": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    r = c.api("PATCH", "/api/v1/me", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422  # read, and refused for its unknown field: not a 400 nor a 500


# --- what caches may keep -----------------------------------------------------------------------

def test_json_answers_are_not_stored(login_as, client):
    c = login_as("office")
    assert c.get("/api/v1/me").headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"  # the 401 too
    assert c.get("/api/v1/nothing-here").headers["Cache-Control"] == "no-store"
