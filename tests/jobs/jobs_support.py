"""Helpers of the job queue's tests (not a test module): a test-only kind of job, and the app
factory the worker subprocess runs (``flask --app jobs_support:create_app jobs worker``: the
real worker command of the real app, with this one kind added)."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from inspection.core import storage
from inspection.jobs.operations import work_dir
from inspection.jobs.registry import JobFile, Kind, Progress, register

KIND = "test_steps"
AREA = "test_jobs"


def steps(params: dict[str, Any], progress: Progress) -> JobFile:
    """Write ``steps`` lines to a scratch file, one every ``delay`` seconds, with progress;
    fail (saying why) while the file ``fail_if`` exists; then keep the file in the store."""
    count, delay = int(params.get("steps", 3)), float(params.get("delay", 0))
    fail_if = params.get("fail_if")
    if fail_if and Path(fail_if).exists():
        raise ValueError(f"the test asked this job to fail ({Path(fail_if).read_text()})")
    path = work_dir() / "steps.txt"
    with path.open("w") as out:
        if params.get("tag"):
            out.write(f"tag {params['tag']}\n")
        for step in range(count):
            out.write(f"step {step + 1} of {count}\n")
            out.flush()
            progress(step + 1, count, f"step {step + 1}")
            if params.get("pid_file") and step == 0:
                Path(params["pid_file"]).write_text(str(os.getpid()))
            time.sleep(delay)
    with path.open("rb") as stream:
        sha = storage.put_stream(AREA, stream)
    return JobFile(AREA, sha, "steps.txt", "text/plain")


def register_test_kind() -> None:
    register(Kind(KIND, lambda: "Test steps", steps, roles=("office",)))


def create_app():
    """The worker subprocess's app: the real factory (settings from the environment) with
    the test kind registered."""
    from inspection import create_app as make

    register_test_kind()
    return make()
