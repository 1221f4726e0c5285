"""Benchmark: import 10^6 employers (with validation) against the database's own bulk path.

    python -m bench.import_employers [--rows N] [--database-url URL]

A CSV of ``N`` valid rows is generated first in a temporary directory (not timed). Then, in the
same run and the same database:

- the import: :func:`inspection.directory.employers.importer.import_file`, the path the web page
  and the CLI use (streamed reading, validation of every field, per-batch look-up of existing
  codes, bulk upsert, one transaction, one audit entry);
- the baseline: the database's own bulk path for the same rows into an equivalent fresh table
  (same columns, constraints and indexes): for SQLite one DB-API ``executemany`` fed straight
  from ``csv.reader``, with the same pragmas; for PostgreSQL ``COPY ... FROM STDIN``.

The default database is a fresh SQLite file in the temporary directory. A PostgreSQL URL must
name a scratch database: the schema is migrated there and the two tables must be empty.
The last line printed is one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import MetaData, func, select, text


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: Path, rows: int, seed: int = 4754) -> None:
    """Valid, unique rows (codes from a counter, so no set of codes is needed)."""
    from inspection.directory import credit_code as cc
    from inspection.directory.employers.importer import COLUMNS
    from inspection.directory.reference import DEMO_REGIONS, EMPLOYER_TYPES, INDUSTRIES

    rng = random.Random(seed)
    regions = [r[0] for r in DEMO_REGIONS]
    types = [t[0] for t in EMPLOYER_TYPES]
    industries = [i[0] for i in INDUSTRIES]
    alphabet = cc.ALPHABET
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([c.zh for c in COLUMNS])
        for n in range(rows):
            body, k = "", n
            for _ in range(6):
                k, r = divmod(k, 31)
                body = alphabet[r] + body
            code = cc.make_code("9", "1", "370305", "MA" + body)
            writer.writerow([
                code, f"淄博{rng.choice('鑫盛华宇齐鲁金岭宏达恒信')}{n}机械有限公司", rng.choice(types),
                f"山东省淄博市临淄区桓公路{n % 999 + 1}号", rng.choice(regions),
                rng.choice(industries), "张三", f"0533-7{n % 1000000:06d}",
                str(rng.randint(1, 500)), rng.choice("AAAAAABBBC"), "否", "否",
                "是" if n % 50 == 0 else "否", "在营", ""])


def _baseline_table(db):
    """A copy of the employer table (columns, constraints, indexes) under another name."""
    from inspection.directory.models import Employer

    md = MetaData()
    db.metadata.tables["region"].to_metadata(md)
    db.metadata.tables["import_batch"].to_metadata(md)
    db.metadata.tables["user"].to_metadata(md)
    db.metadata.tables["department"].to_metadata(md)
    table = Employer.__table__.to_metadata(md, name="employer_baseline")
    for item in list(table.indexes) + list(table.constraints):
        if item.name:
            item.name = str(item.name).replace("employer", "employer_baseline", 1)
    return table


_COLS = ("credit_code", "name", "employer_type", "address", "region_code", "industry",
         "legal_representative", "contact_phone", "employees", "risk_grade", "flag_complaints",
         "flag_abnormal", "flag_serious_violation", "status", "notes", "version", "created_at",
         "updated_at")
_YES = {"是": True, "否": False}


def _baseline_rows(path: Path, now):
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        for c in reader:
            yield (c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], int(c[8]), c[9],
                   _YES[c[10]], _YES[c[11]], _YES[c[12]], "active", c[14], 1, now, now)


def baseline(db, path: Path) -> float:
    from inspection.core.models import utcnow

    table = _baseline_table(db)
    engine = db.engine
    table.drop(engine, checkfirst=True)
    table.create(engine)
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        start = time.perf_counter()
        if engine.dialect.name == "postgresql":
            with driver.cursor() as cursor, cursor.copy(
                    f"COPY employer_baseline ({', '.join(_COLS)}) FROM STDIN") as copy:
                for row in _baseline_rows(path, utcnow()):
                    copy.write_row(row)
        else:
            driver.execute("PRAGMA cache_size = -131072")  # as the importer
            now = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
            driver.executemany(
                f"INSERT INTO employer_baseline ({', '.join(_COLS)}) "
                f"VALUES ({', '.join('?' * len(_COLS))})", _baseline_rows(path, now))
        driver.commit()
        seconds = time.perf_counter() - start
    finally:
        raw.close()
    with engine.begin() as conn:
        count = conn.execute(text("SELECT count(*) FROM employer_baseline")).scalar()
    table.drop(engine)
    assert count == sum(1 for _ in path.open(encoding="utf-8")) - 1, count
    return seconds


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-employers-") as tmp:
        tmp_path = Path(tmp)
        csv_path = tmp_path / "employers.csv"
        t0 = time.perf_counter()
        generate(csv_path, args.rows)
        print(f"generated {args.rows} rows in {time.perf_counter() - t0:.1f} s "
              f"({csv_path.stat().st_size / 1e6:.0f} MB)", flush=True)

        url = args.database_url or f"sqlite:///{tmp_path / 'bench.sqlite3'}"
        from flask_migrate import upgrade

        from inspection import create_app
        from inspection.core import audit
        from inspection.directory.employers import importer
        from inspection.directory.employers.demo import seed_regions
        from inspection.directory.models import Employer
        from inspection.extensions import db

        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 40,
                          "FILE_STORE": str(tmp_path / "files")})
        with app.app_context():
            upgrade()
            audit.ensure_head()
            db.session.commit()
            if db.session.scalar(select(func.count(Employer.id))):
                sys.exit("the employer table is not empty: use a scratch database")
            seed_regions()

            start = time.perf_counter()
            report = importer.import_file(csv_path, actor=None)
            import_s = time.perf_counter() - start
            assert report.created == args.rows and report.rows_invalid == 0, report.summary()
            assert db.session.scalar(select(func.count(Employer.id))) == args.rows
            rss_import = _rss_mb()
            print(f"import:   {args.rows} rows in {import_s:.2f} s = "
                  f"{args.rows / import_s:,.0f} rows/s (peak RSS {rss_import:.0f} MB)", flush=True)

            base_s = baseline(db, csv_path)
            print(f"baseline: {args.rows} rows in {base_s:.2f} s = "
                  f"{args.rows / base_s:,.0f} rows/s ({db.engine.dialect.name}: "
                  f"{'COPY' if db.engine.dialect.name == 'postgresql' else 'executemany'})",
                  flush=True)
            if args.database_url:  # leave a scratch database as we found it
                db.session.execute(text("DELETE FROM employer"))
                db.session.commit()
            db.engine.dispose()

    figures = {
        "rows": args.rows,
        "database": url.split(":", 1)[0],
        "import_seconds": round(import_s, 3),
        "baseline_seconds": round(base_s, 3),
        "import_rows_per_s": round(args.rows / import_s),
        "baseline_rows_per_s": round(args.rows / base_s),
        "ratio": round(base_s / import_s, 3),
        "peak_rss_mb": round(_rss_mb(), 1),
    }
    print(f"ratio import/baseline speed: {figures['ratio']:.2f}")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    os.environ.setdefault("INSPECTION_DEMO_MODE", "0")
    main()
