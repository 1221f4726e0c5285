"""handling decisions and referrals, grade proposals

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('handling_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('determination_id', sa.Integer(), nullable=False),
    sa.Column('problem', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=30), nullable=False),
    sa.Column('question', sa.String(length=30), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('matter', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('deadline_year', sa.Integer(), nullable=True),
    sa.Column('sent_on', sa.Date(), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('letter_sha256', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('outcome_on', sa.Date(), nullable=True),
    sa.Column('outcome_by_id', sa.Integer(), nullable=True),
    sa.Column('outcome_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_handling_decision_decided_by_id_user')),
    sa.ForeignKeyConstraint(['determination_id'], ['determination.id'], name=op.f('fk_handling_decision_determination_id_determination')),
    sa.ForeignKeyConstraint(['outcome_by_id'], ['user.id'], name=op.f('fk_handling_decision_outcome_by_id_user')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user.id'], name=op.f('fk_handling_decision_proposed_by_id_user')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['user.id'], name=op.f('fk_handling_decision_sent_by_id_user')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_handling_decision_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handling_decision'))
    )
    with op.batch_alter_table('handling_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handling_decision_determination_id'), ['determination_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handling_decision_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_handling_decision_visit_id'), ['visit_id'], unique=False)

    op.create_table('grade_proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('determination_id', sa.Integer(), nullable=False),
    sa.Column('from_grade', sa.String(length=1), nullable=False),
    sa.Column('risk_grade', sa.String(length=1), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('directory_change_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_grade_proposal_decided_by_id_user')),
    sa.ForeignKeyConstraint(['determination_id'], ['determination.id'], name=op.f('fk_grade_proposal_determination_id_determination')),
    sa.ForeignKeyConstraint(['directory_change_id'], ['directory_change.id'], name=op.f('fk_grade_proposal_directory_change_id_directory_change')),
    sa.ForeignKeyConstraint(['employer_id'], ['employer.id'], name=op.f('fk_grade_proposal_employer_id_employer')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user.id'], name=op.f('fk_grade_proposal_proposed_by_id_user')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_grade_proposal_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grade_proposal'))
    )
    with op.batch_alter_table('grade_proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grade_proposal_employer_id'), ['employer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grade_proposal_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_grade_proposal_visit_id'), ['visit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('grade_proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grade_proposal_visit_id'))
        batch_op.drop_index(batch_op.f('ix_grade_proposal_status'))
        batch_op.drop_index(batch_op.f('ix_grade_proposal_employer_id'))
    op.drop_table('grade_proposal')
    with op.batch_alter_table('handling_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handling_decision_visit_id'))
        batch_op.drop_index(batch_op.f('ix_handling_decision_status'))
        batch_op.drop_index(batch_op.f('ix_handling_decision_determination_id'))
    op.drop_table('handling_decision')
