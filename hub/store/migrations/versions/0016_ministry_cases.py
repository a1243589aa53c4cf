"""Ministry cases: the dossiers a ministry system was handed, and what its pull last saw (issue #16)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

When = hub.store.tables.UtcDateTime


def upgrade() -> None:
    op.create_table(
        'ministry_cases',
        sa.Column('ministry', sa.String(40), primary_key=True),
        sa.Column('dossier_code', sa.String(60), primary_key=True),
        sa.Column('state', sa.String(40), nullable=True),
        sa.Column('kept', sa.Text(), nullable=False),
        sa.Column('opened_at', When(), nullable=False),
        sa.Column('checked_at', When(), nullable=True),
        sa.Column('closed_at', When(), nullable=True),
    )
    op.create_index('ix_ministry_cases_open', 'ministry_cases', ['ministry', 'closed_at', 'checked_at'])


def downgrade() -> None:
    op.drop_index('ix_ministry_cases_open', 'ministry_cases')
    op.drop_table('ministry_cases')
