"""indexes for the public results search and the lists measured by bench.api

Revision ID: 0019
Revises: 0018
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    # public search: the bigram index of the published results' employer names, kept by
    # triggers and filled from the results published already (inspection/review/search_index.py)
    from inspection.review import search_index

    op.create_table(
        'public_name_gram',
        sa.Column('gram', sa.String(length=2), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.Column('published_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('gram', 'visit_id'))
    op.create_index('ix_public_name_gram_order', 'public_name_gram',
                    ['gram', 'published_at', 'visit_id'])
    search_index.install(op.get_bind())


def downgrade():
    # public search
    from inspection.review import search_index

    search_index.remove(op.get_bind())
    op.drop_index('ix_public_name_gram_order', table_name='public_name_gram')
    op.drop_table('public_name_gram')
