"""Officer registry for population-database look-ups (issue #6)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
When = hub.store.tables.UtcDateTime


def upgrade() -> None:
    op.create_table('officers',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('partner_code', sa.String(length=40), nullable=False),
    sa.Column('officer_code', sa.String(length=60), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('agency_id', sa.String(length=20), nullable=False),
    sa.Column('unit', sa.String(length=300), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('valid_from', When(), nullable=False),
    sa.Column('valid_until', When(), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_at', When(), nullable=False),
    sa.Column('updated_at', When(), nullable=True),
    sa.Column('last_lookup_at', When(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officers')),
    sa.UniqueConstraint('partner_code', 'officer_code', name='uq_officers_partner_code'),
    )


def downgrade() -> None:
    op.drop_table('officers')
