"""The payment loop: payment page, QUERY catch-up and electronic receipt of each payment (issue #17)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

When = hub.store.tables.UtcDateTime


def upgrade() -> None:
    with op.batch_alter_table('payments') as batch:
        batch.add_column(sa.Column('pay_url', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('expires_at', When(), nullable=True))
        batch.add_column(sa.Column('queried_at', When(), nullable=True))
        batch.add_column(sa.Column('queries', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('bill_asked_at', When(), nullable=True))
        batch.add_column(sa.Column('receipt_number', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('receipt_at', When(), nullable=True))
    op.create_index('ix_payments_partner_state_created_at', 'payments', ['partner', 'state', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_payments_partner_state_created_at', table_name='payments')
    with op.batch_alter_table('payments') as batch:
        for column in ('receipt_at', 'receipt_number', 'bill_asked_at', 'queries', 'queried_at', 'expires_at', 'pay_url'):
            batch.drop_column(column)
