"""References that PostgreSQL checks once per statement instead of once per row.

The foreign keys below are declared on the models (for SQLAlchemy's joins and order of
writes) and exist as FOREIGN KEY constraints on SQLite. On PostgreSQL, migration 0009 replaces
them by a set-based check of every INSERT statement and by rules that keep the references
valid (their targets are never deleted nor renumbered, the references never change): see
that migration and docs/draws.md "Writing the result".
"""
from __future__ import annotations

#: Names of the foreign keys that a PostgreSQL database checks by statement (migration 0009).
SET_CHECKED = frozenset({
    "fk_visit_employer_id_employer",
    "fk_visit_task_visit_id_visit",
    "fk_visit_task_task_id_task",
    "fk_visit_task_draw_id_draw",
})


def include_object_for(dialect: str):
    """Alembic's ``include_object`` for a database of ``dialect``: on PostgreSQL the foreign
    keys of :data:`SET_CHECKED` are absent on purpose, not a difference to migrate."""
    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        return not (dialect == "postgresql" and type_ == "foreign_key_constraint"
                    and name in SET_CHECKED)
    return include_object
