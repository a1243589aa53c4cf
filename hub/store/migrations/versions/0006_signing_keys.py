"""Message signatures: partners' registered signing keys and the signing policy per partner (issue #5)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
When = hub.store.tables.UtcDateTime


def upgrade() -> None:
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signatures', sa.String(length=10), nullable=False, server_default='off'))
    op.create_table('partner_signing_keys',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('partner_code', sa.String(length=40), nullable=False),
    sa.Column('keyid', sa.String(length=200), nullable=False),
    sa.Column('alg', sa.String(length=30), nullable=False),
    sa.Column('public_jwk', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('created_at', When(), nullable=False),
    sa.Column('revoked_at', When(), nullable=True),
    sa.Column('not_after', When(), nullable=True),
    sa.ForeignKeyConstraint(['partner_code'], ['partners.code'],
                            name=op.f('fk_partner_signing_keys_partner_code_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_signing_keys')),
    sa.UniqueConstraint('keyid', name=op.f('uq_partner_signing_keys_keyid')),
    )
    with op.batch_alter_table('partner_signing_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_signing_keys_partner_code'), ['partner_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('partner_signing_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_signing_keys_partner_code'))
    op.drop_table('partner_signing_keys')
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_column('signatures')
