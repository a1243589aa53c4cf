"""Payments the hub knows of: what a payment platform callback is bound to (issue #12)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
When = hub.store.tables.UtcDateTime


def upgrade() -> None:
    op.create_table('payments',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('partner', sa.String(length=40), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('dossier_code', sa.String(length=100), nullable=False),
    sa.Column('agency_id', sa.String(length=40), nullable=False),
    sa.Column('procedure_code', sa.String(length=60), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('transaction_id', sa.String(length=100), nullable=True),
    sa.Column('origin', sa.String(length=12), nullable=False),
    sa.Column('created_at', When(), nullable=False),
    sa.Column('updated_at', When(), nullable=False),
    sa.Column('paid_at', When(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('partner', 'reference', name='uq_payments_partner_reference'),
    )
    op.create_index(op.f('ix_payments_dossier_code'), 'payments', ['dossier_code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_payments_dossier_code'), table_name='payments')
    op.drop_table('payments')
