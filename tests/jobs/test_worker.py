"""The real worker: ``flask jobs worker`` as a subprocess against the test's database, in
both queue modes (embedded: a SQLite queue file; Redis on 127.0.0.1:6379 under a queue name
of this run's own, its keys removed afterwards). A job completes with its progress, a job
fails saying why and succeeds on retry, and a worker killed (SIGKILL) in the middle of a job
leaves no file: a new worker runs the job again and stores exactly one file."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from jobs_support import AREA, KIND, register_test_kind  # noqa: E402

from inspection import create_app  # noqa: E402
from inspection.core import storage  # noqa: E402
from inspection.extensions import db  # noqa: E402
from inspection.jobs import operations as ops  # noqa: E402
from inspection.jobs import queue  # noqa: E402
from inspection.jobs.models import Job  # noqa: E402

register_test_kind()
REDIS = "redis://127.0.0.1:6379/13"


def _redis_up() -> bool:
    try:
        import redis
        return bool(redis.Redis.from_url(REDIS, socket_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(params=["embedded", "redis"])
def queue_app(request, app, app_config, tmp_path):
    """An app of the test's database whose jobs go to a real queue, and a way to start
    workers for it (each stopped at the end)."""
    mode = request.param
    if mode == "redis" and not _redis_up():
        pytest.fail("no Redis on 127.0.0.1:6379: start it (.ci/run does)")
    settings = dict(app_config, JOBS_MODE=mode, JOBS_FILE=str(tmp_path / "jobs.sqlite3"))
    if mode == "redis":
        settings["REDIS_URL"] = REDIS
    submitter = create_app(settings)
    env = {**os.environ, "DATABASE_URL": settings["DATABASE_URL"],
           "SECRET_KEY": settings["SECRET_KEY"], "INSPECTION_FILE_STORE": settings["FILE_STORE"],
           "INSPECTION_JOBS_MODE": mode, "INSPECTION_JOBS_FILE": settings["JOBS_FILE"],
           "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent.parent)])}
    env.pop("REDIS_URL", None)
    if mode == "redis":
        env["REDIS_URL"] = REDIS
    workers: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = (tmp_path / f"worker{len(workers)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "jobs_support:create_app", "jobs",
             "worker", "--workers", "1"], env=env, stdout=log, stderr=subprocess.STDOUT,
            cwd=str(HERE.parent.parent))
        workers.append(process)
        return process

    submitter.start_worker = start
    submitter.worker_logs = tmp_path
    yield submitter
    for process in workers:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    if mode == "redis":
        import redis
        client = redis.Redis.from_url(REDIS)
        name = queue.queue_name(submitter)
        for key in client.scan_iter(f"*{name}*"):
            client.delete(key)


def _logs(app) -> str:
    return "\n".join(p.read_text() for p in sorted(Path(app.worker_logs).glob("worker*.log")))


def _wait(app, job_id: int, until, seconds: float = 60) -> Job:
    deadline = time.monotonic() + seconds
    while True:
        with app.app_context():
            job = db.session.get(Job, job_id)
            db.session.expunge(job)
        if until(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stayed {job.status} "
                                 f"({job.progress_done}/{job.progress_total})\n{_logs(app)}")
        time.sleep(0.2)


def _submit(app, **params) -> int:
    with app.test_request_context():
        return ops.submit(KIND, params, None).id


def _store_files(app) -> tuple[list[Path], list[Path]]:
    with app.app_context():
        area = storage.root() / AREA
        work = storage.root() / ".jobs-work"
    files = [p for p in area.rglob("*") if p.is_file()] if area.exists() else []
    scratch = [p for p in work.rglob("*") if p.is_file()] if work.exists() else []
    return files, scratch


def test_the_worker_runs_a_job_with_progress_and_a_retry(queue_app, tmp_path):
    worker = queue_app.start_worker()
    job_id = _submit(queue_app, steps=6, delay=0.3)
    seen = set()
    job = _wait(queue_app, job_id, lambda j: seen.add(j.progress_done) or j.status == "done")
    assert job.progress_done == 6 and job.progress_total == 6 and job.attempts == 1
    assert len(seen - {0, 6}) >= 1, seen  # progress was seen between start and end
    with queue_app.app_context():
        assert storage.read(job.result_area, job.result_sha256).startswith(b"step 1 of 6")
    # A failing job says why; a retry runs it again through the queue.
    flag = tmp_path / "fail"
    flag.write_text("no space left")
    failing = _submit(queue_app, steps=1, fail_if=str(flag))
    job = _wait(queue_app, failing, lambda j: j.status == "failed")
    assert "no space left" in job.error
    flag.unlink()
    with queue_app.test_request_context():
        ops.retry(failing, None)
    job = _wait(queue_app, failing, lambda j: j.status == "done")
    assert job.error is None
    assert worker.poll() is None, _logs(queue_app)


def test_a_worker_killed_mid_job_leaves_no_file_and_the_job_runs_again(queue_app, tmp_path):
    before = set(_store_files(queue_app)[0])
    first = queue_app.start_worker()
    pid_file = tmp_path / "pid"
    job_id = _submit(queue_app, steps=8, delay=0.5, pid_file=str(pid_file), tag=str(tmp_path))
    _wait(queue_app, job_id, lambda j: j.status == "running" and j.progress_done >= 2)
    assert int(pid_file.read_text()) == first.pid  # the job runs in the worker's process
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    with queue_app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "running" and job.result_sha256 is None
    files, scratch = _store_files(queue_app)
    assert set(files) == before and len(scratch) == 1  # only the dead job's scratch file
    queue_app.start_worker()  # its start puts back what the dead process of this host left
    job = _wait(queue_app, job_id, lambda j: j.status == "done")
    assert job.attempts == 2 and job.progress_done == 8
    files, scratch = _store_files(queue_app)
    files = [p for p in files if p not in before]
    assert len(files) == 1 and not any(".part-" in p.name for p in files)
    assert files[0].name == job.result_sha256 and scratch == []
    assert files[0].read_text().splitlines()[-1] == "step 8 of 8"
    with queue_app.app_context():
        actions = list(db.session.scalars(select(Job.status)))
    assert actions == ["done"]
