"""Helpers the tests share: the password of test users and a client that behaves like a
person filling in forms (open the page, take its CSRF token, submit)."""
from __future__ import annotations

import re

from sqlalchemy import text

PASSWORD = "Correct-horse-42"


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or \
        re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


class Client:
    """The Flask test client with the steps a person takes: open the form, then submit it."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()

    def get(self, *a, **kw):
        return self.http.get(*a, **kw)

    def token(self, path: str = "/login") -> str:
        return csrf_from(self.http.get(path).get_data(as_text=True))

    def post_form(self, path: str, data: dict, token_from: str | None = None, **kw):
        data = dict(data)
        data.setdefault("csrf_token", self.token(token_from or path))
        return self.http.post(path, data=data, **kw)

    def login(self, username: str, password: str = PASSWORD):
        return self.post_form("/login", {"username": username, "password": password})

    def api_token(self) -> str:
        return self.http.get("/api/v1/auth/csrf-token").get_json()["csrf_token"]

    def api(self, method: str, path: str, json=None, **kw):
        headers = kw.pop("headers", {})
        if method.upper() not in ("GET", "HEAD"):
            headers.setdefault("X-CSRFToken", self.api_token())
        return self.http.open(path, method=method.upper(), json=json, headers=headers, **kw)


def empty_database() -> None:
    """Empty every table a test wrote to (inside an app context) and restart the audit chain
    and the id sequences it used: what each test leaves is gone before the next one.

    One statement finds the tables that hold rows (and, on PostgreSQL, the sequences that
    were read); only those are emptied, in one round trip: most tests write to a handful of
    the sixty-odd tables, and emptying all of them after every test cost more than many
    tests themselves."""
    from inspection.core import audit
    from inspection.extensions import db

    filled, sequences = _written(db)
    if not filled and not sequences:
        db.session.rollback()
        return
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql and not _can_replay(db) and filled:
        names = ", ".join(f'"{name}"' for name in filled)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    elif postgresql and (filled or sequences):
        # DELETE with triggers off (the append-only and kept tables refuse it otherwise), and
        # the sequences restarted, in one round trip: on the small tables of a test this is
        # some twenty times faster than TRUNCATE, which replaces each table's files.
        db.session.connection().connection.cursor().execute(
            "SET LOCAL session_replication_role = replica;"
            + "".join(f'DELETE FROM "{name}";' for name in filled)
            + "".join(f'ALTER SEQUENCE "{name}" RESTART;' for name in sequences))
    else:
        for name in filled:
            db.session.execute(text(f'DELETE FROM "{name}"'))
    if "audit_head" in filled:
        audit.ensure_head()
    db.session.commit()


def _written(db) -> tuple[list[str], list[str]]:
    """The tables holding rows, children first (the audit head only when the chain moved),
    and on PostgreSQL the sequences read since their last restart: one statement."""
    if not hasattr(_written, "sql"):
        parts = []
        for table in reversed(db.metadata.sorted_tables):
            where = " WHERE seq <> 0" if table.name == "audit_head" else ""
            parts.append(f"SELECT 't', '{table.name}' WHERE EXISTS "
                         f'(SELECT 1 FROM "{table.name}"{where})')
        if db.engine.dialect.name == "postgresql":
            parts.append("SELECT 's', sequencename::text FROM pg_sequences WHERE "
                         "schemaname = current_schema() AND last_value IS NOT NULL")
        _written.sql = text(" UNION ALL ".join(parts))
        _written.order = {t.name: n for n, t in enumerate(reversed(db.metadata.sorted_tables))}
    rows = db.session.execute(_written.sql).all()
    tables = sorted((name for kind, name in rows if kind == "t"), key=_written.order.__getitem__)
    return tables, [name for kind, name in rows if kind == "s"]


# --- builders run once, their database replayed ----------------------------------------------
#
# Building a bureau through the real draws takes most of a fieldwork test's time. A builder
# decorated with @replayed runs for real the first time it is called with given arguments on a
# given database state; the database it leaves (every row, and the id sequences) is kept, and
# a later call with the same arguments on the same state puts that database back instead of
# building again, and returns a copy of the first call's result. "The same state" is checked
# row by row (date-times and the audit chain's hashes aside, which differ between two real
# runs anyway); any other state, or another SETTINGS, runs the builder for real.

_VOLATILE = {("audit_entry", "hash"), ("audit_entry", "prev_hash"), ("audit_head", "hash")}
_REPLAYS: dict = {}


def replayed(builder):
    import copy
    import functools

    @functools.wraps(builder)
    def run(*args, **kwargs):
        from flask import current_app

        from inspection.extensions import db

        if not _can_replay(db):
            return builder(*args, **kwargs)
        key = (builder.__module__, builder.__qualname__, repr(args),
               repr(sorted(kwargs.items())), repr(current_app.config.get("SETTINGS")),
               _state_digest(db))
        kept = _REPLAYS.get(key)
        if kept is not None:
            _restore(db, kept[0])
            return copy.deepcopy(kept[1])
        result = builder(*args, **kwargs)
        if _plain(result) and not (db.session.new or db.session.dirty or db.session.deleted):
            _REPLAYS[key] = (_dump(db), copy.deepcopy(result))
        return result
    return run


def _plain(value) -> bool:
    """Only results made of plain values (ids, numbers, names) are kept: no ORM objects."""
    import dataclasses

    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return all(_plain(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


def _can_replay(db) -> bool:
    """SQLite always; PostgreSQL when the tests' role may switch triggers off for a restore
    (the audit chain and the kept tables refuse DELETE by trigger)."""
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        return True
    if dialect != "postgresql":
        return False
    if not hasattr(_can_replay, "superuser"):
        from sqlalchemy import text
        _can_replay.superuser = db.session.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar() is True
    return _can_replay.superuser


def _tables(db):
    return list(db.metadata.sorted_tables)


def _cursor(db):
    """A cursor of the session's own connection (its transaction): rows are read and written
    as the driver gives them, with no type conversion either way."""
    return db.session.connection().connection.cursor()


def _select(table, columns) -> str:
    names = ", ".join(f'"{c.name}"' for c in columns)
    order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
    return f'SELECT {names} FROM "{table.name}" ORDER BY {order}'


def _state_digest(db) -> str:
    import hashlib

    from sqlalchemy import DateTime

    digest = hashlib.sha256()
    cursor = _cursor(db)
    for table in _tables(db):
        keep = [c for c in table.columns
                if not isinstance(c.type, DateTime) and (table.name, c.name) not in _VOLATILE]
        cursor.execute(_select(table, keep))
        digest.update(repr((table.name, cursor.fetchall())).encode())
    return digest.hexdigest()


def _sequences(db) -> list:
    from sqlalchemy import text

    if db.engine.dialect.name == "postgresql":
        return db.session.execute(text(
            "SELECT sequencename, last_value FROM pg_sequences "
            "WHERE schemaname = current_schema() ORDER BY sequencename")).all()
    has = db.session.execute(text(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first()
    return db.session.execute(text("SELECT name, seq FROM sqlite_sequence")).all() if has else []


def _dump(db) -> dict:
    """Every row of every table, as the database holds it (PostgreSQL: COPY's text form)."""
    cursor = _cursor(db)
    rows = []
    for table in _tables(db):
        if db.engine.dialect.name == "postgresql":
            with cursor.copy(f'COPY "{table.name}" TO STDOUT') as copy:
                rows.append((table, b"".join(bytes(block) for block in copy)))
        else:
            cursor.execute(_select(table, table.columns))
            rows.append((table, cursor.fetchall()))
    return {"rows": rows, "sequences": _sequences(db)}


def _restore(db, snapshot: dict) -> None:
    """Put the database back as ``snapshot`` found it, in one transaction."""
    from sqlalchemy import text

    session = db.session
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        # Triggers off for this transaction: the append-only and kept tables, and the
        # reference checks (the rows were checked when they were first written).
        session.execute(text("SET LOCAL session_replication_role = replica"))
    for table in reversed(_tables(db)):
        session.execute(table.delete())
    cursor = _cursor(db)
    if not postgres:
        cursor.execute("PRAGMA defer_foreign_keys = ON")
    for table, rows in snapshot["rows"]:
        if not rows:
            continue
        if postgres:
            with cursor.copy(f'COPY "{table.name}" FROM STDIN') as copy:
                copy.write(rows)
        else:
            names = ", ".join(f'"{c.name}"' for c in table.columns)
            marks = ", ".join("?" for _c in table.columns)
            cursor.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', rows)
    if postgres:
        for name, last in snapshot["sequences"]:
            session.execute(text("SELECT setval(:name, :value, :called)"),
                            {"name": f'"{name}"', "value": last or 1,
                             "called": last is not None})
    elif snapshot["sequences"] or _sequences(db):
        session.execute(text("DELETE FROM sqlite_sequence"))
        for name, seq in snapshot["sequences"]:
            session.execute(text("INSERT INTO sqlite_sequence (name, seq) VALUES (:n, :s)"),
                            {"n": name, "s": seq})
    session.commit()


class DrawClock:
    """The draws' clock in tests: the real clock plus an offset that moves forward where a test
    would otherwise sleep until a declared public source is known (``wait_until_known`` in
    tests/draws/target_support.py, the demo's own source in ``inspection.demo.wait_until``).

    The server reads the time lock's clock in two places, the commitments (preparation,
    entering a source's value, execution) and the public log (when an entry is logged):
    :meth:`install` points both at this clock, so every order the verifier checks (committed
    and logged before a source is known, executed after, the result logged after the
    execution) holds as with real time. The lock itself is tested against fixed moments
    (tests/draws/test_time_lock.py), and the demo's real wait there too."""

    def __init__(self) -> None:
        from datetime import timedelta
        self.offset = timedelta(0)

    def utcnow(self):
        from inspection.core.models import utcnow
        return utcnow() + self.offset

    def local(self):
        from datetime import datetime

        from inspection.core.timeutil import LOCAL
        return datetime.now(LOCAL) + self.offset

    def wait_until(self, moment) -> None:
        """Move the clock to just after ``moment`` (an aware datetime) if it is ahead."""
        from datetime import timedelta
        ahead = moment - self.local()
        if ahead > timedelta(0):
            self.offset += ahead + timedelta(milliseconds=1)

    def _places(self):
        from inspection import demo
        from inspection.draws import commitments, public_log
        return ((commitments, "utcnow", self.utcnow), (public_log, "utcnow", self.utcnow),
                (demo, "wait_until", self.wait_until))

    def install(self) -> None:
        self.originals = [(module, name, getattr(module, name))
                          for module, name, _ in self._places()]
        for module, name, ours in self._places():
            setattr(module, name, ours)

    def real_time(self, monkeypatch) -> None:
        """For one test: the real clock and the real waits again."""
        for module, name, original in self.originals:
            monkeypatch.setattr(module, name, original)


CLOCK = DrawClock()
