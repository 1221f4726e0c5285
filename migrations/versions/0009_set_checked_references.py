"""PostgreSQL: the draw's bulk references checked once per statement; their targets kept

A target draw writes tens of thousands of visits and visit links in one transaction.
PostgreSQL enforces a FOREIGN KEY by a trigger per inserted row, which runs a query and
locks the referenced row (``SELECT ... FOR KEY SHARE``): for 25,000 visits that locked
25,000 employer rows spread over the 1,000,000-row directory (each lock writes the row's
page) and cost more than the whole rest of the draw.

On PostgreSQL these references are therefore checked once per INSERT statement, over all
its new rows (``check_references``: an AFTER ... FOR EACH STATEMENT trigger with a
transition table, one index probe per distinct key), and are kept valid afterwards by two
rules that make the per-row locks unnecessary:

* the referenced rows (employers, visits, tasks, draws) are never deleted and never change
  their id: the draw's list never changes once made (seed 004 第十四条 "检查对象名单一经产生
  不得更改") and every step is kept on record (seed 002 五(二) "全程留痕", seed 000 五);
  ``refuse_change`` refuses both;
* the references themselves never change once written (a visit stays the visit of its
  employer; a draw's links are locked): ``refuse_change`` again.

Also on PostgreSQL, the unique index of ``employer.credit_code`` carries the employer's id
(``INCLUDE (id)``): the draw finds the ids of the 25,000 codes it drew from the index alone,
instead of visiting 25,000 rows of the directory.

Other databases keep their foreign keys (SQLite's cost little). See docs/draws.md
"Writing the result".

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

#: table -> [(column, referenced table)], each a FOREIGN KEY before this revision.
REFERENCES = {
    'visit': [('employer_id', 'employer')],
    'visit_task': [('visit_id', 'visit'), ('task_id', 'task'), ('draw_id', 'draw')],
}
KEPT = ('employer', 'visit', 'task', 'draw')
DELETED = 'rows of table "%s" are kept: they are never deleted'
RENUMBERED = 'the id of a row of table "%s" never changes'
REPOINTED = 'the references of table "%s" are never changed'

FUNCTIONS = r"""
CREATE FUNCTION check_references() RETURNS trigger LANGUAGE plpgsql AS $$
-- Arguments: pairs (column, referenced table); the new rows are the transition table
-- new_rows. Raises foreign_key_violation, naming a missing key, like a FOREIGN KEY. The
-- distinct keys are probed in order (about twice as fast as in the order they came).
DECLARE
  i integer := 0;
  missing text;
BEGIN
  WHILE i < TG_NARGS LOOP
    EXECUTE format('SELECT n.k::text FROM (SELECT DISTINCT %1$I AS k FROM new_rows '
                   'WHERE %1$I IS NOT NULL ORDER BY 1) n '
                   'WHERE NOT EXISTS (SELECT FROM %2$I p WHERE p.id = n.k) LIMIT 1',
                   TG_ARGV[i], TG_ARGV[i + 1])
      INTO missing;
    IF missing IS NOT NULL THEN
      RAISE EXCEPTION 'insert on table "%" violates the reference "%.%" to "%"',
                      TG_TABLE_NAME, TG_TABLE_NAME, TG_ARGV[i], TG_ARGV[i + 1]
        USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME,
              DETAIL = format('Key (%s)=(%s) is not present in table "%s".',
                              TG_ARGV[i], missing, TG_ARGV[i + 1]);
    END IF;
    i := i + 2;
  END LOOP;
  RETURN NULL;
END $$;

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
-- Argument: the message, where %s stands for the table's name.
BEGIN
  RAISE EXCEPTION USING MESSAGE = format(TG_ARGV[0], TG_TABLE_NAME),
    ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
END $$;
"""


def _fk(table: str, column: str, parent: str) -> str:
    return f'fk_{table}_{column}_{parent}'


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('ALTER TABLE employer DROP CONSTRAINT uq_employer_credit_code, '
               'ADD CONSTRAINT uq_employer_credit_code UNIQUE (credit_code) INCLUDE (id)')
    op.execute(FUNCTIONS)
    for table in KEPT:
        op.execute(f'CREATE TRIGGER {table}_kept BEFORE DELETE ON "{table}" '
                   f'FOR EACH ROW EXECUTE FUNCTION refuse_change({DELETED!r})')
        op.execute(f'CREATE TRIGGER {table}_key_kept BEFORE UPDATE OF id ON "{table}" '
                   f'FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) '
                   f'EXECUTE FUNCTION refuse_change({RENUMBERED!r})')
    for table, refs in REFERENCES.items():
        for column, parent in refs:
            op.drop_constraint(_fk(table, column, parent), table, type_='foreignkey')
        args = ', '.join(f"'{name}'" for pair in refs for name in pair)
        op.execute(f'CREATE TRIGGER {table}_references AFTER INSERT ON "{table}" '
                   f'REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT '
                   f'EXECUTE FUNCTION check_references({args})')
        columns = ', '.join(column for column, _parent in refs)
        changed = ' OR '.join(f'OLD.{column} IS DISTINCT FROM NEW.{column}'
                              for column, _parent in refs)
        op.execute(f'CREATE TRIGGER {table}_references_kept BEFORE UPDATE OF {columns} '
                   f'ON "{table}" FOR EACH ROW WHEN ({changed}) '
                   f'EXECUTE FUNCTION refuse_change({REPOINTED!r})')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, refs in REFERENCES.items():
        op.execute(f'DROP TRIGGER {table}_references_kept ON "{table}"')
        op.execute(f'DROP TRIGGER {table}_references ON "{table}"')
        for column, parent in refs:
            op.create_foreign_key(_fk(table, column, parent), table, parent, [column], ['id'])
    for table in KEPT:
        op.execute(f'DROP TRIGGER {table}_key_kept ON "{table}"')
        op.execute(f'DROP TRIGGER {table}_kept ON "{table}"')
    for name in ('check_references', 'refuse_change'):
        op.execute(f'DROP FUNCTION {name}()')
    op.execute('ALTER TABLE employer DROP CONSTRAINT uq_employer_credit_code, '
               'ADD CONSTRAINT uq_employer_credit_code UNIQUE (credit_code)')
