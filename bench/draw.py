"""Benchmark: a target draw over a directory of 10^6 employers against reading it once.

    python -m bench.draw [--employers N] [--database-url URL] [--reset] [--profile FILE]

The directory is built first (not timed), in a child process so that its memory does not
count: the demo bureau's departments, users, regions and catalogue, ``N`` demo employers
through the bulk importer (grades A 60 %, B 30 %, C 8 %, D 2 %; about 97 % active), the 2026
plan with its default ratios (A 1 %, B 3 %, C 10 %, D 20 %, cap 2), an approved undirected
task (April to June), and prior random checks of the year so that the cap applies: 1 % of the
employers were already checked twice (two earlier executed draws, visits closed) and 0.5 %
have an open visit of an open task whose window overlaps, which the draw merges into. The
directory is then confirmed current.

Then, in this process and the same database:

- ``floor``: reading every eligible credit code once, with its grade, through the draw's own
  driver on a plain DB-API cursor: the fastest of one SELECT of code and grade over the
  active employers (the undirected task's filter; no ORDER BY) and one SELECT of the codes
  per grade (unordered, and in code order as the draw reads them), each read to the end by
  ``fetchmany`` batches and by iterating the cursor; the best of three of each after a
  warm-up read (``FLOOR_READS``). The employers at the cap are read too (about 1 %): leaving
  them out would cost the floor a join;
- ``draw``: :func:`inspection.draws.target.operations.prepare_target_draw` (pools frozen,
  cap applied, pool files written and hashed, commitment) plus :func:`execute_target_draw`
  (the RFC 3797 engine on every pool, the self-verification, the visits created or merged and
  their links), in the "secrets" mode with two parties, each step committed;
- ``verify``: the standalone verifier, ``python -I -S verify.py record.json POOL_FILES...`` in a
  directory holding only ``verify.py`` and ``rfc3797.py``, as anyone would run it, on the
  exported record and pool files (a subprocess, timed from the outside).

Both times are wall-clock (``ratio``); the CPU time of this process is given too
(``cpu_ratio``), which a busy machine disturbs less (on PostgreSQL it leaves out the
server's share of both). Peak memory: ``ru_maxrss`` of this process (the directory is built
elsewhere) and of the verifier's process (``os.wait4`` in a small launcher). The default
database is a fresh SQLite file in a temporary directory. A PostgreSQL URL must name a
scratch database (``--reset`` empties it first). After the load the database's statistics
are refreshed (``VACUUM ANALYZE`` on PostgreSQL, as autovacuum would after a bulk load,
``ANALYZE`` on SQLite).
The last line printed is one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from . import _data
from ._data import SECRETS, YEAR, run_child

PASSWORD = "Bench-draw-Horse-42"


def _mb(kb: int) -> float:
    return round(kb / 1024, 1)


# ---------------------------------------------------------------------------- the directory
def build(url: str, files: Path, employers: int, reset: bool) -> None:
    """Everything the draw needs, committed (runs in a child process)."""
    from sqlalchemy import select

    from inspection.core import operations as core_ops
    from inspection.directory.employers import operations as employer_ops
    from inspection.directory.models import Employer
    from inspection.extensions import db

    app = _data.make_app(url, files)
    with app.app_context():
        depts = _data.bureau(employers, PASSWORD, reset)
        office = core_ops.find_user("office")
        plan = _data.plan(YEAR)
        lead = depts["LSJC"]
        earlier = _data.task(plan, lead, "一季度专项（已完成）", date(YEAR, 1, 5),
                             date(YEAR, 3, 31), ["LR-06"])
        spring = _data.task(plan, lead, "春季专项（进行中）", date(YEAR, 3, 1),
                            date(YEAR, 5, 31), ["LR-02"])
        _data.task(plan, lead, "2026年工资支付专项随机抽查", date(YEAR, 4, 1), date(YEAR, 6, 30),
                   ["LR-06", "LR-02"])

        # Prior random checks of the year, made in bulk: two executed draws.
        ids = list(db.session.scalars(select(Employer.id).order_by(Employer.id)))
        capped = ids[::100]                          # 1 %: checked twice already
        open_one = ids[1::200]                       # 0.5 %: an open visit, merged into
        draws = {t.id: _data.earlier_draw(t, f"DRAW-{YEAR}-90{n:02d}")
                 for n, t in enumerate((earlier, spring), 1)}
        for t, employer_ids, status in [(earlier, capped, "closed"), (spring, capped, "closed"),
                                        (spring, open_one, "planned")]:
            _data.add_visits(t, draws[t.id], employer_ids, status)
        earlier.status = "closed"
        spring.status = "targets_drawn"
        db.session.commit()
        employer_ops.confirm_current(office, "基准测试：抽取前确认名录为最新")
        print(f"prior checks: {len(capped)} employers at the cap, {len(open_one)} with an "
              "open visit to merge into", flush=True)
        _data.analyze()


#: Runs a command and reports its time and peak memory. Linux keeps a process's ru_maxrss
#: across exec, and a child spawned with vfork (as subprocess does) starts from its parent's
#: peak: this small launcher stands between the benchmark and the verifier so that the
#: verifier's figure starts from a bare interpreter, not from the benchmark's memory.
_LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_pid, status, usage = os.wait4(pid, 0)
print(json.dumps({"seconds": time.perf_counter() - start, "maxrss_kb": usage.ru_maxrss,
                  "status": os.waitstatus_to_exitcode(status)}), file=sys.stderr)
"""


def run_verifier(args: list[str], cwd: str) -> tuple[int, str, float, float]:
    """(exit status, output, seconds, peak RSS in MB) of the standalone verifier."""
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", _LAUNCHER, *args], cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    report = json.loads(proc.stderr.decode().strip().splitlines()[-1])
    return (report["status"], proc.stdout.decode("utf-8", "replace"), report["seconds"],
            _mb(report["maxrss_kb"]))


# ---------------------------------------------------------------------------- the measure
#: Ways of reading every eligible credit code once (the undirected task's filter: the active
#: employers) with its grade, which the floor takes the fastest of: one SELECT of code and
#: grade in whatever order the database finds fastest; one SELECT of the codes per grade,
#: unordered; the same in code order (the index's order, as the draw reads its pools).
FLOOR_READS = {
    "one query": ["SELECT credit_code, risk_grade FROM employer WHERE status = 'active'"],
    "per grade": [f"SELECT credit_code FROM employer WHERE status = 'active' "
                  f"AND risk_grade = '{grade}'" for grade in "ABCD"],
    "per grade, ordered": [f"SELECT credit_code FROM employer WHERE status = 'active' "
                           f"AND risk_grade = '{grade}' ORDER BY credit_code"
                           for grade in "ABCD"],
}
#: Rows per fetchmany (the draw's own batch).
FLOOR_FETCH = 20_000


def floor(db, statements: list[str], fetch: str) -> tuple[float, float, int]:
    """Seconds (wall, and CPU of this process) to run ``statements`` and read every row to
    the end on a plain DB-API cursor of the draw's own driver (``fetch``: by ``fetchmany``
    batches or by iterating the cursor), and how many rows."""
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        start, cpu = time.perf_counter(), time.process_time()
        n = 0
        for sql in statements:
            cursor.execute(sql)
            if fetch == "iterate":
                for _row in cursor:
                    n += 1
                continue
            while True:
                rows = cursor.fetchmany(FLOOR_FETCH)
                if not rows:
                    break
                n += len(rows)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return seconds, cpu, n


def floors(db, runs: int = 3) -> tuple[float, float, int, str, list[float]]:
    """The floor: the fastest of ``runs`` reads in each way of :data:`FLOOR_READS` and each
    fetch style, after a warm-up read (the caches as the draw finds them). Returns its wall
    and CPU seconds (each the least found), the number of codes, which way was fastest, and
    the runs of that way."""
    floor(db, FLOOR_READS["one query"], "fetchmany")
    best: tuple[float, str, list[float]] | None = None
    cpu_best, eligible = float("inf"), None
    for name, statements in FLOOR_READS.items():
        for fetch in ("fetchmany", "iterate"):
            times = []
            for _ in range(runs):
                seconds, cpu, n = floor(db, statements, fetch)
                if eligible is None:
                    eligible = n
                if n != eligible:
                    raise AssertionError(f"floor {name}: {n} rows, not {eligible}")
                times.append(seconds)
                cpu_best = min(cpu_best, cpu)
            if best is None or min(times) < best[0]:
                best = (min(times), f"{name}, {fetch}", times)
    return best[0], cpu_best, eligible, best[1], best[2]


def measure(url: str, files: Path, work: Path, profile: str = "") -> dict:
    """Floor, draw and verification on a built directory; the figures."""
    from sqlalchemy import func, select

    from inspection.core import operations as core_ops
    from inspection.draws import commitments
    from inspection.draws.engine import verify
    from inspection.draws.target import operations as target
    from inspection.draws.models import Draw
    from inspection.extensions import db
    from inspection.fieldwork.models import VisitTask
    from inspection.planning.models import Task

    app = _data.make_app(url, files)
    with app.app_context():
        office = core_ops.find_user("office")
        task_id = db.session.scalar(select(Task.id).where(Task.status == "approved"))
        employers = db.session.scalar(select(func.count()).select_from(
            db.metadata.tables["employer"]))
        floor_s, floor_cpu, eligible, floor_way, runs = floors(db)
        print(f"floor:  {eligible} eligible codes read in {floor_s:.3f} s ({floor_way}; "
              f"runs {', '.join(f'{s:.3f}' for s in runs)})", flush=True)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        profiler = None
        if profile:
            import cProfile
            profiler = cProfile.Profile()
            profiler.enable()
        start, cpu = time.perf_counter(), time.process_time()
        prepared = target.prepare_target_draw(task_id, "secrets", [], SECRETS, office)
        prepare_s = time.perf_counter() - start
        draw = target.execute_target_draw(prepared.draw.id, [], prepared.generated, office)
        draw_s, draw_cpu = time.perf_counter() - start, time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        draw = db.session.get(Draw, draw.id)
        pools = {p["name"]: (p["size"], p["count"]) for p in draw.commitment["pools"]}
        params = draw.commitment["parameters"]
        links = db.session.scalar(select(func.count(VisitTask.id))
                                  .where(VisitTask.draw_id == draw.id))
        print(f"draw:   {draw_s:.3f} s (prepare {prepare_s:.3f} s, execute "
              f"{draw_s - prepare_s:.3f} s); pools {pools}; excluded by the cap "
              f"{params['excluded_by_cap']}; {links} visits", flush=True)
        assert sum(s for s, _c in pools.values()) + params["excluded_by_cap"] == eligible
        assert links == sum(c for _s, c in pools.values())

        # The public files, as downloaded, and the two files of the verifier.
        out = work / "public"
        out.mkdir()
        (out / "record.json").write_text(
            json.dumps(target.public_record(draw), ensure_ascii=False), encoding="utf-8")
        names = []
        for pool in draw.pools:
            name = commitments.pool_file_name(draw.public_id, pool.name)
            (out / name).write_bytes(commitments.pool_bytes(draw, pool))
            names.append(name)
        source = Path(verify.__file__).with_name
        # The verifier's files as the public page offers them (tlog.py checks the public
        # log's proofs, where the engine has it).
        for engine in ("verify.py", "rfc3797.py", "tlog.py"):
            if engine != "tlog.py" or source(engine).exists():
                shutil.copy(source(engine), out / engine)
        db.session.remove()
        db.engine.dispose()

    status, output, verify_s, verify_mb = run_verifier(
        # --no-log: this times re-deriving the picks; the record written here is the engine's
        # (target.public_record), without the public log's proofs the portal adds.
        [sys.executable, "-I", "-S", "verify.py", "--no-log", "record.json", *names],
        cwd=str(out))
    print(f"verify: {verify_s:.3f} s, peak {verify_mb:.0f} MB: {output.strip()}", flush=True)
    if status != 0 or output.strip() != "OK":
        sys.exit("the standalone verifier did not say OK")

    peak_mb = _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    figures = {
        "employers": employers,
        "database": url.split(":", 1)[0],
        "eligible": eligible,
        "draw_seconds": round(draw_s, 3),
        "prepare_seconds": round(prepare_s, 3),
        "execute_seconds": round(draw_s - prepare_s, 3),
        "verify_seconds": round(verify_s, 3),
        "floor_seconds": round(floor_s, 3),
        "floor_way": floor_way,
        "ratio": round(draw_s / floor_s, 2),
        "verify_ratio": round(verify_s / floor_s, 2),
        "draw_cpu_seconds": round(draw_cpu, 3),
        "floor_cpu_seconds": round(floor_cpu, 3),
        "cpu_ratio": round(draw_cpu / floor_cpu, 2),
        "peak_mb": peak_mb,
        "draw_growth_mb": _mb(rss_after - rss_before),
        "verify_peak_mb": verify_mb,
    }
    print(f"ratio draw/floor: {figures['ratio']:.2f} (target <= 6; in CPU time of this "
          f"process {figures['cpu_ratio']:.2f}); peak {peak_mb:.0f} MB "
          f"(draw +{figures['draw_growth_mb']:.0f} MB), verifier {verify_mb:.0f} MB")
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employers", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reset", action="store_true",
                        help="PostgreSQL: empty the scratch database first (drops schema public)")
    parser.add_argument("--profile", default="", help="write a cProfile of the draw here")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--files", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build_only:
        build(args.database_url, Path(args.files), args.employers, args.reset)
        return {}

    with tempfile.TemporaryDirectory(prefix="bench-draw-") as tmp:
        tmp_path = Path(tmp)
        files = tmp_path / "files"
        url = args.database_url or f"sqlite:///{tmp_path / 'bench.sqlite3'}"
        t0 = time.perf_counter()
        build_cmd = [sys.executable, "-m", "bench.draw", "--build-only", "--employers",
                     str(args.employers), "--database-url", url, "--files", str(files)]
        if args.reset:
            build_cmd.append("--reset")
        status, output, _s, build_mb = run_child(build_cmd, cwd=str(Path(__file__).parents[1]))
        print(output, end="", flush=True)
        if status:
            sys.exit(f"building the directory failed ({status})")
        print(f"built in {time.perf_counter() - t0:.1f} s (peak {build_mb:.0f} MB, not counted)",
              flush=True)
        figures = measure(url, files, tmp_path, args.profile)
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    os.environ.setdefault("INSPECTION_DEMO_MODE", "0")
    main()
