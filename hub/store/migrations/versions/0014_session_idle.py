"""Sessions remember when they were last used: the console's idle timeout (issue #15)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

When = hub.store.tables.UtcDateTime


def upgrade() -> None:
    with op.batch_alter_table('sessions') as batch:
        batch.add_column(sa.Column('last_seen_at', When(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sessions') as batch:
        batch.drop_column('last_seen_at')
