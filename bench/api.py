"""Benchmark: the platform's pages and JSON endpoints under load against a bare Flask app.

    python -m bench.api [--database sqlite|postgresql|both] [--employers N] [--visits N]
                        [--duration S] [--rebuild] [--build] [--only NAMES]
                        [--postgresql-url URL]

For each database a bureau is built once (in a child process, not timed) and kept between
runs while its size, this builder and the schema's migrations are unchanged: SQLite in
``instance/bench/api-sqlite.sqlite3``, PostgreSQL in the scratch database ``bench_api``
(made if missing; never a ``test`` database). What it holds (``N`` employers, ``M`` visits):

- the demo bureau's departments and users, regions and catalogue, and ``N`` demo employers
  through the bulk importer (:mod:`bench._data`, shared with ``bench.draw``);
- the year's plan and four approved tasks. Two draws are made for real through the draws'
  own code (prepare and execute, "secrets" mode): the undirected wage task over the whole
  directory (about 2.6 % of it drawn: 26,000 visits at 10^6) and a directed task (one
  street, grades C and D: about 950). The other visits, up to ``M``, are written in bulk
  (the draws' own visit writer) for two earlier tasks: 60 % for the first quarter's task,
  every one published (a sealed record, an approved determination, a publication), and 40 %
  for the spring task, half of them with a sealed record waiting for review. The employers
  of ``inspector1``'s drawn visits are among the first quarter's, so that the visit pack
  measured lists an earlier visit with its record;
- every visit has a team of two: ``M`` / 25 inspectors, each on 50 visits; the first is the
  account ``inspector1``, whose visit list therefore has 50 rows.

Then, in one run per database, two gunicorn servers with 2 sync workers each on the same
database: the platform (``app:app``, signed in as ``office`` or ``inspector1`` through the
sign-in form, the session cookie passed to wrk) and the baseline (:mod:`bench._baseline`: a
bare Flask + Flask-SQLAlchemy app serving one primary-key lookup of an employer as JSON).
``wrk`` (``make bench`` installs Debian's) runs 2 threads and 32 connections for ``S``
seconds per endpoint (default 10) after a short warm-up, right after a run of the baseline
of the same length: each ratio divides by the baseline measured just before, under the same
load (the machine may be shared). Each URL is fetched once before and after its run and
must answer 200 (wrk counts a redirect to the sign-in page as a success); the fetch after a
run also waits until the workers have answered what wrk left queued. The public pages'
requests come from random client addresses behind one trusted proxy, as visitors do, so that
their limit per address counts every request and refuses none.

Targets: detail pages and JSON endpoints (an employer's page and its API answer, a visit
pack, a draw's public page) at least 50 % of the baseline's requests per second; list pages
(the inspector's visit list and the office's employer search, 50 rows each; the public
results search, 20 rows a page) at least 20 %; p99 latency at most 100 ms for all. Endpoints
marked "extra" are measured and reported but are not among the targets. For each endpoint
that misses a target, and for the baseline, requests are then made one at a time in this
process (``--no-explain``: not): their time, SQL statements and the statements' time, and
where the rest of the time goes by package. ``docs/benchmarks.md`` says more.

The last line printed is one JSON object with the figures and the ratios.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "instance" / "bench"
PASSWORD = "Bench-api-Horse-42"
DEFAULT_POSTGRESQL = "postgresql://postgres@127.0.0.1:5432/bench_api"
#: Changed whenever the builder changes what it builds: a kept database of another version
#: is built again.
BUILD_VERSION = 2
#: Visits per inspector (each visit has two team members).
VISITS_PER_INSPECTOR = 50
WORKERS = 2
CONNECTIONS = 32
THREADS = 2
#: Targets: requests per second as a share of the baseline's, and the p99 latency.
DETAIL_TARGET, LIST_TARGET, P99_TARGET_MS = 0.5, 0.2, 100.0
#: Trade names of the demo employers (:mod:`inspection.directory.employers.demo`): the public
#: results are searched by the first that matches a full page.
TRADES = ("鑫盛", "华宇", "齐鲁", "金岭", "宏达", "恒信", "泰和", "瑞丰")


# ---------------------------------------------------------------------------- wrk's output
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_UNITS_BYTES = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}


def duration_ms(text: str) -> float:
    """A wrk duration (``812.00us``, ``18.91ms``, ``1.02s``, ``2.00m``) in milliseconds."""
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def size_bytes(text: str) -> float:
    """A wrk size (``541.41KB``, ``5.29MB``, ``812B``) in bytes (wrk counts in 1024s)."""
    match = re.fullmatch(r"([0-9.]+)(B|KB|MB|GB|TB)", text.strip())
    if not match:
        raise ValueError(f"not a wrk size: {text!r}")
    return float(match.group(1)) * _UNITS_BYTES[match.group(2)]


def parse_wrk(text: str) -> dict:
    """The figures of one ``wrk --latency`` run from its output: requests per second, the
    latency percentiles (ms), the number of requests and the seconds they took, the bytes
    read, the responses that were not 2xx or 3xx, and the socket errors (connect, read,
    write, timeout). Raises ValueError when the output has no result."""
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)\s*$", text, re.M)
    total = re.search(r"^\s*(\d+) requests in ([0-9.]+\w+), ([0-9.]+\w+) read\s*$", text, re.M)
    if not rps or not total:
        raise ValueError("no result in wrk's output:\n" + text)
    out = {"rps": float(rps.group(1)), "requests": int(total.group(1)),
           "seconds": duration_ms(total.group(2)) / 1000, "bytes": size_bytes(total.group(3))}
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+([0-9.]+\w+)\s*$", text, re.M):
        out[f"p{pct}_ms"] = duration_ms(value)
    for key in ("p50_ms", "p75_ms", "p90_ms", "p99_ms"):
        if key not in out:
            raise ValueError(f"no {key} in wrk's output (run it with --latency):\n" + text)
        if not out["requests"]:                 # nothing answered in time: no latency
            out[key] = None
    non_2xx = re.search(r"^\s*Non-2xx or 3xx responses:\s+(\d+)\s*$", text, re.M)
    out["non_2xx"] = int(non_2xx.group(1)) if non_2xx else 0
    errors = re.search(r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), "
                       r"timeout (\d+)\s*$", text, re.M)
    out["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                    map(int, errors.groups()))) if errors else {}
    return out


def verdict(rps: float, p99_ms: float | None, baseline_rps: float, target: float,
            errors: bool = False) -> dict:
    """The ratio to the baseline and whether the endpoint meets its targets (not with
    errors: answers other than 2xx/3xx or requests timed out, which wrk leaves out of its
    latencies)."""
    ratio = rps / baseline_rps if baseline_rps else 0.0
    return {"ratio": round(ratio, 3), "target": target,
            "met": (ratio >= target and p99_ms is not None and p99_ms <= P99_TARGET_MS
                    and not errors)}


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


# ---------------------------------------------------------------------------- the database
@dataclass
class Database:
    kind: str            # sqlite | postgresql
    url: str             # as the app reads it (DATABASE_URL)
    files: Path          # the app's file store (the draws' pool files)
    manifest: Path       # what was built, and the benchmark's targets in it

    @property
    def engine_url(self) -> str:
        if self.url.startswith("postgresql://"):
            return "postgresql+psycopg://" + self.url[len("postgresql://"):]
        return self.url


def database(kind: str, postgresql_url: str) -> Database:
    STORE.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        url = f"sqlite:///{STORE / 'api-sqlite.sqlite3'}"
    else:
        url = postgresql_url
        name = urlsplit(url).path.lstrip("/")
        if not name or name in ("postgres", "template0", "template1") or name == "test" \
                or name.startswith("test_"):
            sys.exit(f"{name!r} is not a scratch database for the benchmark: name another "
                     "(default bench_api)")
    return Database(kind, url, STORE / f"api-{kind}-files", STORE / f"api-{kind}.json")


def _migration_head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def kept(db: Database, employers: int, visits: int) -> dict | None:
    """The manifest of the database built before, if it can serve again: same size, same
    builder, the schema at the migrations' head, and the rows still there."""
    from sqlalchemy import create_engine, text

    try:
        manifest = json.loads(db.manifest.read_text())
    except (OSError, ValueError):
        return None
    if (manifest.get("version"), manifest.get("employers"), manifest.get("visits_wanted"),
            manifest.get("url")) != (BUILD_VERSION, employers, visits, db.url):
        return None
    if db.kind == "sqlite" and not Path(db.url[len("sqlite:///"):]).exists():
        return None
    engine = create_engine(db.engine_url)
    try:
        with engine.connect() as conn:
            head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            counts = conn.execute(text("SELECT (SELECT count(*) FROM employer), "
                                       "(SELECT count(*) FROM visit)")).one()
    except Exception:                           # no database, no tables: build it
        return None
    finally:
        engine.dispose()
    if tuple(counts) != (manifest["employers"], manifest["visits"]):
        return None
    if head != _migration_head() and not _upgrade(db, head):
        return None
    return manifest


def _upgrade(db: Database, head: str | None) -> bool:
    """Bring a kept database whose schema is an earlier revision of this project's migrations
    up to their head, in place, as an installation would be (``flask db upgrade``), rather
    than building it again (minutes to a quarter of an hour). False when its revision is not
    one of ours or the upgrade fails: then it is built again."""
    from alembic.script import ScriptDirectory

    try:
        if head is None or ScriptDirectory(str(ROOT / "migrations")).get_revision(head) is None:
            return False
    except Exception:                           # an unknown revision
        return False
    print(f"== {db.kind}: kept database at migration {head}: upgrading it to "
          f"{_migration_head()}", flush=True)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
                            cwd=ROOT, env=app_env(db), capture_output=True, text=True)
    if result.returncode:
        print(f"   the upgrade failed, building again:\n{result.stderr[-2000:]}", flush=True)
        return False
    return True


def empty(db: Database) -> None:
    """A fresh place for the build: the SQLite file removed, or the PostgreSQL database
    made if missing (its schema is emptied by the build)."""
    shutil.rmtree(db.files, ignore_errors=True)
    db.manifest.unlink(missing_ok=True)
    if db.kind == "sqlite":
        path = Path(db.url[len("sqlite:///"):])
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text

    parts = urlsplit(db.engine_url)
    name = parts.path.lstrip("/")
    admin = create_engine(parts._replace(path="/postgres").geturl(),
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                {"n": name}).scalar():
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()


# ---------------------------------------------------------------------------- the build
def build(db: Database, employers: int, visits: int) -> dict:
    """The bureau, its draws, visits, teams and results (runs in a child process); returns
    the manifest: the counts and the benchmark's targets."""
    from sqlalchemy import func, select

    from inspection.core import operations as core_ops
    from inspection.directory.employers import operations as employer_ops
    from inspection.directory.models import Employer
    from inspection.draws.target import operations as target
    from inspection.extensions import db as sqla
    from inspection.fieldwork.models import Visit
    from inspection.planning.demo import DEMO_REGION

    from . import _data
    from ._data import SECRETS, YEAR

    started = time.perf_counter()
    app = _data.make_app(db.url, db.files)
    with app.app_context():
        depts = _data.bureau(employers, PASSWORD, reset=True)
        office = core_ops.find_user("office")
        plan = _data.plan(YEAR)
        lead = depts["LSJC"]
        q1 = _data.task(plan, lead, f"{YEAR}年一季度劳动用工专项抽查", date(YEAR, 1, 5),
                        date(YEAR, 3, 31), ["LR-06"])
        spring = _data.task(plan, lead, f"{YEAR}年春季社会保险专项抽查", date(YEAR, 3, 1),
                            date(YEAR, 5, 31), ["LR-02"])
        wages = _data.task(plan, lead, f"{YEAR}年工资支付专项随机抽查", date(YEAR, 4, 1),
                           date(YEAR, 6, 30), ["LR-06", "LR-02"])
        directed = _data.task(plan, lead, f"{YEAR}年辛店街道较高风险用人单位定向抽查",
                              date(YEAR, 4, 15), date(YEAR, 6, 30), ["LR-01", "LR-03"],
                              task_type="directed",
                              filters={"regions": [DEMO_REGION], "grades": ["C", "D"]})
        employer_ops.confirm_current(office, "基准测试：抽取前确认名录为最新")

        # The two real draws, as the office makes them.
        t0 = time.perf_counter()
        draws = {}
        for key, task in (("undirected", wages), ("directed", directed)):
            prepared = target.prepare_target_draw(task.id, "secrets", [], SECRETS, office)
            draw = target.execute_target_draw(prepared.draw.id, [], prepared.generated, office)
            draws[key] = draw.public_id
        drawn = sqla.session.scalar(select(func.count(Visit.id)))
        print(f"draws: {drawn} visits drawn in {time.perf_counter() - t0:.1f} s "
              f"({', '.join(draws.values())})", flush=True)

        # The earlier tasks' visits, in bulk, spread evenly over the directory.
        t0 = time.perf_counter()
        rest = max(0, visits - drawn)
        n_q1 = rest * 6 // 10
        ids = list(sqla.session.scalars(select(Employer.id).order_by(Employer.id)))
        # The employers of inspector1's drawn visits were checked in the first quarter too
        # (the yearly cap allows two checks): their visit packs then list an earlier visit
        # with its record, as the packs of employers checked before do.
        again = list(sqla.session.scalars(select(Visit.employer_id).where(
            Visit.id.in_(_first_inspectors_visits(drawn + rest)))))[:n_q1]
        seen = set(again)
        q1_ids = (again + [e for e in _spread(ids, n_q1, 0) if e not in seen])[:n_q1]
        spring_ids = _spread(ids, rest - n_q1, 1)
        q1_visits = _data.add_visits(q1, _data.earlier_draw(q1, f"DRAW-{YEAR}-9001"), q1_ids,
                                     "published")
        spring_visits = _data.add_visits(spring, _data.earlier_draw(spring, f"DRAW-{YEAR}-9002"),
                                         spring_ids, "in_progress")
        recorded = spring_visits[:len(spring_visits) // 2]
        _data.set_status(recorded, "recorded")
        q1.status = "closed"
        spring.status = wages.status = directed.status = "teams_drawn"
        drawn_visits = list(sqla.session.scalars(
            select(Visit.id).where(Visit.status == "planned")))
        _data.set_status(drawn_visits, "assigned")
        sqla.session.commit()
        print(f"earlier visits: {len(q1_visits)} published, {len(recorded)} recorded, "
              f"{len(spring_visits) - len(recorded)} in progress "
              f"({time.perf_counter() - t0:.1f} s)", flush=True)

        t0 = time.perf_counter()
        inspectors = _teams(depts["LSJC"].id)
        _results(q1_visits, recorded)
        sqla.session.commit()
        print(f"teams and results: {inspectors} inspectors, sealed records, determinations "
              f"and publications ({time.perf_counter() - t0:.1f} s)", flush=True)
        manifest = _targets(draws)
        _data.analyze()
    manifest.update({"version": BUILD_VERSION, "url": db.url, "employers": employers,
                     "visits_wanted": visits, "inspectors": inspectors,
                     "published": len(q1_visits),
                     "build_seconds": round(time.perf_counter() - started, 1)})
    return manifest


def _spread(ids: list[int], n: int, offset: int) -> list[int]:
    """``n`` of ``ids`` evenly spread (``offset`` shifts them off another spread's)."""
    if n <= 0:
        return []
    step = len(ids) / n
    return [ids[min(len(ids) - 1, int(i * step) + offset)] for i in range(n)]


def _inspector_count(visits: int) -> int:
    """An even number of inspectors for ``visits`` visits of two: visit j (in id order) has
    inspectors 2j and 2j + 1 (mod the count), so the first is on every (count/2)-th visit,
    which is :data:`VISITS_PER_INSPECTOR` of them."""
    return 2 * max(1, visits // VISITS_PER_INSPECTOR)


def _first_inspectors_visits(visits: int) -> list[int]:
    """The ids of the visits the first inspector (``inspector1``) will be on, of those that
    exist now (a visit's place in id order decides its team: :func:`_teams`)."""
    from sqlalchemy import select

    from inspection.extensions import db as sqla
    from inspection.fieldwork.models import Visit

    ids = list(sqla.session.scalars(select(Visit.id).order_by(Visit.id)))
    return ids[::_inspector_count(visits) // 2]


def _teams(department_id: int) -> int:
    """Two team members on every visit: inspectors in bulk, each on the same number of
    visits, the first of them ``inspector1``'s. Returns the number of inspectors."""
    from sqlalchemy import select

    from inspection.core import operations as core_ops
    from inspection.core.bulk import bulk_insert
    from inspection.core.models import utcnow
    from inspection.directory.models import Inspector
    from inspection.draws.models import TeamMember
    from inspection.extensions import db as sqla
    from inspection.fieldwork.models import Visit

    from . import _data

    visit_ids = list(sqla.session.scalars(select(Visit.id).order_by(Visit.id)))
    count = _inspector_count(len(visit_ids))
    now = utcnow()
    user_id = core_ops.find_user("inspector1").id
    ids = _data.insert_with_ids(
        Inspector.__table__, ("name", "user_id", "cert_number"),
        [(f"检查员{n:05d}", user_id if n == 0 else None, f"BENCH-{n:06d}")
         for n in range(count)],
        {"department_id": department_id, "cert_kind": "law_enforcement",
         "cert_expires": date(2030, 12, 31), "qualifications": "", "tags": [],
         "status": "available", "pool": "staff", "home_region_code": None, "phone": "",
         "notes": "", "version": 1, "created_at": now, "updated_at": now})
    rows = []
    for j, visit_id in enumerate(visit_ids):
        rows.append((visit_id, ids[(2 * j) % count], True))
        rows.append((visit_id, ids[(2 * j + 1) % count], False))
    bulk_insert(TeamMember.__table__, ("visit_id", "inspector_id", "is_leader"), rows,
                {"department_id": department_id, "draw_id": None, "source": "drawn",
                 "joined_at": now, "replaced_at": None})
    return count


#: Result categories of the published results, by share.
_CATEGORIES = (["no_problem"] * 14 + ["rectification_ordered"] * 3 + ["pending_follow_up",
               "not_disclosed", "unreachable"])


def _results(published: list[int], recorded: list[int]) -> None:
    """A sealed record for every published and recorded visit; for the published, an
    approved determination and a publication, dated through the first quarter."""
    import hashlib
    import uuid

    from inspection.core import operations as core_ops
    from inspection.core.bulk import bulk_insert
    from inspection.fieldwork.models import RecordRevision
    from inspection.review.models import Determination, Publication

    from . import _data
    from ._data import YEAR

    author = core_ops.find_user("inspector1").id
    office, approver = core_ops.find_user("office").id, core_ops.find_user("approver").id
    visits = [(v, True) for v in published] + [(v, False) for v in recorded]
    days = {}
    revisions = []
    for n, (visit_id, _done) in enumerate(visits):
        day = date(YEAR, 1, 10) + timedelta(days=n % 70)
        days[visit_id] = day
        category = _CATEGORIES[n % len(_CATEGORIES)]
        body = {"arrival": {"at": f"{day.isoformat()}T09:30:00+08:00"},
                "answers": [{"item": "LR-06", "question": "LR-06-1",
                             "answer": "compliant" if category == "no_problem"
                             else "non_compliant"}],
                "result_category": category}
        sha = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        seal = hashlib.sha256(f"bench-seal-{visit_id}".encode()).hexdigest()
        revisions.append((str(uuid.UUID(int=visit_id)), str(uuid.UUID(int=visit_id << 64)),
                          visit_id, body, sha, datetime.combine(day, datetime.min.time())
                          + timedelta(hours=4), category, seal))
    revision_ids = _data.insert_with_ids(
        RecordRevision.__table__, ("revision_uuid", "record_id", "visit_id", "body",
                                   "body_sha256", "received_at", "result_category", "seal"),
        revisions, {"revision": 1, "author_id": author, "corrects": None, "is_part": False})
    determinations, publications = [], []
    for (visit_id, done), revision_id, revision in zip(visits, revision_ids, revisions):
        if not done:
            continue
        day = days[visit_id]
        decided = datetime.combine(day + timedelta(days=7), datetime.min.time()) \
            + timedelta(hours=2)
        determinations.append((visit_id, revision_id, revision[6], decided - timedelta(days=2),
                               decided))
        publications.append((visit_id, day + timedelta(days=7), day + timedelta(days=14),
                             decided + timedelta(days=3), day + timedelta(days=17)))
    bulk_insert(Determination.__table__, ("visit_id", "revision_id", "result_category",
                                          "proposed_at", "decided_at"), determinations,
                {"findings": [], "summary": "", "status": "approved", "proposed_by_id": office,
                 "decided_by_id": approver, "decision_reason": "", "corrects_id": None,
                 "superseded_at": None, "request_key": None})
    bulk_insert(Publication.__table__, ("visit_id", "clock_start", "deadline", "published_at",
                                        "period_end"), publications,
                {"status": "published", "clock": "determination", "workdays": 5,
                 "deadline_year": None, "published_by_id": approver, "on_time": True})


def _targets(draws: dict[str, str]) -> dict:
    """What the benchmark asks for, chosen from what was built: the inspector's visit to
    download (one of the real draw's with the most earlier visits of its employer), its
    employer (the office's detail page), the draws, and the search texts."""
    from flask import current_app
    from sqlalchemy import func, select

    from inspection.core import operations as core_ops
    from inspection.directory.employers import operations as employer_ops
    from inspection.draws.models import Draw
    from inspection.draws.team import queries as team_queries
    from inspection.extensions import db as sqla
    from inspection.fieldwork.models import Visit, VisitTask
    from inspection.review import public

    inspector = core_ops.find_user("inspector1")
    mine = team_queries.my_visits(inspector)
    earlier = {v: n for v, n in sqla.session.execute(
        select(Visit.employer_id, func.count(Visit.id))
        .where(Visit.employer_id.in_([a.visit.employer_id for a in mine]))
        .group_by(Visit.employer_id))}
    pick = max(mine, key=lambda a: (a.visit.status == "assigned",
                                    earlier.get(a.visit.employer_id, 0), -a.visit.id)).visit
    office_q = "淄博鑫盛"
    found = employer_ops.search(employer_ops.Filters(q=office_q), count=False)
    with current_app.test_request_context():
        public_q = next((t for t in TRADES if public.search({"q": t})["total"]
                         >= public.PER_PAGE), TRADES[0])
        public_rows = len(public.search({"q": public_q})["results"])
    sizes = dict(sqla.session.execute(
        select(Draw.public_id, func.count(VisitTask.id)).join(VisitTask,
                                                              VisitTask.draw_id == Draw.id)
        .where(Draw.public_id.in_(list(draws.values()))).group_by(Draw.public_id)).tuples().all())
    return {"visits": sqla.session.scalar(select(func.count(Visit.id))),
            "draw_size": sizes.get(draws["directed"], 0),
            "draw_undirected_size": sizes.get(draws["undirected"], 0),
            "employer_id": pick.employer_id, "credit_code": pick.employer.credit_code,
            "pack_visit": pick.number, "earlier_visits": earlier.get(pick.employer_id, 1) - 1,
            "draw": draws["directed"], "draw_undirected": draws["undirected"],
            "office_q": office_q, "office_rows": len(found.items),
            "public_q": public_q, "public_rows": public_rows, "my_visits": len(mine)}


# ---------------------------------------------------------------------------- the servers
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, cookie: str = "", timeout: float = 60
         ) -> tuple[int, dict, bytes]:
    """One GET without following redirects: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


class Server:
    """gunicorn with :data:`WORKERS` sync workers on a free port, its log in ``log``."""

    def __init__(self, app: str, env: dict, log: Path):
        self.port = _free_port()
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "-w", str(WORKERS),
             "-b", f"127.0.0.1:{self.port}", "--timeout", "120", app],
            cwd=str(ROOT), env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"gunicorn stopped (see {self.log.name})")
            try:
                if _get(self.port, path)[0] < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        sys.exit(f"gunicorn did not answer {path} within {timeout:.0f} s (see {self.log.name})")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def app_env(db: Database) -> dict:
    """The platform's settings for the benchmark: its database and file store, a fixed
    key, an idle sign-out long enough for the whole run, and one trusted reverse proxy (the
    public pages' visitors come with their own addresses: :data:`VISITORS_LUA`). No Redis:
    the limits count in the database, as by default."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("INSPECTION_") and k not in ("DATABASE_URL", "REDIS_URL",
                                                            "SECRET_KEY")}
    from ._data import SECRET_KEY

    env.update({"DATABASE_URL": db.url, "SECRET_KEY": SECRET_KEY,
                "INSPECTION_FILE_STORE": str(db.files), "INSPECTION_DEMO_MODE": "0",
                "INSPECTION_SESSION_IDLE_MINUTES": "600", "INSPECTION_TRUSTED_PROXIES": "1"})
    return env


def _cookies(headers: list[tuple[str, str]], jar: dict) -> None:
    for name, value in headers:
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _sep, val = pair.partition("=")
            jar[key.strip()] = val.strip()


def login(port: int, username: str) -> str:
    """The Cookie header of a session signed in through the sign-in form."""
    jar: dict[str, str] = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/login")
        response = conn.getresponse()
        html = response.read().decode()
        _cookies(response.getheaders(), jar)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
        if not token:
            sys.exit("no CSRF token on the sign-in page")
        body = urlencode({"csrf_token": token.group(1), "username": username,
                          "password": PASSWORD, "next": ""})
        conn.request("POST", "/login", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
        response = conn.getresponse()
        response.read()
        _cookies(response.getheaders(), jar)
        if response.status != 302:
            sys.exit(f"signing in as {username} failed ({response.status})")
    finally:
        conn.close()
    return "; ".join(f"{k}={v}" for k, v in jar.items())


# ---------------------------------------------------------------------------- the measure
@dataclass
class Endpoint:
    name: str
    path: str
    user: str            # "" (public), "office" or "inspector1"
    target: float        # DETAIL_TARGET or LIST_TARGET
    extra: bool = False  # measured and reported, not among the targets
    note: str = ""


def endpoints(manifest: dict) -> list[Endpoint]:
    q_office = urlencode({"q": manifest["office_q"]})
    q_public = urlencode({"q": manifest["public_q"]})
    return [
        Endpoint("employer", f"/employers/{manifest['employer_id']}", "office", DETAIL_TARGET,
                 note="the office's page of one employer, with its history"),
        Endpoint("employer_json", f"/api/v1/employers/{manifest['credit_code']}", "office",
                 DETAIL_TARGET, note="the same employer from the JSON API"),
        Endpoint("visit_pack", f"/api/v1/field/visits/{manifest['pack_visit']}/pack",
                 "inspector1", DETAIL_TARGET,
                 note=f"the field app's visit pack ({manifest['earlier_visits']} earlier "
                      "visit(s) of the employer)"),
        Endpoint("draw", f"/public/draws/{manifest['draw']}", "", DETAIL_TARGET,
                 note=f"public page of the directed draw ({manifest.get('draw_size', '?')} "
                      "employers drawn)"),
        Endpoint("my_visits", "/my/visits", "inspector1", LIST_TARGET,
                 note=f"the inspector's visit list ({manifest['my_visits']} rows)"),
        Endpoint("employer_search", f"/employers/?{q_office}", "office", LIST_TARGET,
                 note=f"the office's employer search, name prefix "
                      f"({manifest['office_rows']} rows)"),
        Endpoint("public_results", f"/public/results?{q_public}", "", LIST_TARGET,
                 note=f"the public results search, name contains ({manifest['public_rows']} "
                      "rows, the page's size)"),
        Endpoint("draw_undirected", f"/public/draws/{manifest['draw_undirected']}", "",
                 DETAIL_TARGET, extra=True,
                 note=f"public page of the undirected draw over the whole directory "
                      f"({manifest.get('draw_undirected_size', '?')} employers drawn)"),
        Endpoint("field_visits", "/api/v1/field/visits", "inspector1", LIST_TARGET, extra=True,
                 note="the field app's visit list (each visit with its pack's ETag)"),
    ]


#: A wrk script that sends every request from another client address (``X-Forwarded-For``,
#: which the platform trusts behind one proxy: ``TRUSTED_PROXIES=1``), as the visitors of
#: the public pages come: their limit per address (``PUBLIC_REQUESTS_PER_MINUTE``) then
#: counts each request, as in use, and never refuses the benchmark's one machine.
VISITORS_LUA = """\
request = function()
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255),
                                             math.random(0, 255), math.random(1, 254))
  return wrk.format(nil, nil, headers)
end
"""


def wrk(port: int, path: str, cookie: str, seconds: float, visitors: bool = False) -> dict:
    args = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s",
            "--latency", "--timeout", "30s"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    if visitors:
        script = STORE / "visitors.lua"
        if not script.exists() or script.read_text() != VISITORS_LUA:
            script.write_text(VISITORS_LUA)
        args += ["-s", str(script)]
    proc = subprocess.run([*args, f"http://127.0.0.1:{port}{path}"], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"wrk failed ({proc.returncode}): {proc.stderr.strip()}")
    return parse_wrk(proc.stdout)


def probe(port: int, path: str, cookie: str) -> int:
    """The body size of one GET, which must answer 200. After a run of wrk it also waits
    until the server has worked off what wrk left queued: sync workers answer every request
    they accepted, even one whose client has gone, and a slow page leaves up to 32 of them
    (the next run would otherwise share the workers with them)."""
    status, _headers, body = _get(port, path, cookie, timeout=1800)
    if status != 200:
        sys.exit(f"GET {path} answered {status}, not 200")
    return len(body)


def run_one(port: int, path: str, cookie: str, duration: float, warmup: float,
            visitors: bool = False) -> dict:
    size = probe(port, path, cookie)
    if warmup:
        wrk(port, path, cookie, warmup, visitors)
        probe(port, path, cookie)
    figures = wrk(port, path, cookie, duration, visitors)
    probe(port, path, cookie)                   # still signed in, still 200
    if figures["non_2xx"] or any(figures["socket_errors"].values()):
        print(f"  warning: {path}: {figures['non_2xx']} responses not 2xx/3xx, socket "
              f"errors {figures['socket_errors']}", flush=True)
    figures["kb_per_response"] = round(size / 1024, 1)
    return figures


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(db: Database, manifest: dict, duration: float, warmup: float,
            explain: bool, only: list[str] | None = None) -> dict:
    logs = STORE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    load_before = _load()
    env = app_env(db)
    base_env = dict(env, BENCH_DATABASE_URL=db.engine_url)
    server = Server("app:app", env, logs / f"api-{db.kind}-app.log")
    baseline = Server("bench._baseline:create_app()", base_env,
                      logs / f"api-{db.kind}-baseline.log")
    try:
        server.wait("/healthz")
        base_path = f"/employers/{manifest['employer_id']}"
        baseline.wait(base_path)
        cookies = {"": "", "office": login(server.port, "office"),
                   "inspector1": login(server.port, "inspector1")}
        measured = {}
        chosen = [ep for ep in endpoints(manifest) if not only or ep.name in only]
        if not chosen:
            sys.exit(f"no endpoint named {', '.join(only)}: "
                     f"{', '.join(ep.name for ep in endpoints(manifest))}")
        for ep in chosen:
            # The baseline right before each endpoint: on a shared machine the load changes
            # from minute to minute, and each ratio then compares runs under the same load.
            base = run_one(baseline.port, base_path, "", duration, warmup)
            figures = run_one(server.port, ep.path, cookies[ep.user], duration, warmup,
                              visitors=not ep.user)
            measured[ep.name] = (ep, figures, base)
            print(f"  {ep.name:16} {figures['rps']:8.1f} req/s, p99 {_ms(figures['p99_ms'])} "
                  f"ms, {figures['kb_per_response']} KB; baseline {base['rps']:.1f} req/s, "
                  f"p99 {_ms(base['p99_ms'])} ms", flush=True)
    finally:
        server.stop()
        baseline.stop()
    bases = [base for _ep, _figures, base in measured.values()]
    out_endpoints = {}
    for name, (ep, figures, base) in measured.items():
        errors = bool(figures["non_2xx"] or any(figures["socket_errors"].values()))
        entry = {"path": ep.path, "rps": round(figures["rps"], 1),
                 "p50_ms": figures["p50_ms"], "p99_ms": figures["p99_ms"],
                 "kb": figures["kb_per_response"], "baseline_rps": round(base["rps"], 1),
                 **verdict(figures["rps"], figures["p99_ms"], base["rps"], ep.target, errors)}
        if ep.extra:
            entry["extra"] = True
        if errors:
            entry["errors"] = {"non_2xx": figures["non_2xx"], **figures["socket_errors"]}
        out_endpoints[name] = entry
    results = {
        "employers": manifest["employers"], "visits": manifest["visits"],
        "build_seconds": manifest["build_seconds"],
        "baseline_rps": round(sum(b["rps"] for b in bases) / len(bases), 1),
        "baseline_rps_range": [round(min(b["rps"] for b in bases), 1),
                               round(max(b["rps"] for b in bases), 1)],
        "baseline_p99_ms": max(b["p99_ms"] or 0 for b in bases),
        "endpoints": out_endpoints, "load_before": load_before, "load_after": _load(),
    }
    missed = [ep for ep, _f, _b in measured.values() if not out_endpoints[ep.name]["met"]]
    print(table(db.kind, results), flush=True)
    if explain and missed:
        results["profiles"] = explain_requests(db, missed, base_path)
        print(profiles_table(results["profiles"]), flush=True)
    return results


# ---------------------------------------------------------------------------- where time goes
#: Packages the profile's own time is summed by (the first whose path part matches). Time
#: in functions written in C (the database driver's calls, hashing, str and dict methods)
#: has no file: "C calls".
_AREAS = (("sqlalchemy", "sqlalchemy"), ("jinja2", "jinja2"), ("markupsafe", "jinja2"),
          ("templates", "jinja2"), ("<template>", "jinja2"), ("flask_babel", "babel"),
          ("babel", "babel"),
          ("marshmallow", "marshmallow"), ("flask_smorest", "marshmallow"),
          ("flask_login", "flask"), ("flask_wtf", "flask"), ("wtforms", "flask"),
          ("werkzeug", "flask"), ("flask", "flask"), ("psycopg", "driver"),
          ("inspection", "inspection"), ("qrcode", "qrcode"))


def _area(filename: str) -> str:
    if filename == "~":
        return "C calls"
    parts = filename.replace("\\", "/").split("/")
    for key, area in _AREAS:
        if key in parts or filename.startswith(key):
            return area
    if "site-packages" not in parts and "/lib/python" in filename:
        return "stdlib"
    return "other"


def explain_requests(db: Database, missed: list[Endpoint], baseline_path: str,
                     rounds: int = 20) -> dict:
    """For each endpoint missed, and for the baseline: one request at a time in this
    process (the Flask test client, the same database): milliseconds per request (the
    median of ``rounds``, or of as many as fit in 5 s), SQL statements per request and their
    milliseconds, and the profile's own time by package (its share of the total, shares of
    2 % and more) over as many requests again."""
    import cProfile
    import itertools
    import pstats
    import statistics

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from . import _data

    app = _data.make_app(db.url, db.files, SESSION_IDLE_MINUTES=600)
    from ._baseline import create_app as baseline_app

    # Each request pushes its own app context (an outer one would be shared by the
    # requests, and with it the signed-in user of the first).
    clients = {}
    for user in {ep.user for ep in missed}:
        client = app.test_client()
        if user:
            html = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
            client.post("/login", data={"csrf_token": token.group(1), "username": user,
                                        "password": PASSWORD, "next": ""})
        clients[user] = client
    stats = {"n": 0, "sql": 0.0}

    def before(conn, cursor, statement, params, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def after(conn, cursor, statement, params, context, executemany):
        stats["n"] += 1
        stats["sql"] += time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())

    addresses = itertools.count(1)

    def one(client, path: str, visitors: bool = False) -> dict:
        def get():
            # As under wrk: the public pages' visitors each come from their own address.
            n = next(addresses)
            environ = {"REMOTE_ADDR": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"} \
                if visitors else {}
            return client.get(path, environ_base=environ)

        get()
        stats.update(n=0, sql=0.0)
        times: list[float] = []
        # ``rounds`` requests, or fewer (three at least) when they take over 5 s together.
        while len(times) < rounds and (len(times) < 3 or sum(times) < 5):
            t0 = time.perf_counter()
            response = get()
            times.append(time.perf_counter() - t0)
            if response.status_code != 200:
                sys.exit(f"GET {path} answered {response.status_code} in this process")
        statements, sql_ms = stats["n"] / len(times), stats["sql"] * 1000 / len(times)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in times:
            get()
        profiler.disable()
        by_area: dict[str, float] = {}
        for (filename, _line, _fn), (_cc, _nc, own, _cum, _callers) in \
                pstats.Stats(profiler).stats.items():
            area = _area(filename)
            by_area[area] = by_area.get(area, 0.0) + own
        total = sum(by_area.values()) or 1.0
        return {"ms_per_request": round(statistics.median(times) * 1000, 2),
                "statements": round(statements, 1), "sql_ms": round(sql_ms, 2),
                "own_time_share": {a: round(t / total, 3) for a, t in
                                   sorted(by_area.items(), key=lambda x: -x[1])
                                   if t / total >= 0.02}}

    out = {}
    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    try:
        out["baseline"] = one(baseline_app(db.engine_url).test_client(), baseline_path)
        for ep in missed:
            out[ep.name] = one(clients[ep.user], ep.path, visitors=not ep.user)
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)
    return out


# ---------------------------------------------------------------------------- the report
def table(kind: str, result: dict) -> str:
    low, high = result["baseline_rps_range"]
    lines = [f"{kind}: {result['employers']:,} employers, {result['visits']:,} visits "
             f"(built in {result['build_seconds']:.0f} s); baseline {result['baseline_rps']:.1f}"
             f" req/s on average ({low:.1f} to {high:.1f}), p99 up to "
             f"{result['baseline_p99_ms']:.1f} ms; load {result['load_before']} -> "
             f"{result['load_after']}",
             f"  {'endpoint':16} {'req/s':>8} {'base':>8} {'ratio':>6} {'target':>6} "
             f"{'p50 ms':>8} {'p99 ms':>8} {'KB':>7}  met"]
    for name, e in result["endpoints"].items():
        met = ("yes" if e["met"] else "NO") + (" (extra)" if e.get("extra") else "")
        if e.get("errors"):
            met += " errors: " + ", ".join(f"{k} {v}" for k, v in e["errors"].items() if v)
        lines.append(f"  {name:16} {e['rps']:8.1f} {e['baseline_rps']:8.1f} {e['ratio']:6.3f} "
                     f"{e['target']:6.2f} {_ms(e['p50_ms']):>8} {_ms(e['p99_ms']):>8} "
                     f"{e['kb']:7.1f}  {met}")
    return "\n".join(lines)


def profiles_table(profiles: dict) -> str:
    lines = ["  where the time goes (one request at a time, in this process):"]
    for name, p in profiles.items():
        shares = ", ".join(f"{a} {s:.0%}" for a, s in p["own_time_share"].items())
        lines.append(f"  {name}: {p['ms_per_request']:.1f} ms a request, "
                     f"{p['statements']:g} statements ({p['sql_ms']:.1f} ms); own time: "
                     f"{shares}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="",
                        help="default: both, PostgreSQL when its server answers")
    parser.add_argument("--employers", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds of wrk per endpoint (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="seconds of wrk before each measured run (default 2; 0: none)")
    parser.add_argument("--postgresql-url",
                        default=os.environ.get("BENCH_POSTGRESQL_URL", DEFAULT_POSTGRESQL),
                        help="the scratch database (default $BENCH_POSTGRESQL_URL or "
                             f"{DEFAULT_POSTGRESQL}); made if missing")
    parser.add_argument("--rebuild", action="store_true", help="build even if a kept "
                        "database of the same size is there")
    parser.add_argument("--only", default="",
                        help="measure only these endpoints (names, comma-separated)")
    parser.add_argument("--no-explain", action="store_true",
                        help="do not profile the endpoints that miss a target")
    parser.add_argument("--build", action="store_true",
                        help="build the databases (or keep them) and stop")
    parser.add_argument("--build-only", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    kinds = ("sqlite", "postgresql") if args.database in ("both", "") else (args.database,)
    if not args.database and not args.build_only and not _server_answers(args.postgresql_url):
        print(f"PostgreSQL does not answer at {urlsplit(args.postgresql_url).netloc}: "
              "SQLite only (--database postgresql to insist)", flush=True)
        kinds = ("sqlite",)

    if args.build_only:                         # the child process that builds
        db = database(args.build_only, args.postgresql_url)
        empty(db)
        manifest = build(db, args.employers, args.visits)
        db.manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
        return manifest

    if not args.build and shutil.which("wrk") is None:
        sys.exit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    out: dict = {}
    for kind in kinds:
        db = database(kind, args.postgresql_url)
        manifest = ensure_built(db, args)
        if args.build:
            continue
        out[kind] = measure(db, manifest, args.duration, args.warmup, not args.no_explain,
                            [n for n in args.only.split(",") if n])
    if not args.build:
        print(json.dumps(out, ensure_ascii=False))
    return out


def _server_answers(url: str) -> bool:
    """Whether the PostgreSQL server of ``url`` takes a connection (to its ``postgres``
    database: the benchmark's own may not exist yet)."""
    import psycopg

    parts = urlsplit(url)
    try:
        psycopg.connect(parts._replace(scheme="postgresql", path="/postgres").geturl(),
                        connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def ensure_built(db: Database, args) -> dict:
    """The manifest of the database of ``db``'s kind at the size asked: the kept one, or
    one built now in a child process (its memory is not this process's)."""
    from ._data import run_child

    manifest = None if args.rebuild else kept(db, args.employers, args.visits)
    if manifest is not None:
        print(f"== {db.kind}: kept database ({manifest['employers']:,} employers, "
              f"{manifest['visits']:,} visits, built in {manifest['build_seconds']} s)",
              flush=True)
        return manifest
    print(f"== {db.kind}: building {args.employers:,} employers and {args.visits:,} visits",
          flush=True)
    status, output, seconds, peak = run_child(
        [sys.executable, "-m", "bench.api", "--build-only", db.kind, "--employers",
         str(args.employers), "--visits", str(args.visits), "--postgresql-url",
         args.postgresql_url], cwd=str(ROOT))
    print("".join(line for line in output.splitlines(keepends=True)
                  if not line.startswith("INFO  [alembic")), end="", flush=True)
    if status:
        sys.exit(f"building the {db.kind} database failed ({status})")
    manifest = json.loads(db.manifest.read_text())
    manifest.update(build_seconds=round(seconds, 1), build_peak_mb=peak)
    db.manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    print(f"built in {seconds:.1f} s (peak {peak:.0f} MB)", flush=True)
    return manifest


if __name__ == "__main__":
    os.environ.setdefault("INSPECTION_DEMO_MODE", "0")
    main()
