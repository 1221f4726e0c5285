"""The field app when the server dies in the middle of an upload (issue 5): nothing lost,
nothing doubled. And a replay of uploads the server already holds (a receipt lost on the way)
creates nothing.

This module runs its own server (one gunicorn, its own SQLite file and file store) so that it
can kill it with SIGKILL mid-upload and start it again on the same port: same origin, so the
phone keeps its service worker, IndexedDB and cookie.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from test_field_offline import OFFLINE_ERRORS, file, jpeg, open_field, wait_all_sent

ROOT = Path(__file__).resolve().parents[2]
SECRET = "field-killed-test-secret-key-not-for-production-0123456789"


class Server:
    """gunicorn in its own process group, so a kill takes the workers with it."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("INSPECTION_") and k not in ("DATABASE_URL", "REDIS_URL",
                                                                "SECRET_KEY")}
        (tmp / "files").mkdir()
        env.update({"DATABASE_URL": f"sqlite:///{tmp / 'killed.sqlite3'}", "SECRET_KEY": SECRET,
                    "INSPECTION_DEMO_MODE": "1", "INSPECTION_FILE_STORE": str(tmp / "files"),
                    "PYTHONUNBUFFERED": "1"})
        self.env = env
        self.process: subprocess.Popen | None = None
        self.log = tmp / "gunicorn.log"

    def flask(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                       env=self.env, check=True, capture_output=True, timeout=180)

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{self.port}",
                 "--no-control-socket", "--access-logfile", "-", "app:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        pytest.fail("the server did not start:\n" + self.log.read_text(errors="replace")[-3000:])

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, in-flight requests die with it."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("killed_server"))
    server.flask("init-db")
    server.flask("seed-demo")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def phone_page(browser, watch):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch.attach(page)
    yield page
    context.close()
    errors = watch.unexpected()
    assert not errors, "errors in the browser console:\n" + "\n".join(errors)


def _server_state(page, base, number):
    return page.request.get(f"{base}/api/v1/field/visits/{number}/record").json()


def test_server_killed_mid_upload_loses_and_doubles_nothing(own_server, phone_page, login, watch):
    # the dead server makes fetches fail: Chromium logs those as console errors
    watch.allow(OFFLINE_ERRORS + r"|ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE"
                r"|ERR_CONTENT_LENGTH_MISMATCH|ERR_INCOMPLETE_CHUNKED_ENCODING")
    page, base, context = phone_page, own_server.base, phone_page.context
    login(page, base, "leader")
    open_field(page, base)
    number = page.locator("article.visit").first.get_attribute("data-visit")
    card = page.locator(f'article.visit[data-visit="{number}"]')
    card.get_by_role("button", name="下载离线包").click()
    card.get_by_role("link", name="开始检查").click()
    page.wait_for_selector("a.item-link")

    # Work offline: an answer with four photos, all queued.
    context.set_offline(True)
    page.locator("a.item-link").first.click()
    question = page.locator("fieldset.question").first
    code = question.get_attribute("data-question")
    question.locator("label.choice.non_compliant").click()
    page.fill(f"#note-{code}", "现场未公示最低工资标准。")
    photos = [file(f"p{i}.jpg", jpeg((30 * i, 90, 200 - 30 * i), (3000, 2250))) for i in range(4)]
    page.set_input_files(f"#gallery-{code}", photos)
    page.wait_for_function(
        "(q) => document.querySelectorAll(`fieldset[data-question='${q}'] figure.thumb`).length === 4",
        arg=code, timeout=30_000)

    # Online again, and the server dies while the second photo is on its way. The route holds
    # each photo request until this handler has run, so the kill is not a race with the
    # browser: the first photo went through, the second leaves and the server is killed at
    # once (it may or may not have stored it), the later ones find no server.
    uploads: list[str] = []

    def on_route(route):
        uploads.append(route.request.url)
        route.continue_()
        if len(uploads) == 2:
            own_server.kill()

    page.route("**/api/v1/field/photos/*", on_route)
    context.set_offline(False)
    page.get_by_role("button", name="同步").click()
    deadline = time.monotonic() + 20
    while own_server.process.poll() is None and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert own_server.process.poll() is not None, "no photo was uploaded: the server was not killed"
    page.wait_for_timeout(500)
    page.goto(f"{base}/field/#/outbox")  # served by the worker: the server is down
    page.wait_for_selector("p.summary")
    statuses = page.eval_on_selector_all("li.entry", "els => els.map(e => e.dataset.status)")
    assert "waiting" in statuses and "sent" in statuses, statuses  # stopped half way

    page.unroute("**/api/v1/field/photos/*")
    own_server.start()
    page.get_by_role("button", name="同步").click()
    wait_all_sent(page, timeout=30_000)

    state = _server_state(page, base, number)
    device = page.evaluate("""async (number) => {
        const db = await new Promise((ok) => { const r = indexedDB.open('field-app'); r.onsuccess = () => ok(r.result); });
        const all = (store) => new Promise((ok) => { const q = db.transaction(store).objectStore(store).getAll(); q.onsuccess = () => ok(q.result); });
        return { outbox: (await all('outbox')).filter((e) => e.visit === number),
                 photos: (await all('photos')).filter((p) => p.visit === number).map((p) => p.uuid) };
    }""", number)
    records = [e for e in device["outbox"] if e["kind"] == "record"]
    # Every receipt is given after its commit, so the server is complete now; a few polls
    # only cover a reader that has not seen the last commit yet. The message says what the
    # server and the phone hold, should it ever differ (seen once in CI, not reproduced).
    for _ in range(20):
        if state["complete"]:
            break
        page.wait_for_timeout(500)
        state = _server_state(page, base, number)
    assert state["complete"] is True, {
        "server": {k: state.get(k) for k in ("revision", "revisions", "photos_listed",
                                            "photos_received", "missing_photos",
                                            "missing_signatures")},
        "device": [(e["kind"], e["key"], e["status"], e.get("maybe_sent"))
                   for e in device["outbox"]]}
    assert sorted(state["photos_received"]) == sorted(device["photos"])  # all four, once each
    assert len(state["photos_received"]) == 4
    assert state["revisions"] == len(records)

    # A receipt lost on the way: the phone sends everything again; the server creates nothing.
    page.evaluate("""async () => {
        const db = await new Promise((ok) => { const r = indexedDB.open('field-app'); r.onsuccess = () => ok(r.result); });
        const tx = db.transaction('outbox', 'readwrite');
        const store = tx.objectStore('outbox');
        await new Promise((ok) => { store.getAll().onsuccess = (e) => {
            for (const entry of e.target.result) if (entry.kind === 'record') store.put({ ...entry, status: 'waiting', receipt: null });
            ok(); }; });
        await new Promise((ok) => { tx.oncomplete = ok; });
    }""")
    page.reload()
    page.get_by_role("button", name="同步").click()
    wait_all_sent(page)
    again = _server_state(page, base, number)
    assert again["revisions"] == state["revisions"]
    assert again["revision_uuid"] == state["revision_uuid"]
    assert sorted(again["photos_received"]) == sorted(state["photos_received"])
