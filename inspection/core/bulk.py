"""The database's own fast paths for the draws' bulk work, and the driver- and
dialect-specific SQL they take, kept here so that the draws speak plain SQLAlchemy.

* writing: :func:`bulk_insert` (``COPY`` on PostgreSQL, one DB-API ``executemany`` on
  SQLite), for tens of thousands of rows;
* reading: :func:`rows_where_in` and :func:`one_of` (one statement for tens of thousands of
  keys), :func:`text_column` and :func:`first_column` (a million values of one column without
  a Row object each).

Each keeps a portable fallback for another database or driver.
"""
from __future__ import annotations

import json
from operator import itemgetter
from typing import Any, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import ARRAY, String, any_, bindparam, func, insert, select

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


# --- reading ----------------------------------------------------------------------------------

def rows_where_in(key, values: list, *columns) -> list[tuple]:
    """Rows ``(key, *columns)`` of the table of ``key`` whose ``key`` is one of ``values``,
    in the session's transaction: one statement whatever the number of values
    (:func:`one_of`). With psycopg the values go as one array on the DB-API cursor and the
    rows come back as its tuples: for the tens of thousands of codes of a draw, half the
    time of SQLAlchemy's own path."""
    if not values:
        return []
    conn = db.session.connection()
    if conn.dialect.driver == "psycopg":
        quote = conn.dialect.identifier_preparer
        names = ", ".join(quote.format_column(c) for c in (key, *columns))
        cursor = conn.connection.cursor()
        try:
            cursor.execute(f"SELECT {names} FROM {quote.format_table(key.table)} "
                           f"WHERE {quote.format_column(key)} = ANY(%s)", (values,))
            return cursor.fetchall()
        finally:
            cursor.close()
    rows: list[tuple] = []
    for condition in one_of(key, values):
        rows.extend(conn.execute(select(key, *columns).where(condition)).tuples().all())
    return rows


#: Values per IN list where a list must be spelt out: within SQLite's oldest limit of 999
#: bound values.
LOOKUP_CHUNK = 900


def one_of(column, values: list) -> list:
    """Conditions "``column`` is one of ``values``" that together cover ``values``: a single
    condition with a single bound value on PostgreSQL (``= ANY`` of an array) and SQLite
    (``IN`` the rows of ``json_each`` of a JSON array), so that tens of thousands of values
    cost one statement; lists of :data:`LOOKUP_CHUNK` elsewhere."""
    if not values:
        return []
    dialect = db.session.connection().dialect.name
    if dialect == "postgresql":
        return [column == any_(bindparam(None, values, type_=ARRAY(column.type)))]
    if dialect == "sqlite":
        rows = func.json_each(bindparam(None, json.dumps(values), type_=String)) \
            .table_valued("value")
        return [column.in_(select(rows.c.value))]
    return [column.in_(values[i:i + LOOKUP_CHUNK]) for i in range(0, len(values), LOOKUP_CHUNK)]


def first_column(statement) -> list:
    """The first column of every row of ``statement``, in the session's transaction.

    SQLAlchemy compiles the statement and binds its parameters; the rows are then taken from
    the DB-API cursor as they come, without a Row object each: for a million credit codes
    that is the difference between a fraction of a second and several seconds."""
    result = db.session.connection().execute(statement)
    try:
        cursor, first, out = result.cursor, itemgetter(0), []
        while True:
            rows = cursor.fetchmany(_FETCH)
            if not rows:
                return out
            out.extend(map(first, rows))
    finally:
        result.close()


_FETCH = 20_000


def text_column(statement) -> list:
    """The values of the one text column ``statement`` selects (credit codes: no line feed in
    any), in its order as far as the database keeps it (the caller sorts what is not in
    order).

    On SQLite and PostgreSQL the database joins them into one text with line feeds
    (``group_concat`` / ``string_agg`` over the ordered query), which is split here: a
    million codes then cross over as one value instead of a million rows, each a tuple and a
    string made one at a time. The number of rows comes along in the same pass: a value that
    held a line feed would split into more than one, and the values are then read row by row
    (the caller's own checks say what is wrong with them). Elsewhere, row by row."""
    dialect = db.session.connection().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        return first_column(statement)
    rows = statement.subquery()
    code = rows.c[0]
    joined = func.group_concat(code, "\n") if dialect == "sqlite" \
        else func.string_agg(code, "\n")
    count, text = db.session.connection().execute(select(func.count(), joined)).one()
    if not count:
        return []
    codes = text.split("\n")
    if len(codes) != count:
        return first_column(statement)
    return codes
