"""draw numbers: the year's last public draw number, taken atomically

Revision ID: 0012
Revises: 0011
"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('draw_number',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_draw_number'))
    )
    # Carry on from the numbers already given (DRAW-<year>-<n>).
    last: dict[int, int] = {}
    for (public_id,) in op.get_bind().execute(sa.text("SELECT public_id FROM draw")):
        match = re.fullmatch(r"DRAW-(\d{4})-(\d+)", public_id or "")
        if match:
            year, n = int(match.group(1)), int(match.group(2))
            last[year] = max(last.get(year, 0), n)
    if last:
        op.bulk_insert(table, [{"year": y, "last": n} for y, n in sorted(last.items())])


def downgrade():
    op.drop_table('draw_number')
