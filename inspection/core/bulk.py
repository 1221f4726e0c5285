"""Bulk inserts by the database's own fast path (``COPY`` on PostgreSQL, one DB-API
``executemany`` on SQLite), for the draws' tens of thousands of rows."""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import insert

from ..extensions import db


def bulk_insert(table, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                constants: Mapping[str, Any] | None = None) -> None:
    """Insert ``rows`` (tuples of the ``columns``' values; every row also gets ``constants``)
    into ``table`` in the session's transaction, by the database's own bulk path: ``COPY``
    on PostgreSQL (psycopg), one DB-API ``executemany`` on SQLite, each value converted by its
    column type's bind processor as SQLAlchemy would (a constant once). Tens of thousands of
    rows then cost what the database needs, not SQLAlchemy's per-row bookkeeping (four times
    that on SQLite, more on PostgreSQL).

    Falls back to a Core executemany for another driver, or when a column left out has a
    client-side default (which this path would not apply)."""
    if isinstance(rows, (list, tuple)) and not rows:
        return
    constants = dict(constants or {})
    keys = [*columns, *constants]
    conn = db.session.connection()
    dialect = conn.dialect
    defaulted = [c for c in table.c if c.key not in keys and c.default is not None]
    if defaulted or dialect.driver not in ("psycopg", "pysqlite"):
        dicts = [dict(zip(columns, row), **constants) for row in rows]
        if dicts:
            conn.execute(insert(table), dicts)
        return
    processors = [table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
                  for key in keys]
    fixed = tuple(process(value) if process else value
                  for process, value in zip(processors[len(columns):], constants.values()))
    varying = [(n, _memoized(process)) for n, process in enumerate(processors[:len(columns)])
               if process is not None]

    def values() -> Iterator[tuple]:
        if not varying:
            for row in rows:
                yield (*row, *fixed)
            return
        for row in rows:
            out = list(row)
            for n, process in varying:
                out[n] = process(out[n])
            yield (*out, *fixed)

    quote = dialect.identifier_preparer
    names = ", ".join(quote.format_column(table.c[key]) for key in keys)
    cursor = conn.connection.cursor()
    try:
        if dialect.driver == "psycopg":
            with cursor.copy(f"COPY {quote.format_table(table)} ({names}) FROM STDIN") as copy:
                for row in values():
                    copy.write_row(row)
        else:
            # The constants written once into the statement as SQL literals, when they all
            # can be: the rows then go to the driver as they are, not rebuilt one by one.
            literals = [_sqlite_literal(value) for value in fixed]
            if varying or None in literals:
                marks, params = ["?"] * len(keys), values()
            else:
                marks, params = ["?"] * len(columns) + literals, rows
            cursor.executemany(f"INSERT INTO {quote.format_table(table)} ({names}) "
                               f"VALUES ({', '.join(marks)})", params)
    finally:
        cursor.close()


def _sqlite_literal(value: Any) -> str | None:
    """``value`` (as the driver would bind it) as an SQLite literal, or None if it is of a
    kind not spelt out here."""
    if value is None:
        return "NULL"
    if isinstance(value, int):                  # bool too: 1 and 0, as the driver binds it
        return str(int(value))
    if isinstance(value, str) and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def _memoized(process):
    """A bind processor that converts each distinct value once."""
    done: dict = {}

    def convert(value):
        key = (value.__class__, value)          # 1 == 1.0 == True: keep them apart
        try:
            return done[key]
        except KeyError:
            done[key] = converted = process(value)
            return converted
        except TypeError:                       # not hashable
            return process(value)
    return convert
