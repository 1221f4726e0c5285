"""employer: drop single-column indexes of low-cardinality columns

They do not help the keyset-paged list (a filter on a column with 4-20 values scans a few
hundred rows by id either way) and each one slows the bulk import of a million employers.
The composite index (status, risk_grade, credit_code) stays: it serves the draw's pools.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

DROPPED = {
    'ix_employer_employer_type': 'employer_type',
    'ix_employer_industry': 'industry',
    'ix_employer_risk_grade': 'risk_grade',
    'ix_employer_status': 'status',
}


def upgrade():
    with op.batch_alter_table('employer', schema=None) as batch_op:
        for name in DROPPED:
            batch_op.drop_index(name)


def downgrade():
    with op.batch_alter_table('employer', schema=None) as batch_op:
        for name, column in DROPPED.items():
            batch_op.create_index(name, [column], unique=False)
