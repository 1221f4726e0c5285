"""The employers' XLSX export through the job queue: 10^6 employers by a real worker.

    python -m bench.export [--employers 1000000] [--rebuild]

A SQLite database of ``--employers`` demo employers is built once through the bulk importer
(:func:`bench._data.bureau`, the path ``bench.draw`` and ``bench.api`` use), in a child
process, and kept in the temporary folder (``bench-export-<N>/``) for the next run. Then:

* the baseline: a child process writes the same rows, read with the standard library's
  ``sqlite3``, into an openpyxl write-only workbook: what the file costs without the app;
* the job: a real worker (``flask --app app jobs worker``, embedded queue) runs the
  ``employers_xlsx`` job submitted as the export button does; timed from submission to done
  (the job's page would show it), the worker's peak RSS read from the kernel (``ru_maxrss``
  when it exits) next to its RSS when idle.

The last line is the JSON of the figures, with ``ratio`` = job seconds / baseline seconds and
``cpu_ratio`` the same in CPU seconds (the job's: the worker's CPU while it ran; steadier than
wall time on a shared machine).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._data import SECRET_KEY, run_child

PASSWORD = "Bench-export-Horse-42"
ROOT = Path(__file__).resolve().parents[1]
#: Changed whenever the build changes: a kept database of another version is built again.
VERSION = 1
COLUMNS = ("credit_code", "name", "employer_type", "address", "region_code", "industry",
           "legal_representative", "contact_phone", "employees", "risk_grade",
           "flag_complaints", "flag_abnormal", "flag_serious_violation", "status", "notes")


def _mb(kb: int) -> float:
    return round(kb / 1024, 1)


def build(url: str, files: Path, employers: int) -> None:
    """The directory (runs in a child process)."""
    from . import _data

    app = _data.make_app(url, files, JOBS_MODE="held")
    with app.app_context():
        _data.bureau(employers, PASSWORD)
        _data.analyze()


def baseline(database: Path, out: Path) -> None:
    """The same rows into a write-only workbook, without the app (runs in a child)."""
    from openpyxl import Workbook

    start, cpu = time.perf_counter(), time.process_time()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("employers")
    sheet.append(list(COLUMNS))
    conn = sqlite3.connect(str(database))
    rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM employer ORDER BY id")
    n = 0
    for row in rows:
        sheet.append(list(row))
        n += 1
    book.save(str(out))
    print(json.dumps({"rows": n, "seconds": time.perf_counter() - start,
                      "cpu_seconds": time.process_time() - cpu}))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def run_job(url: str, files: Path, work: Path, employers: int) -> dict:
    """Start a worker, submit the export as the button does, wait for it; the figures."""
    from . import _data

    jobs_file = work / "jobs.sqlite3"
    jobs_file.unlink(missing_ok=True)
    settings = {"JOBS_MODE": "embedded", "JOBS_FILE": str(jobs_file)}
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY,
           "INSPECTION_FILE_STORE": str(files), "INSPECTION_JOBS_MODE": "embedded",
           "INSPECTION_JOBS_FILE": str(jobs_file)}
    env.pop("REDIS_URL", None)
    log = (work / "worker.log").open("w")
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "jobs", "worker",
                               "--workers", "1"], cwd=str(ROOT), env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    app = _data.make_app(url, files, **settings)
    from sqlalchemy import select

    from inspection.core.models import User
    from inspection.extensions import db
    from inspection.jobs import operations as ops
    from inspection.jobs.models import Job

    try:
        time.sleep(1)
        deadline = time.monotonic() + 120
        while "recovered at start" not in (work / "worker.log").read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                sys.exit("the worker did not start:\n" + (work / "worker.log").read_text())
            time.sleep(0.2)
        idle_kb, idle_cpu = _rss_kb(worker.pid), _cpu_seconds(worker.pid)
        with app.test_request_context():
            office = db.session.scalar(select(User).where(User.username == "office"))
            start = time.perf_counter()
            job_id = ops.submit("employers_xlsx", {"lang": "zh_CN"}, office).id
        last = -1
        while True:
            with app.app_context():
                job = db.session.get(Job, job_id)
                status, done, total = job.status, job.progress_done, job.progress_total
                started, finished = job.started_at, job.finished_at
                error, area, sha = job.error, job.result_area, job.result_sha256
                db.session.remove()
            if status in ("done", "failed"):
                break
            if worker.poll() is not None:
                sys.exit("the worker died:\n" + (work / "worker.log").read_text())
            if done // 100_000 != last // 100_000 and done:
                print(f"  {done:,} of {total:,} rows ({time.perf_counter() - start:.0f} s)",
                      flush=True)
            last = done
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        if status != "done":
            sys.exit(f"the job failed: {error}")
        job_cpu = _cpu_seconds(worker.pid) - idle_cpu
        worker.send_signal(signal.SIGINT)
        _pid, _status, usage = os.wait4(worker.pid, 0)
        worker.returncode = os.waitstatus_to_exitcode(_status)
        path = files / area / sha[:2] / sha
        return {"job_seconds": round(seconds, 2),
                "handler_seconds": round((finished - started).total_seconds(), 2),
                "cpu_seconds": round(job_cpu, 2),
                "rows": done, "rows_per_second": round(done / seconds),
                "worker_peak_rss_mb": _mb(usage.ru_maxrss), "worker_idle_rss_mb": _mb(idle_kb),
                "file_mb": round(path.stat().st_size / 2**20, 1)}
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        log.close()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employers", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="build even if a kept "
                        "database of this size exists")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dir", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    work = Path(args.dir or Path(tempfile.gettempdir()) / f"bench-export-{args.employers}")
    database, files = work / "bench.sqlite3", work / "files"
    url = f"sqlite:///{database}"
    if args.build_only:
        build(url, files, args.employers)
        return {}
    if args.baseline_only:
        baseline(database, work / "baseline.xlsx")
        return {}

    marker = work / f"built-v{VERSION}"
    if args.rebuild or not marker.exists():
        if work.exists():
            import shutil
            shutil.rmtree(work)
        work.mkdir(parents=True)
        t0 = time.perf_counter()
        status, output, _s, build_mb = run_child(
            [sys.executable, "-m", "bench.export", "--build-only", "--employers",
             str(args.employers), "--dir", str(work)], cwd=str(ROOT))
        print(output, end="", flush=True)
        if status:
            sys.exit(f"building the directory failed ({status})")
        marker.write_text(str(args.employers))
        print(f"built in {time.perf_counter() - t0:.1f} s (peak {build_mb:.0f} MB, not counted; "
              f"kept in {work})", flush=True)
    else:
        print(f"kept database: {work}", flush=True)

    status, output, seconds, base_mb = run_child(
        [sys.executable, "-m", "bench.export", "--baseline-only", "--employers",
         str(args.employers), "--dir", str(work)], cwd=str(ROOT))
    if status:
        sys.exit("the baseline failed:\n" + output)
    base = json.loads(output.strip().splitlines()[-1])
    print(f"baseline (openpyxl write-only, sqlite3, no app): {base['rows']:,} rows in "
          f"{base['seconds']:.1f} s ({base['cpu_seconds']:.1f} s CPU), peak {base_mb:.0f} MB",
          flush=True)
    job = run_job(url, files, work, args.employers)
    print(f"job through the embedded queue: {job['rows']:,} rows in {job['job_seconds']:.1f} s "
          f"(handler {job['handler_seconds']:.1f} s, {job['cpu_seconds']:.1f} s CPU), worker peak {job['worker_peak_rss_mb']:.0f} "
          f"MB (idle {job['worker_idle_rss_mb']:.0f} MB), file {job['file_mb']} MB", flush=True)
    if job["rows"] != base["rows"]:
        sys.exit(f"the job wrote {job['rows']} rows, the baseline {base['rows']}")
    figures = {"employers": args.employers, **job,
               "baseline_seconds": round(base["seconds"], 2),
               "baseline_cpu_seconds": round(base["cpu_seconds"], 2),
               "baseline_peak_rss_mb": base_mb,
               "ratio": round(job["job_seconds"] / base["seconds"], 2),
               "cpu_ratio": round(job["cpu_seconds"] / base["cpu_seconds"], 2)}
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    os.environ.setdefault("INSPECTION_DEMO_MODE", "0")
    main()
