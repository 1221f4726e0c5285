"""witnesses' cosignatures of the public log's checkpoints

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tlog_cosignature',
    sa.Column('witness', sa.String(length=400), nullable=False),
    sa.Column('size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.Column('cosigned_at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['size'], ['tlog_checkpoint.size'],
                            name=op.f('fk_tlog_cosignature_size_tlog_checkpoint')),
    sa.PrimaryKeyConstraint('witness', 'size', name=op.f('pk_tlog_cosignature'))
    )
    with op.batch_alter_table('tlog_cosignature', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tlog_cosignature_size'), ['size'], unique=False)


def downgrade():
    with op.batch_alter_table('tlog_cosignature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tlog_cosignature_size'))
    op.drop_table('tlog_cosignature')
