"""task closing, summary reports, case-file archives and retention

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('task_closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('check_end', sa.Date(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'], name=op.f('fk_task_closure_closed_by_id_user')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_task_closure_task_id_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_closure')),
    sa.UniqueConstraint('task_id', name=op.f('uq_task_closure_task_id'))
    )
    op.create_table('summary_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=4), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('made_at', sa.DateTime(), nullable=False),
    sa.Column('made_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['made_by_id'], ['user.id'], name=op.f('fk_summary_report_made_by_id_user')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_summary_report_task_id_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_summary_report'))
    )
    with op.batch_alter_table('summary_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_summary_report_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_summary_report_year'), ['year'], unique=False)
    op.create_table('case_archive',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('check_end', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=False),
    sa.Column('retention_years', sa.Integer(), nullable=False),
    sa.Column('retention_until', sa.Date(), nullable=False),
    sa.Column('retention_reason', sa.Text(), nullable=False),
    sa.Column('purged_at', sa.DateTime(), nullable=True),
    sa.Column('purged_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_case_archive_created_by_id_user')),
    sa.ForeignKeyConstraint(['purged_by_id'], ['user.id'], name=op.f('fk_case_archive_purged_by_id_user')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_case_archive_task_id_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_archive')),
    sa.UniqueConstraint('task_id', name=op.f('uq_case_archive_task_id'))
    )
    with op.batch_alter_table('case_archive', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_archive_retention_until'), ['retention_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_archive_sha256'), ['sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('case_archive', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_archive_sha256'))
        batch_op.drop_index(batch_op.f('ix_case_archive_retention_until'))
    op.drop_table('case_archive')
    with op.batch_alter_table('summary_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_summary_report_year'))
        batch_op.drop_index(batch_op.f('ix_summary_report_task_id'))
    op.drop_table('summary_report')
    op.drop_table('task_closure')
