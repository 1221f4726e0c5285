"""public log: the transparency log of draw commitments and results

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tlog_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('compact', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tlog_head'))
    )
    op.create_table('tlog_checkpoint',
    sa.Column('size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('root', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('size', name=op.f('pk_tlog_checkpoint'))
    )
    op.create_table('tlog_entry',
    sa.Column('position', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False),
    sa.Column('entry', sa.Text(), nullable=False),
    sa.Column('leaf_hash', sa.String(length=64), nullable=False),
    sa.Column('proof', sa.Text(), nullable=False),
    sa.Column('logged_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['draw_id'], ['draw.id'], name=op.f('fk_tlog_entry_draw_id_draw')),
    sa.PrimaryKeyConstraint('position', name=op.f('pk_tlog_entry'))
    )
    with op.batch_alter_table('tlog_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tlog_entry_draw_id'), ['draw_id'], unique=False)


def downgrade():
    with op.batch_alter_table('tlog_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tlog_entry_draw_id'))
    op.drop_table('tlog_entry')
    op.drop_table('tlog_checkpoint')
    op.drop_table('tlog_head')
