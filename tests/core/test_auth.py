"""Sign-in, throttling, sessions, passwords and account administration."""
import pytest
from sqlalchemy import func, select

from inspection import create_app
from inspection.core import operations as ops
from inspection.core.models import AuditEntry, LoginFailure, User
from inspection.core.passwords import DEMO_PASSWORD, hash_password
from inspection.extensions import db

from helpers import PASSWORD, Client


def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_login_success_and_audit(app, client, make_user):
    make_user("alice", "office")
    r = client.login("alice")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert "Alice" in client.get("/").get_data(as_text=True)
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions[-1] == "login"


@pytest.mark.parametrize("username, password", [("alice", "wrong-password-1"),
                                                ("nobody", PASSWORD)])
def test_wrong_password_and_unknown_user_get_the_same_answer(client, make_user, username,
                                                            password):
    make_user("alice", "office")
    r = client.login(username, password)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "用户名或密码错误" in html or "Wrong user name or password" in html
    assert client.get("/").status_code == 302  # still signed out


def test_disabled_user_is_refused_even_with_the_right_password(app, client, make_user):
    uid = make_user("alice", "office")
    admin = make_user("root", "admin")
    with app.app_context():
        ops.set_active(ops.get_user(uid), False, actor=ops.get_user(admin))
    r = client.login("alice")
    assert r.status_code == 400
    assert client.get("/").status_code == 302


def test_account_throttle_says_when_to_try_again(app, client, make_user):
    make_user("alice", "office")
    limit = app.config["SETTINGS"].LOGIN_MAX_FAILURES_PER_ACCOUNT
    for _ in range(limit):
        assert client.login("alice", "wrong-password-1").status_code == 400
    r = client.login("alice")  # the right password, but the account is throttled
    assert r.status_code == 429
    html = r.get_data(as_text=True)
    assert "15" in html and ("分钟" in html or "minutes" in html)
    assert client.get("/").status_code == 302
    # Another account from another address is not affected.
    make_user("bob", "office")
    other = Client(app)
    assert other.http.post("/login", data={"username": "bob", "password": PASSWORD,
                                           "csrf_token": other.token()},
                           environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 302


def test_address_throttle_across_accounts(app, client, make_user):
    limit = app.config["SETTINGS"].LOGIN_MAX_FAILURES_PER_ADDRESS
    make_user("alice", "office")
    for i in range(limit):
        client.login(f"guess{i}", "wrong-password-1")
    assert client.login("alice").status_code == 429


def test_throttle_is_shared_between_workers(app, app_config, client, make_user):
    """A second app instance on the same database (another gunicorn worker) sees the failures."""
    make_user("alice", "office")
    limit = app.config["SETTINGS"].LOGIN_MAX_FAILURES_PER_ACCOUNT
    for _ in range(limit):
        client.login("alice", "wrong-password-1")
    worker2 = Client(create_app(app_config))
    assert worker2.login("alice").status_code == 429


def test_redis_throttle(app_config, make_user):
    import redis

    redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()
    worker1 = create_app(dict(app_config, REDIS_URL="redis://127.0.0.1:6379/15"))
    worker2 = create_app(dict(app_config, REDIS_URL="redis://127.0.0.1:6379/15"))
    make_user("alice", "office")
    c1 = Client(worker1)
    for _ in range(worker1.config["SETTINGS"].LOGIN_MAX_FAILURES_PER_ACCOUNT):
        c1.login("alice", "wrong-password-1")
    assert Client(worker2).login("alice").status_code == 429
    # Failures went to Redis, not the database.
    assert _count(worker1, LoginFailure) == 0
    redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()


def test_success_clears_the_account_counter(app, client, make_user):
    make_user("alice", "office")
    for _ in range(3):
        client.login("alice", "wrong-password-1")
    assert client.login("alice").status_code == 302
    assert _count(app, LoginFailure, LoginFailure.key == "user:alice") == 0


def test_session_cookie_flags(app, make_user):
    make_user("alice", "office")
    c = Client(app)
    r = c.login("alice")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = app.test_client()
    html = secure.get("/login", base_url="https://localhost").get_data(as_text=True)
    from helpers import csrf_from
    r = secure.post("/login", base_url="https://localhost",
                    data={"username": "alice", "password": PASSWORD,
                          "csrf_token": csrf_from(html)})
    assert "Secure" in r.headers["Set-Cookie"]


def test_session_expires_after_inactivity(app, login_as):
    c = login_as("office")
    assert c.get("/").status_code == 200
    idle = app.config["SETTINGS"].SESSION_IDLE_MINUTES * 60
    with c.http.session_transaction() as session:
        session["seen"] -= idle + 1
    r = c.get("/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    page = c.get("/login").get_data(as_text=True)
    assert "inactivity" in page or "长时间未操作" in page
    assert c.get("/").status_code == 302
    api = c.get("/api/v1/me")
    assert api.status_code == 401


def test_change_password(app, client, make_user):
    make_user("alice", "office")
    client.login("alice")
    other = Client(app)
    other.login("alice")
    url = "/account/password"
    bad = client.post_form(url, {"current_password": "nope-nope-nope", "new_password": "x",
                                 "repeat_password": "x"})
    assert bad.status_code == 422
    short = client.post_form(url, {"current_password": PASSWORD, "new_password": "short",
                                   "repeat_password": "short"})
    assert short.status_code == 422
    ok = client.post_form(url, {"current_password": PASSWORD,
                                "new_password": "A-much-better-one-9",
                                "repeat_password": "A-much-better-one-9"})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200          # this session goes on
    assert other.get("/").status_code == 302           # the other one ended
    assert Client(app).login("alice", "A-much-better-one-9").status_code == 302


def test_reset_forces_a_new_password(app, make_user, login_as):
    uid = make_user("alice", "office")
    admin = login_as("admin")
    r = admin.post_form(f"/admin/users/{uid}/password", {"password": ""},
                        token_from=f"/admin/users/{uid}")
    assert r.status_code == 302
    page = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    import re
    temp = re.search(r"alice[^:：]*[:：]\s*([A-Za-z0-9]{5}-[A-Za-z0-9]{5}-[A-Za-z0-9]{5})", page)
    assert temp, page
    c = Client(app)
    assert c.login("alice", temp.group(1)).status_code == 302
    r = c.get("/")
    assert r.status_code == 302 and r.headers["Location"] == "/account/password"
    assert c.get("/api/v1/departments").status_code == 403


def test_demo_password_refused_outside_demo_mode(app, app_config, department):
    with app.app_context():
        dept = ops.get_department(department)
        with pytest.raises(Exception, match="demo|演示"):
            ops.create_user("demo1", "Demo", dept, ["office"], DEMO_PASSWORD)
        # An account that still has it (seeded in demo mode) cannot sign in outside demo mode.
        user = User(username="demo2", display_name="Demo", department=dept,
                    password_hash=hash_password(DEMO_PASSWORD))
        from inspection.core.models import UserRole
        user.role_rows = [UserRole(role="office")]
        db.session.add(user)
        db.session.commit()
    r = Client(app).login("demo2", DEMO_PASSWORD)
    assert r.status_code == 400 and ("demo" in r.get_data(as_text=True).lower()
                                     or "演示" in r.get_data(as_text=True))
    demo_app = create_app(dict(app_config, DEMO_MODE=True))
    assert Client(demo_app).login("demo2", DEMO_PASSWORD).status_code == 302


def test_admin_creates_edits_and_disables_users(app, login_as, department):
    admin = login_as("admin")
    form = {"username": "bob", "display_name": "王鲍勃", "department": department,
            "roles": ["inspector", "office"], "password": "Bobs-password-77"}
    r = admin.post_form("/admin/users/new", form)
    assert r.status_code == 302
    dup = admin.post_form("/admin/users/new", form)
    assert dup.status_code == 409
    with app.app_context():
        bob = ops.find_user("bob")
        assert bob.roles == {"inspector", "office"} and bob.must_change_password
        bob_id = bob.id
    bob_client = Client(app)
    bob_client.login("bob", "Bobs-password-77")
    r = admin.post_form(f"/admin/users/{bob_id}", {"display_name": "王鲍勃",
                                                   "department": department,
                                                   "roles": ["inspector"]})
    assert r.status_code == 302
    r = admin.post_form(f"/admin/users/{bob_id}/active", {}, token_from=f"/admin/users/{bob_id}")
    assert r.status_code == 302
    with app.app_context():
        bob = ops.get_user(bob_id)
        assert not bob.active and bob.roles == {"inspector"}
        actions = db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.object_type == "user", AuditEntry.object_id == str(bob_id))
            .order_by(AuditEntry.seq)).all()
    assert actions[:1] == ["user.create"] and "user.update" in actions and "user.disable" in actions
    assert bob_client.get("/").status_code == 302  # disabled: the open session ended


def test_admin_cannot_lock_themselves_out(app, login_as):
    admin = login_as("admin", username="root")
    with app.app_context():
        uid = ops.find_user("root").id
    admin.post_form(f"/admin/users/{uid}/active", {}, token_from=f"/admin/users/{uid}")
    with app.app_context():
        assert ops.get_user(uid).active


def test_invalid_user_form_changes_nothing(app, login_as, department):
    admin = login_as("admin")
    before = _count(app, User)
    r = admin.post_form("/admin/users/new", {"username": "has space", "display_name": "x",
                                             "department": department, "roles": ["office"]})
    assert r.status_code == 422
    r = admin.post_form("/admin/users/new", {"username": "carol", "display_name": "x",
                                             "department": department, "roles": []})
    assert r.status_code == 400
    assert _count(app, User) == before


def test_cli_creates_the_first_admin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "chief", "--role", "admin",
                                 "--department", "人力资源", "--password", "Chief-pass-2026"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        chief = ops.find_user("chief")
        assert chief.roles == {"admin"} and chief.department.name == "人力资源"
    again = runner.invoke(args=["users", "create", "chief", "--role", "admin",
                                "--department", "人力资源", "--password", "Chief-pass-2026"])
    assert again.exit_code != 0 and "chief" in again.output


def test_user_edit_form_shows_the_users_department(app, login_as, make_user):
    with app.app_context():
        other = ops.create_department("社会保险", "SHBX")
        other_id = other.id
    uid = make_user("dora", "inspector", department_id=other_id)
    admin = login_as("admin")
    html = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    import re
    selected = re.search(r'<option selected value="(\d+)">|<option value="(\d+)" selected>', html)
    assert selected and int(selected.group(1) or selected.group(2)) == other_id


def test_production_hashes_with_full_strength_argon2(tmp_path):
    """The suite hashes with Argon2's cheapest profile (conftest); an app built without that
    setting uses the library's recommended parameters, and the cheap profile is refused
    outside TESTING."""
    from argon2 import extract_parameters, profiles

    from inspection.config import ConfigError, load
    from inspection.core import passwords

    production = load(tmp_path, {"SECRET_KEY": "x" * 32}, environ={})
    assert production.PASSWORD_PROFILE == "default"
    stored = passwords.HASHERS[production.PASSWORD_PROFILE].hash("Correct-horse-42")
    assert extract_parameters(stored) == profiles.RFC_9106_LOW_MEMORY
    with pytest.raises(ConfigError, match="test suite only"):
        load(tmp_path, {"SECRET_KEY": "x" * 32, "PASSWORD_PROFILE": "cheapest"}, environ={})


def test_the_suite_hashes_cheaply_and_verifies_either(app):
    from argon2 import extract_parameters, profiles

    from inspection.core import passwords

    with app.app_context():
        cheap = passwords.hash_password("Correct-horse-42")
        assert extract_parameters(cheap) == profiles.CHEAPEST
        strong = passwords.HASHERS["default"].hash("Correct-horse-42")
        assert passwords.verify_password(strong, "Correct-horse-42")
