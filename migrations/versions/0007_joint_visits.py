"""joint visits: the team leader's arrangement and split of items; members' parts

visit_arrangement: day, meeting time and place of a visit, set by its team leader;
item_assignment: which member checks which item; record_revision.is_part: a member's part of
a split visit, never the visit's record.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visit_arrangement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_on', sa.Date(), nullable=True),
    sa.Column('meeting_time', sa.String(length=5), nullable=False),
    sa.Column('meeting_point', sa.String(length=200), nullable=False),
    sa.Column('notes', sa.String(length=1000), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=False),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['set_by_id'], ['user.id'], name=op.f('fk_visit_arrangement_set_by_id_user')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_visit_arrangement_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_arrangement')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_visit_arrangement_visit_id'))
    )
    op.create_table('item_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('item_version_id', sa.Integer(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['inspector_id'], ['inspector.id'], name=op.f('fk_item_assignment_inspector_id_inspector')),
    sa.ForeignKeyConstraint(['item_version_id'], ['check_item_version.id'], name=op.f('fk_item_assignment_item_version_id_check_item_version')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_item_assignment_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_assignment')),
    sa.UniqueConstraint('visit_id', 'item_version_id', 'inspector_id', name='uq_item_assignment')
    )
    with op.batch_alter_table('item_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_assignment_visit_id'), ['visit_id'], unique=False)

    with op.batch_alter_table('record_revision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_part', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('record_revision', schema=None) as batch_op:
        batch_op.drop_column('is_part')

    with op.batch_alter_table('item_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_assignment_visit_id'))

    op.drop_table('item_assignment')
    op.drop_table('visit_arrangement')
