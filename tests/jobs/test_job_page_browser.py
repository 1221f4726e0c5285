"""The job's progress page in a real browser (desktop size): the bar the server drew, moved
by static/js/job-progress.js as the job's progress changes (under the app's CSP, which
forbids inline scripts), and the download link once the job is done. A screenshot is kept
(JOBS_SCREENSHOT_DIR, default the test's tmp folder)."""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent))

from jobs_support import KIND, register_test_kind  # noqa: E402

from helpers import PASSWORD  # noqa: E402
from inspection.extensions import db  # noqa: E402
from inspection.jobs import operations as ops  # noqa: E402
from inspection.jobs.models import Job  # noqa: E402

register_test_kind()
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def server(app):
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


def test_the_progress_page_moves_and_offers_the_file(app, make_user, server, tmp_path):
    from playwright.sync_api import sync_playwright

    make_user("clerk", "office")
    with app.test_request_context():
        from sqlalchemy import select
        from inspection.core.models import User
        clerk = db.session.scalar(select(User).where(User.username == "clerk"))
        job_id = ops.submit(KIND, {"steps": 2000}, clerk).id
        token = ops._claim(job_id)
        engine = db.engine
        ops._write(engine, job_id, token, progress_done=800, progress_total=2000,
                   progress_message="step 800")
    shots = Path(os.environ.get("JOBS_SCREENSHOT_DIR") or tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(f"{server}/login")
        page.fill("input[name=username]", "clerk")
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.press("input[name=password]", "Enter")
        page.goto(f"{server}/jobs/{job_id}")
        assert page.eval_on_selector("#job-progress", "el => el.value") == 40
        assert "800" in page.inner_text("#job-count")
        page.screenshot(path=str(shots / "job-progress.png"), full_page=True)
        with app.app_context():
            ops._write(db.engine, job_id, token, progress_done=1500, progress_total=2000)
        for _tick in range(100):  # the page asks every second
            if page.eval_on_selector("#job-progress", "el => el.value") == 75:
                break
            page.wait_for_timeout(100)
        assert page.eval_on_selector("#job-progress", "el => el.value") == 75
        assert "1,500" in page.inner_text("#job-count")
        with app.test_request_context():
            from inspection.core import storage
            from inspection.jobs.registry import JobFile
            sha = storage.put("test_jobs", b"step 1 of 2000\n")
            ops._finish(job_id, token, made=JobFile("test_jobs", sha, "steps.txt", "text/plain"))
        page.wait_for_selector("#job-download", timeout=10000)  # the page reloaded itself
        assert page.eval_on_selector("#job-progress", "el => el.value") == 100
        page.screenshot(path=str(shots / "job-done.png"), full_page=True)
        browser.close()
    assert errors == []
    with app.app_context():
        assert db.session.get(Job, job_id).status == "done"
