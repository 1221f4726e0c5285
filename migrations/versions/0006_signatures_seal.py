"""field app: signatures, sealed revisions and corrections

record_signature: signatures drawn on the phone, uploaded under their client UUID (files in
the store); record_revision gains the seal of a sealed revision (indexed: the public
verification page looks it up) and the uuid of the sealed revision a correction corrects.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('record_signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=False),
    sa.Column('signer_kind', sa.String(length=20), nullable=False),
    sa.Column('signer_user_id', sa.Integer(), nullable=True),
    sa.Column('signer_name', sa.String(length=100), nullable=False),
    sa.Column('signer_role', sa.String(length=30), nullable=True),
    sa.Column('signs', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=True),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('strokes_sha256', sa.String(length=64), nullable=False),
    sa.Column('svg_sha256', sa.String(length=64), nullable=False),
    sa.Column('png_sha256', sa.String(length=64), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('box_width', sa.Integer(), nullable=False),
    sa.Column('box_height', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['signer_user_id'], ['user.id'], name=op.f('fk_record_signature_signer_user_id_user')),
    sa.ForeignKeyConstraint(['uploader_id'], ['user.id'], name=op.f('fk_record_signature_uploader_id_user')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_record_signature_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_signature')),
    sa.UniqueConstraint('uuid', name=op.f('uq_record_signature_uuid'))
    )
    with op.batch_alter_table('record_signature', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_signature_visit_id'), ['visit_id'], unique=False)

    with op.batch_alter_table('record_revision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seal', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('corrects', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_record_revision_seal'), ['seal'], unique=False)


def downgrade():
    with op.batch_alter_table('record_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_revision_seal'))
        batch_op.drop_column('corrects')
        batch_op.drop_column('seal')

    with op.batch_alter_table('record_signature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_signature_visit_id'))

    op.drop_table('record_signature')
