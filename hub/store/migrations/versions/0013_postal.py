"""Postal orders, their events, the operator's sync feed and status-code table (issue #14)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
When = hub.store.tables.UtcDateTime


def upgrade() -> None:
    op.create_table('postal_orders',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('partner', sa.String(length=40), nullable=False),
    sa.Column('order_number', sa.String(length=60), nullable=False),
    sa.Column('dossier_code', sa.String(length=40), nullable=False),
    sa.Column('agency_id', sa.String(length=40), nullable=False),
    sa.Column('leg', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=40), nullable=False),
    sa.Column('waybill', sa.String(length=50), nullable=True),
    sa.Column('job', sa.Text(), nullable=False),
    sa.Column('cod_amount', sa.BigInteger(), nullable=False),
    sa.Column('cod_collected', sa.BigInteger(), nullable=True),
    sa.Column('receipt_number', sa.String(length=50), nullable=True),
    sa.Column('receipt_at', When(), nullable=True),
    sa.Column('booked_at', When(), nullable=False),
    sa.Column('collected_at', When(), nullable=True),
    sa.Column('handed_over_at', When(), nullable=True),
    sa.Column('delivered_at', When(), nullable=True),
    sa.Column('failed_at', When(), nullable=True),
    sa.Column('returned_at', When(), nullable=True),
    sa.Column('cancelled_at', When(), nullable=True),
    sa.Column('updated_at', When(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_postal_orders')),
    sa.UniqueConstraint('partner', 'order_number', name='uq_postal_orders_partner_order_number'),
    )
    op.create_index(op.f('ix_postal_orders_dossier_code'), 'postal_orders', ['dossier_code'], unique=False)
    op.create_table('postal_changes',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('partner', sa.String(length=40), nullable=False),
    sa.Column('order_id', Id, nullable=False),
    sa.Column('at', When(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_postal_changes')),
    )
    op.create_index('ix_postal_changes_partner_id', 'postal_changes', ['partner', 'id'], unique=False)
    op.create_table('postal_events',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('partner', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('order_number', sa.String(length=60), nullable=False),
    sa.Column('dossier_code', sa.String(length=40), nullable=True),
    sa.Column('leg', sa.String(length=8), nullable=True),
    sa.Column('step', sa.String(length=40), nullable=False),
    sa.Column('operator_code', sa.String(length=20), nullable=False),
    sa.Column('recognised', sa.Integer(), nullable=False),
    sa.Column('at', When(), nullable=False),
    sa.Column('post_office', sa.String(length=50), nullable=True),
    sa.Column('origin', sa.String(length=8), nullable=False),
    sa.Column('received_at', When(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_postal_events')),
    sa.UniqueConstraint('partner', 'event_id', name='uq_postal_events_partner_event_id'),
    )
    op.create_index(op.f('ix_postal_events_order_number'), 'postal_events', ['order_number'], unique=False)
    op.create_table('postal_status_codes',
    sa.Column('partner', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('step', sa.String(length=40), nullable=False),
    sa.Column('meaning', sa.String(length=300), nullable=False),
    sa.Column('seeded', sa.Integer(), nullable=False),
    sa.Column('updated_at', When(), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('partner', 'code', name=op.f('pk_postal_status_codes')),
    )


def downgrade() -> None:
    op.drop_table('postal_status_codes')
    op.drop_index(op.f('ix_postal_events_order_number'), table_name='postal_events')
    op.drop_table('postal_events')
    op.drop_index('ix_postal_changes_partner_id', table_name='postal_changes')
    op.drop_table('postal_changes')
    op.drop_index(op.f('ix_postal_orders_dossier_code'), table_name='postal_orders')
    op.drop_table('postal_orders')
