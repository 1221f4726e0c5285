"""Browser tests: the real app under gunicorn, driven by Playwright in Debian's Chromium.

One server per test session (``live_server``), seeded with the demo bureau, and one Chromium
(``browser``). Each test gets a fresh context and page from ``phone`` (390x844, touch, zh-CN) or
``desktop`` (1280x800). Any console error or uncaught page error fails the test in teardown;
CSP violations arrive as console errors, so an inline script or style fails the test too. A test
that provokes an expected error (a 401 answer, say) declares it with ``watch.allow(pattern)``.

Database choice: the server always runs on its own fresh SQLite file in a temporary folder, even
when TEST_DATABASE_URL names PostgreSQL. The unit-test fixtures drop the PostgreSQL schema at the
start of a run and truncate every table after each test; a server sharing that database would
lose its seeded users mid-run. The browser tests check pages, not the database engine; the
PostgreSQL path is covered by the unit tests that run on TEST_DATABASE_URL. The server does not
inherit DATABASE_URL, REDIS_URL, SECRET_KEY or any INSPECTION_* variable either: the login
throttle keeps its counts in that SQLite file, so no earlier run can lock a demo account.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from inspection.core.passwords import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
SECRET = "browser-test-secret-key-not-for-production-0123456789"
#: How long gunicorn may take to answer /healthz: it imports the whole app (WeasyPrint, lxml,
#: ...), which takes seconds on a quiet machine and much longer on a busy one.
STARTUP_TIMEOUT = 120.0
#: Copies of the screenshots, for people to look at after a run.
SHOTS = Path("/tmp/shots")

_server_log: Path | None = None
#: The live server's environment (its database), for tests that must prepare data
#: the demo bureau lacks (``server_python``).
_server_env: dict[str, str] | None = None


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: drives Chromium against the app served by gunicorn (tests/browser)")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test shows the end of the server's log beside its traceback."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and _server_log is not None and "live_server" in item.fixturenames:
        report.sections.append(("gunicorn log (last 60 lines)", _log_tail(_server_log, 60)))


def _log_tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make_env(tmp: Path) -> dict[str, str]:
    """The inherited environment minus anything that would point the server elsewhere."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("INSPECTION_") and k not in ("DATABASE_URL", "REDIS_URL",
                                                            "SECRET_KEY")}
    files = tmp / "files"
    files.mkdir()
    env.update({
        "DATABASE_URL": f"sqlite:///{tmp / 'browser.sqlite3'}",
        "SECRET_KEY": SECRET,
        "INSPECTION_DEMO_MODE": "1",
        "INSPECTION_FILE_STORE": str(files),
        # every test browses from 127.0.0.1: the portal's limit against scraping stays off
        "INSPECTION_PUBLIC_REQUESTS_PER_MINUTE": "0",
        "INSPECTION_JOBS_FILE": str(tmp / "jobs.sqlite3"),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _compile_catalogues() -> None:
    """What `make translations` does, so that a bare `pytest tests/browser` serves the same
    pages as `make test`."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as src, po.with_suffix(".mo").open("wb") as dst:
            write_mo(dst, read_po(src))


def _flask(env: dict[str, str], *args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    if result.returncode:
        pytest.fail(f"flask {' '.join(args)} failed ({result.returncode}):\n"
                    f"{result.stdout}\n{result.stderr}", pytrace=False)


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode} while starting:\n"
                        f"{_log_tail(log, 200)}", pytrace=False)
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    pytest.fail(f"/healthz did not answer 200 within {STARTUP_TIMEOUT:.0f}s ({last}):\n"
                f"{_log_tail(log, 200)}", pytrace=False)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, request):
    """The base URL of the app under gunicorn (2 workers) on a free port, demo bureau seeded,
    with the job queue's worker beside it (as `make run` starts them)."""
    global _server_log, _server_env
    tmp = tmp_path_factory.mktemp("live_server")
    env = _make_env(tmp)
    _server_env = env
    _compile_catalogues()
    _flask(env, "init-db")
    _flask(env, "seed-demo")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp / "gunicorn.log"
    _server_log = log
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
             "--access-logfile", "-", "--error-logfile", "-",
             # the default control socket is one path per user: never share it with `make run`
             "--no-control-socket", "app:app"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "jobs", "worker"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
    try:
        _wait_healthy(base, process, log)
        yield base
    finally:
        exited_early = process.poll() is not None
        for child in (process, worker):
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=10)
        if exited_early:  # a failed test shows the log in its own report (makereport above)
            sys.stderr.write(f"\n--- gunicorn log ({log}) ---\n{_log_tail(log, 200)}\n")
        _server_log = None


@pytest.fixture
def server_python(live_server):
    """server_python(code, *argv) -> stdout: run Python in the live server's environment (same
    database and file store; ``from app import app`` gives its app), e.g. to link a demo
    inspector to a new account."""
    def run(code: str, *args: str) -> str:
        result = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=_server_env,
                                capture_output=True, text=True, timeout=120)
        if result.returncode:
            pytest.fail(f"server_python failed ({result.returncode}):\n{result.stdout}\n"
                        f"{result.stderr}", pytrace=False)
        return result.stdout
    return run


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        # A missing browser is a failure, never a skip: `make test` installs it first.
        pytest.fail(f"{CHROMIUM} is missing: `make browsers` installs Debian's chromium",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


class ConsoleWatch:
    """Console errors and uncaught exceptions of the pages of one test."""

    def __init__(self):
        self.errors: list[str] = []
        self.allowed: list[re.Pattern] = []

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _on_console(self, message) -> None:
        if message.type == "error":
            location = message.location or {}
            where = location.get("url", "")
            self.errors.append(f"console.error: {message.text}" + (f" ({where})" if where else ""))

    def allow(self, pattern: str) -> None:
        """Expect errors matching ``pattern`` (a regular expression): they do not fail."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def watch():
    """The console watcher of this test's pages; see :class:`ConsoleWatch`."""
    return ConsoleWatch()


def _page(browser, watch, **context_options):
    context = browser.new_context(**context_options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    watch.attach(page)
    return context, page


def _finish(context, watch) -> None:
    context.close()
    errors = watch.unexpected()
    if errors:
        hint = ""
        if any("favicon.ico" in e for e in errors):
            # Chromium asks once per browser, so only the first test of a run sees this one.
            hint = ("\n(a page without <link rel=\"icon\" ...> makes Chromium fetch /favicon.ico;"
                    " link an icon in templates/base.html or serve /favicon.ico)")
        pytest.fail("errors in the browser console:\n  " + "\n  ".join(errors) + hint,
                    pytrace=False)


@pytest.fixture
def phone(browser, live_server, watch):
    """A page in a fresh phone-sized context (390x844, touch, Chinese)."""
    context, page = _page(browser, watch, viewport={"width": 390, "height": 844},
                          device_scale_factor=2, is_mobile=True, has_touch=True,
                          locale="zh-CN", timezone_id="Asia/Shanghai")
    yield page
    _finish(context, watch)


@pytest.fixture
def desktop(browser, live_server, watch):
    """A page in a fresh desktop-sized context (1280x800, Chinese)."""
    context, page = _page(browser, watch, viewport={"width": 1280, "height": 800},
                          locale="zh-CN", timezone_id="Asia/Shanghai")
    yield page
    _finish(context, watch)


@pytest.fixture
def shots(tmp_path):
    """save(page, name) -> path of a full-page PNG in this test's temp folder, copied to
    /tmp/shots/ for people to look at."""
    def save(page, name: str) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SHOTS / path.name)
        return path
    return save


def sign_in(page, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Open the sign-in page, fill the form and submit it (waits for the answer page)."""
    if not page.url.startswith(base + "/login"):
        page.goto(base + "/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    with page.expect_navigation():
        page.click('form:has(input[name="password"]) button[type="submit"]')


@pytest.fixture
def login():
    """login(page, base, username, password=DEMO_PASSWORD): sign in through the form."""
    return sign_in
