"""Durable cursors of the partners' scheduled pulls (issue #13: the partner seam)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

When = hub.store.tables.UtcDateTime


def upgrade() -> None:
    op.create_table('partner_cursors',
    sa.Column('partner_code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('value', sa.String(length=400), nullable=False),
    sa.Column('updated_at', When(), nullable=False),
    sa.PrimaryKeyConstraint('partner_code', 'name', name=op.f('pk_partner_cursors')),
    )


def downgrade() -> None:
    op.drop_table('partner_cursors')
