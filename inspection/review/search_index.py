"""The public results search's index: the two-character pieces (bigrams) of the employer's
name of every published result, kept by the database itself (docs/portal.md, "Search").

The public searches the results by any part of the employer's name (``鑫盛`` finds
``淄博鑫盛机械有限公司``). Chinese names have no spaces to cut words at, and the searches are
short: two characters are the usual case. A trigram index (SQLite's FTS5 ``trigram``
tokenizer, PostgreSQL's ``pg_trgm``) cannot serve a query under three characters, so the
index here is one of bigrams, the same on both databases: table ``public_name_gram``, one
row per (bigram, published result) with the publication time, and an index on (bigram,
publication time, visit) that gives a query's rows newest first, as the page shows them,
without reading any other result. A query of two characters or more reads the rows of one
of its bigrams in that order and checks the name itself (``LIKE``) on them only.

Triggers keep the rows, so that every way of writing is covered (the review's operations,
the bulk loaders, an import renaming an employer), and no operation has to remember it:

* a publication inserted or updated: its visit's rows are written again (none unless its
  status is ``published``);
* an employer renamed: the rows of its published results are written again.

The rows are a superset, never a subset, of what a search may find: the search still joins
the result's current state (visit published, approved determination, the employer's name
``LIKE`` the query), so a row left behind (a visit's employer changed by hand in the
database) can only cost a look-up, never show a wrong result.

Letters are folded to lower case for ASCII only (``A``-``Z``), on both databases and in
:func:`grams`, as SQLite's ``lower()`` does.

:func:`install` makes the triggers and fills the table from the published results; the
migration (``0019``) calls it, and so does the table's ``after_create`` event
(:mod:`.models`), for a schema made from the models.
"""
from __future__ import annotations

#: The longest name the triggers cut (``Employer.name`` is ``String(200)``).
MAX_NAME = 200
#: Characters of the words every company name has: a query's bigram made only of them is
#: read last (its rows are nearly every result).
COMMON = frozenset("有限公司股份责任集团")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """``text`` with ASCII letters in lower case (as the index keeps names)."""
    return text.translate(_ASCII_LOWER)


def grams(query: str) -> list[str]:
    """The distinct bigrams of ``query`` (folded), the most selective first: those that
    are not made only of :data:`COMMON` characters come first, in the query's order. Empty
    for a query under two characters."""
    folded = fold(query)
    seen = list(dict.fromkeys(folded[i:i + 2] for i in range(len(folded) - 1)))
    return [g for g in seen if not set(g) <= COMMON] + [g for g in seen if set(g) <= COMMON]


# --- SQLite ---------------------------------------------------------------------------------
# SQLite forbids WITH in a trigger: the positions in a name come from json_each over a
# constant array.
_POSITIONS = "json_each('[" + ",".join(str(i) for i in range(1, MAX_NAME)) + "]')"

_SQLITE_ROWS = (
    "INSERT OR IGNORE INTO public_name_gram (gram, visit_id, published_at) "
    "SELECT substr(lower({name}), n.value, 2), {visit}, {published_at} "
    "FROM {source}, " + _POSITIONS + " AS n "
    "WHERE n.value < length({name}) AND {where}")

_SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS public_name_gram_publication_insert "
    "AFTER INSERT ON publication BEGIN "
    "DELETE FROM public_name_gram WHERE visit_id = NEW.visit_id; "
    + _SQLITE_ROWS.format(
        name="e.name", visit="NEW.visit_id", published_at="NEW.published_at",
        source="visit AS v JOIN employer AS e ON e.id = v.employer_id",
        where="v.id = NEW.visit_id AND NEW.status = 'published' "
              "AND NEW.published_at IS NOT NULL") + "; END",
    "CREATE TRIGGER IF NOT EXISTS public_name_gram_publication_update "
    "AFTER UPDATE OF status, published_at, visit_id ON publication BEGIN "
    "DELETE FROM public_name_gram WHERE visit_id IN (OLD.visit_id, NEW.visit_id); "
    + _SQLITE_ROWS.format(
        name="e.name", visit="NEW.visit_id", published_at="NEW.published_at",
        source="visit AS v JOIN employer AS e ON e.id = v.employer_id",
        where="v.id = NEW.visit_id AND NEW.status = 'published' "
              "AND NEW.published_at IS NOT NULL") + "; END",
    "CREATE TRIGGER IF NOT EXISTS public_name_gram_employer "
    "AFTER UPDATE OF name ON employer WHEN OLD.name IS NOT NEW.name BEGIN "
    "DELETE FROM public_name_gram WHERE visit_id IN "
    "(SELECT id FROM visit WHERE employer_id = NEW.id); "
    + _SQLITE_ROWS.format(
        name="NEW.name", visit="p.visit_id", published_at="p.published_at",
        source="visit AS v JOIN publication AS p ON p.visit_id = v.id",
        where="v.employer_id = NEW.id AND p.status = 'published' "
              "AND p.published_at IS NOT NULL") + "; END",
]
_SQLITE_DROP = ["DROP TRIGGER IF EXISTS public_name_gram_publication_insert",
                "DROP TRIGGER IF EXISTS public_name_gram_publication_update",
                "DROP TRIGGER IF EXISTS public_name_gram_employer"]

# --- PostgreSQL -----------------------------------------------------------------------------
_PG_LOWER = "translate({name}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_PG_ROWS = (
    "INSERT INTO public_name_gram (gram, visit_id, published_at) "
    "SELECT DISTINCT substr(" + _PG_LOWER + ", n, 2), {visit}, {published_at} "
    "FROM {source} CROSS JOIN LATERAL generate_series(1, char_length({name}) - 1) AS n "
    "WHERE {where} ON CONFLICT DO NOTHING")

_POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION public_name_gram_publication() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'UPDATE' THEN "
    "DELETE FROM public_name_gram WHERE visit_id IN (OLD.visit_id, NEW.visit_id); "
    "ELSE DELETE FROM public_name_gram WHERE visit_id = NEW.visit_id; END IF; "
    "IF NEW.status = 'published' AND NEW.published_at IS NOT NULL THEN "
    + _PG_ROWS.format(name="e.name", visit="NEW.visit_id", published_at="NEW.published_at",
                      source="visit AS v JOIN employer AS e ON e.id = v.employer_id",
                      where="v.id = NEW.visit_id")
    + "; END IF; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION public_name_gram_employer() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "DELETE FROM public_name_gram WHERE visit_id IN "
    "(SELECT id FROM visit WHERE employer_id = NEW.id); "
    + _PG_ROWS.format(name="NEW.name", visit="p.visit_id", published_at="p.published_at",
                      source="visit AS v JOIN publication AS p ON p.visit_id = v.id",
                      where="v.employer_id = NEW.id AND p.status = 'published' "
                            "AND p.published_at IS NOT NULL")
    + "; RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS public_name_gram_publication ON publication",
    "CREATE TRIGGER public_name_gram_publication AFTER INSERT OR UPDATE OF status, "
    "published_at, visit_id ON publication FOR EACH ROW "
    "EXECUTE FUNCTION public_name_gram_publication()",
    "DROP TRIGGER IF EXISTS public_name_gram_employer ON employer",
    "CREATE TRIGGER public_name_gram_employer AFTER UPDATE OF name ON employer FOR EACH ROW "
    "WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION public_name_gram_employer()",
]
_POSTGRESQL_DROP = ["DROP TRIGGER IF EXISTS public_name_gram_publication ON publication",
                    "DROP TRIGGER IF EXISTS public_name_gram_employer ON employer",
                    "DROP FUNCTION IF EXISTS public_name_gram_publication()",
                    "DROP FUNCTION IF EXISTS public_name_gram_employer()"]

#: Every published result's rows, for a table made after the results (the migration).
_FILL = {
    "sqlite": _SQLITE_ROWS.format(
        name="e.name", visit="p.visit_id", published_at="p.published_at",
        source="publication AS p JOIN visit AS v ON v.id = p.visit_id "
               "JOIN employer AS e ON e.id = v.employer_id",
        where="p.status = 'published' AND p.published_at IS NOT NULL"),
    "postgresql": _PG_ROWS.format(
        name="e.name", visit="p.visit_id", published_at="p.published_at",
        source="publication AS p JOIN visit AS v ON v.id = p.visit_id "
               "JOIN employer AS e ON e.id = v.employer_id",
        where="p.status = 'published' AND p.published_at IS NOT NULL"),
}


def install(connection) -> None:
    """Make the triggers on ``connection``'s database (SQLite or PostgreSQL) and fill the
    table from the results published already (none in a new database)."""
    dialect = connection.dialect.name
    statements = _SQLITE if dialect == "sqlite" else _POSTGRESQL
    for statement in statements:
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql(_FILL[dialect])


def remove(connection) -> None:
    """Drop the triggers (the migration's downgrade; the table goes with it)."""
    dialect = connection.dialect.name
    for statement in (_SQLITE_DROP if dialect == "sqlite" else _POSTGRESQL_DROP):
        connection.exec_driver_sql(statement)
