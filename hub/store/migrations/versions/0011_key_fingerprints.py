"""Fingerprints of the shared key set (issue #12: replicas with other keys refuse to start)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

When = hub.store.tables.UtcDateTime


def upgrade() -> None:
    op.create_table('key_fingerprints',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('first_seen', When(), nullable=False),
    sa.Column('first_by', sa.String(length=120), nullable=False),
    sa.Column('changed_at', When(), nullable=True),
    sa.Column('changed_by', sa.String(length=120), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_key_fingerprints')),
    )


def downgrade() -> None:
    op.drop_table('key_fingerprints')
