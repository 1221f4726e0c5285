"""follow-up visits

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    # The visit a follow-up follows. On SQLite the column is added in place (a batch copy of
    # the visit table would have to drop a table that every other table refers to).
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE visit ADD COLUMN follows_id INTEGER '
                   'CONSTRAINT fk_visit_follows_id_visit REFERENCES visit (id)')
    else:
        op.add_column('visit', sa.Column('follows_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_visit_follows_id_visit'), 'visit', 'visit',
                              ['follows_id'], ['id'])
    op.create_index(op.f('ix_visit_follows_id'), 'visit', ['follows_id'], unique=False)

    op.create_table('follow_up_reassignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('inspector_ids', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_follow_up_reassignment_decided_by_id_user')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user.id'], name=op.f('fk_follow_up_reassignment_proposed_by_id_user')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_follow_up_reassignment_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_reassignment'))
    )
    with op.batch_alter_table('follow_up_reassignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_reassignment_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_reassignment_visit_id'), ['visit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('follow_up_reassignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_reassignment_visit_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_reassignment_status'))

    op.drop_table('follow_up_reassignment')
    op.drop_index(op.f('ix_visit_follows_id'), table_name='visit')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE visit DROP COLUMN follows_id')
    else:
        op.drop_constraint(op.f('fk_visit_follows_id_visit'), 'visit', type_='foreignkey')
        op.drop_column('visit', 'follows_id')
