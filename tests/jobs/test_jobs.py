"""The job queue in-process (JOBS_MODE=held, the suite's setting): a job that completes with
its progress and file, a job that fails saying why and succeeds on retry, who may see what,
the generic submission, recovery of a dead worker's job, the day's reminders as a job, the
employers' XLSX export end to end and the number of statements of the list of jobs.

The real worker (a subprocess, embedded and Redis queues, killed mid-job) is in
test_worker.py; the record PDF kept at seal in test_record_pdf.py."""
from __future__ import annotations

import io
import re
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent))

from employers_support import codes, make_employer, regions  # noqa: E402,F401
from jobs_support import AREA, KIND, register_test_kind  # noqa: E402

from inspection.core import storage  # noqa: E402
from inspection.core.models import AuditEntry, User, utcnow  # noqa: E402
from inspection.extensions import db  # noqa: E402
from inspection.jobs import operations as ops  # noqa: E402
from inspection.jobs.models import Job  # noqa: E402

register_test_kind()


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _job(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def _submit(app, username: str | None = None, **params) -> int:
    with app.test_request_context():
        user = _user(username) if username else None
        return ops.submit(KIND, params, user).id


def _run_pending(app) -> int:
    with app.test_request_context():
        return ops.run_pending()


def test_a_job_completes_with_its_progress_and_file(app, login_as):
    office = login_as("office", username="clerk")
    job_id = _submit(app, "clerk", steps=4)
    state = office.api("GET", f"/api/v1/jobs/{job_id}").get_json()
    assert state["status"] == "queued" and state["download_url"] is None
    page = office.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert '<progress id="job-progress"' in page and "js/job-progress.js" in page
    assert _run_pending(app) == 1
    state = office.api("GET", f"/api/v1/jobs/{job_id}").get_json()
    assert state["status"] == "done" and state["attempts"] == 1
    assert state["progress"] == {"done": 4, "total": 4, "message": "", "percent": 100}
    assert state["download_url"] == f"/jobs/{job_id}/download"
    response = office.get(state["download_url"])
    assert response.status_code == 200
    assert response.data.decode().splitlines() == [f"step {n} of 4" for n in range(1, 5)]
    assert 'filename=steps.txt' in response.headers["Content-Disposition"]
    page = office.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'id="job-download"' in page and "js/job-progress.js" not in page
    # A done job is not run again, and its scratch folder is gone.
    with app.test_request_context():
        assert ops.run(job_id) is None
        assert not (storage.root() / ".jobs-work" / str(job_id)).exists()
        actions = list(db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.object_type == "job", AuditEntry.object_id == str(job_id))
            .order_by(AuditEntry.seq)))
    assert actions == ["job.submit", "job.done"]


def test_a_failing_job_says_why_and_succeeds_on_retry(app, login_as, tmp_path):
    office = login_as("office", username="clerk")
    flag = tmp_path / "fail"
    flag.write_text("disk full")
    job_id = _submit(app, "clerk", steps=2, fail_if=str(flag))
    _run_pending(app)
    state = office.api("GET", f"/api/v1/jobs/{job_id}").get_json()
    assert state["status"] == "failed"
    assert state["error"] == "ValueError: the test asked this job to fail (disk full)"
    page = office.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'id="job-error"' in page and "disk full" in page
    assert re.search(rf'action="/jobs/{job_id}/retry"', page)
    assert office.get(f"/jobs/{job_id}/download").status_code == 404
    # Retrying a job that has not failed is refused; the failed one starts again.
    flag.unlink()
    response = office.post_form(f"/jobs/{job_id}/retry", {}, token_from=f"/jobs/{job_id}")
    assert response.status_code == 302
    assert _job(app, job_id).status == "queued"
    assert office.api("POST", f"/api/v1/jobs/{job_id}/retry").status_code == 409
    _run_pending(app)
    state = office.api("GET", f"/api/v1/jobs/{job_id}").get_json()
    assert state["status"] == "done" and state["error"] is None
    assert office.get(state["download_url"]).data.startswith(b"step 1 of 2")


def test_another_user_neither_sees_nor_downloads_my_job(app, login_as):
    mine = login_as("inspector", username="insp_me")
    other = login_as("inspector", username="insp_other")
    office = login_as("office", username="clerk")
    job_id = _submit(app, "insp_me", steps=1)
    _run_pending(app)
    assert mine.get(f"/jobs/{job_id}").status_code == 200
    assert mine.get(f"/jobs/{job_id}/download").status_code == 200
    for path in (f"/jobs/{job_id}", f"/jobs/{job_id}/download", f"/api/v1/jobs/{job_id}"):
        assert other.get(path).status_code == 404, path
    assert other.api("POST", f"/api/v1/jobs/{job_id}/retry").status_code == 404
    assert f"/jobs/{job_id}" not in other.get("/jobs/?all=1").get_data(as_text=True)
    assert f"/jobs/{job_id}" in mine.get("/jobs/").get_data(as_text=True)
    # The office sees everyone's jobs (not in "my jobs").
    assert office.get(f"/jobs/{job_id}").status_code == 200
    assert f"/jobs/{job_id}\"" not in office.get("/jobs/").get_data(as_text=True)
    assert f"/jobs/{job_id}\"" in office.get("/jobs/?all=1").get_data(as_text=True)
    assert office.get(f"/jobs/{job_id}/download").status_code == 200


def test_the_generic_submission_checks_the_kind_and_the_role(app, login_as):
    office = login_as("office", username="clerk")
    inspector = login_as("inspector", username="insp")
    response = office.api("POST", "/api/v1/jobs", json={"kind": KIND, "params": {"steps": 2}})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "queued"
    assert inspector.api("POST", "/api/v1/jobs",
                         json={"kind": KIND, "params": {}}).status_code == 403
    # A kind without roles (only code submits it), an unknown one, nested params: refused.
    for body in ({"kind": "record_pdf", "params": {"revision_id": 1}},
                 {"kind": "no_such_kind"}, {"kind": KIND, "params": {"x": {"y": 1}}},
                 {"kind": KIND, "params": {"Bad-Name": 1}}):
        assert office.api("POST", "/api/v1/jobs", json=body).status_code in (403, 422), body
    response = office.post_form("/jobs/", {"kind": KIND, "param.steps": "3"},
                                token_from="/jobs/")
    assert response.status_code == 302 and re.match(r".*/jobs/\d+$", response.headers["Location"])
    _run_pending(app)
    with app.app_context():
        assert db.session.scalars(select(Job.status)).all() == ["done", "done"]


def test_recover_puts_back_a_dead_workers_job_and_gives_up_after_three(app):
    with app.test_request_context():
        first = ops.submit(KIND, {"steps": 1}, None).id
        second = ops.submit(KIND, {"steps": 1}, None).id
        old = utcnow() - timedelta(seconds=ops.STALE_SECONDS + 5)
        db.session.execute(update(Job).where(Job.id == first).values(
            status="running", attempts=1, heartbeat_at=old, worker="elsewhere:1"))
        db.session.execute(update(Job).where(Job.id == second).values(
            status="running", attempts=ops.MAX_ATTEMPTS, heartbeat_at=old,
            worker="elsewhere:2"))
        db.session.commit()
        assert ops.recover() == {"requeued": 1, "given_up": 1, "enqueued_again": 0}
        assert db.session.get(Job, first).status == "queued"
        gone = db.session.get(Job, second)
        assert gone.status == "failed" and str(ops.MAX_ATTEMPTS) in gone.error
        # A fresh heartbeat is a live worker: left alone.
        db.session.execute(update(Job).where(Job.id == first).values(
            status="running", attempts=1, heartbeat_at=utcnow(), worker="elsewhere:1"))
        db.session.commit()
        assert ops.recover()["requeued"] == 0
        # A worker of this host whose process is gone: put back at once.
        db.session.execute(update(Job).where(Job.id == first).values(worker=f"{ops.worker_name().rpartition(':')[0]}:999999999"))
        db.session.commit()
        assert ops.recover()["requeued"] == 1
        assert ops.run_pending() == 1
        assert db.session.get(Job, first).attempts == 2


def test_the_days_reminders_run_once_a_day_as_a_job(app, make_user):
    make_user("clerk", "office")
    with app.test_request_context():
        job = ops.daily()
        assert ops.daily().id == job.id  # a second worker's periodic task: the same job
        assert job.key.startswith("daily_reminders:")
        assert ops.run_pending() == 1
        assert db.session.get(Job, job.id).status == "done"


def test_the_employers_export_runs_as_a_job(app, regions, login_as):  # noqa: F811
    cs = codes(5)
    for i, code in enumerate(cs):
        make_employer(app, code, risk_grade="D" if i in (1, 3) else "A", name=f"导出单位{i}")
    office = login_as("office", username="clerk")
    page = office.get("/employers/export.xlsx?risk_grade=D")
    assert page.status_code == 200 and "2" in page.get_data(as_text=True)
    html = office.get("/employers/?risk_grade=D").get_data(as_text=True)
    assert 'action="/employers/export.xlsx"' in html and 'name="risk_grade" value="D"' in html
    response = office.post_form("/employers/export.xlsx", {"risk_grade": "D"},
                                token_from="/employers/")
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    _run_pending(app)
    state = office.api("GET", f"/api/v1/jobs/{job_id}").get_json()
    assert state["status"] == "done" and state["progress"]["total"] == 2
    data = office.get(state["download_url"]).data
    rows = list(load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
                .iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [cs[1], cs[3]]
    assert rows[1][1] == "导出单位1" and rows[0][0] == "统一社会信用代码"
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.action).where(
            AuditEntry.action == "employer.export")) == "employer.export"
    # Nobody else's: a supervisor (who may export too) does not see the clerk's file.
    assert login_as("supervisor").get(state["download_url"]).status_code == 404


def _statements(app, client, path: str) -> int:
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    client.get(path)  # warm-up (session, user)
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


@pytest.mark.parametrize("path", ["/jobs/", "/jobs/?all=1"])
def test_the_list_of_jobs_costs_the_same_statements_at_two_sizes(app, login_as, path):
    office = login_as("office", username="clerk")
    _submit(app, "clerk", steps=1)
    small = _statements(app, office, path)
    for n in range(12):
        _submit(app, "clerk" if n % 2 else None, steps=1)
    _run_pending(app)
    assert _statements(app, office, path) == small
