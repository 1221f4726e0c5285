"""visits: items derived from the tasks they serve; redundant indexes dropped

``visit_item`` repeated, for every visit, the item versions its tasks pinned (a task's items
are fixed once it is approved): a draw of 25,000 visits wrote 50,000 such rows. A visit's
items are now read from its ``visit_task`` links and the tasks' ``task_item`` rows
(``inspection.fieldwork.visits.item_versions``). The single-column indexes on
``draw_selection.draw_id`` and ``visit_task.visit_id`` duplicated the unique constraints that
begin with the same column.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visit_item', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_item_visit_id')
    op.drop_table('visit_item')
    with op.batch_alter_table('draw_selection', schema=None) as batch_op:
        batch_op.drop_index('ix_draw_selection_draw_id')
    with op.batch_alter_table('visit_task', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_task_visit_id')


def downgrade():
    with op.batch_alter_table('visit_task', schema=None) as batch_op:
        batch_op.create_index('ix_visit_task_visit_id', ['visit_id'], unique=False)
    with op.batch_alter_table('draw_selection', schema=None) as batch_op:
        batch_op.create_index('ix_draw_selection_draw_id', ['draw_id'], unique=False)
    op.create_table('visit_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('item_version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_version_id'], ['check_item_version.id'], name=op.f('fk_visit_item_item_version_id_check_item_version')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_visit_item_task_id_task')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_visit_item_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_item')),
    sa.UniqueConstraint('visit_id', 'item_version_id', name='uq_visit_item_pair')
    )
    with op.batch_alter_table('visit_item', schema=None) as batch_op:
        batch_op.create_index('ix_visit_item_visit_id', ['visit_id'], unique=False)
    # Each visit's items again, once each, from its tasks (the first task that pinned it).
    op.execute(
        "INSERT INTO visit_item (visit_id, task_id, item_version_id) "
        "SELECT vt.visit_id, MIN(vt.task_id), ti.item_version_id "
        "FROM visit_task vt JOIN task_item ti ON ti.task_id = vt.task_id "
        "GROUP BY vt.visit_id, ti.item_version_id")
