"""Shared fixtures: a real database (SQLite file, or TEST_DATABASE_URL), migrated once per run
with the project's own Alembic migrations and emptied after every test."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import hypothesis
import pytest
from sqlalchemy import create_engine, make_url, text

# The support modules of each area (team_support, field_support, seal_support, ...) import
# one another: every area's folder is importable, whichever tests were collected first.
for _area in ("draws", "directory", "fieldwork", "review"):
    _path = str(Path(__file__).resolve().parent / _area)
    if _path not in sys.path:
        sys.path.insert(0, _path)

from inspection import create_app  # noqa: E402
from inspection.core import operations as ops  # noqa: E402
from inspection.extensions import db  # noqa: E402

from helpers import CLOCK, PASSWORD, Client, empty_database  # noqa: E402

# Draws wait for their public sources on a clock the tests move (helpers.DrawClock).
CLOCK.install()

# Property tests: the same examples on every run (a red run can be repeated), and no failure
# because the machine is busy: generating examples may be slow under load (CI runs two
# workers), which says nothing about the code under test.
hypothesis.settings.register_profile(
    "suite", derandomize=True, deadline=None, database=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow])
hypothesis.settings.load_profile("suite")

SECRET = "test-secret-key-not-for-production-0123456789"


def _driver(url: str) -> str:
    return (url.replace("postgresql://", "postgresql+psycopg://", 1)
            if url.startswith("postgresql://") else url)


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker has a database of its own: TEST_DATABASE_URL's for the
    first worker, ``<name>_gw1`` ... (made when missing) for the others."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if worker == "gw0":
        return url
    parsed = make_url(url)
    mine = parsed.set(database=f"{parsed.database}_{worker}")
    engine = create_engine(_driver(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                        {"name": mine.database}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{mine.database}"'))
    engine.dispose()
    return mine.render_as_string(hide_password=False)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    url = _worker_database(url)
    # A clean schema for every run. Commits of the tests' database do not wait for the disk
    # (synchronous_commit off: what a crash of the server could lose is a test run's data):
    # the suite commits thousands of times.
    engine = create_engine(_driver(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
        conn.execute(text(f'ALTER DATABASE "{make_url(url).database}" '
                          "SET synchronous_commit TO off"))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def app_config(database_url, tmp_path_factory) -> dict:
    # Argon2's cheapest profile: tests only (tests/core/test_auth.py checks production's).
    # The public portal's limit against scraping is off: a test that walks many public pages
    # must not meet it by accident; tests/portal/test_portal.py turns it on to check it.
    return {"DATABASE_URL": database_url, "SECRET_KEY": SECRET, "TESTING": True,
            "DEMO_MODE": False, "FILE_STORE": str(tmp_path_factory.mktemp("files")),
            "PASSWORD_PROFILE": "cheapest", "PUBLIC_REQUESTS_PER_MINUTE": 0,
            "JOBS_MODE": "held"}


@pytest.fixture(scope="session")
def app(app_config, project_root):
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from flask_migrate import upgrade

    # Compile the catalogues so that a bare `pytest` sees the same pages as `make test`.
    # Written aside and renamed: parallel workers (pytest-xdist) never read half a catalogue.
    for po in (project_root / "translations").glob("*/LC_MESSAGES/messages.po"):
        aside = po.with_suffix(f".mo.{os.getpid()}")
        with po.open("rb") as src, aside.open("wb") as dst:
            write_mo(dst, read_po(src))
        os.replace(aside, po.with_suffix(".mo"))

    application = create_app(app_config)
    with application.app_context():
        upgrade()
    return application


@pytest.fixture(autouse=True)
def _clean(request):
    yield
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        with app.app_context():
            db.session.remove()
            empty_database()


@pytest.fixture(autouse=True, scope="module")
def _same_pdf_once(request):
    """Within a module, WeasyPrint lays out a given document once: the same HTML rendered
    again (e.g. the same record downloaded by four people) gives the PDF already made. The
    browser tests keep the real renderer."""
    if "browser" in request.path.parts:
        yield
        return
    from inspection.fieldwork import documents

    real = documents._weasyprint
    made: dict = {}

    def weasyprint():
        module = real()

        class HTML:
            def __init__(self, string, **kw):
                self.string, self.kw = string, kw

            def write_pdf(self, stylesheets=None, **kw):
                key = (self.string, self.kw.get("base_url"), repr(kw),
                       documents.CSS_FILE.read_text(encoding="utf-8"))
                if key not in made:
                    made[key] = module.HTML(string=self.string, **self.kw).write_pdf(
                        stylesheets=stylesheets, **kw)
                return made[key]

        return SimpleNamespace(CSS=module.CSS, HTML=HTML)

    documents._weasyprint = weasyprint
    try:
        yield
    finally:
        documents._weasyprint = real


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield
        db.session.remove()


@pytest.fixture
def department(app):
    with app.app_context():
        dept = ops.create_department("劳动保障监察", "LSJC")
        return dept.id


@pytest.fixture
def make_user(app, department):
    """make_user('alice', 'office', ...) -> user id, with the password PASSWORD."""
    def make(username: str, *roles: str, department_id: int | None = None) -> int:
        with app.app_context():
            dept = ops.get_department(department_id or department)
            return ops.create_user(username, username.title(), dept, roles or ("office",),
                                   PASSWORD).id
    return make


@pytest.fixture
def client(app):
    return Client(app)


@pytest.fixture
def login_as(app, make_user):
    """login_as('office') -> a Client signed in as a new user holding that role."""
    def login(*roles: str, username: str | None = None) -> Client:
        name = username or "u_" + "_".join(roles)
        make_user(name, *roles)
        c = Client(app)
        response = c.login(name)
        assert response.status_code == 302, response.get_data(as_text=True)
        return c
    return login


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent
