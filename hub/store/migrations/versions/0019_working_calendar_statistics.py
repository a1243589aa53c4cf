"""The portal's working-day calendar exceptions and the months of statistics sent (issue #17)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

When = hub.store.tables.UtcDateTime


def upgrade() -> None:
    op.create_table(
        'dvc_calendar_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(10), nullable=False),
        sa.Column('decision', sa.String(300), nullable=False),
        sa.Column('note', sa.String(300), nullable=False),
        sa.Column('updated_at', When(), nullable=False),
        sa.Column('updated_by', sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_dvc_calendar_days')),
    )
    op.create_table(
        'dvc_statistics_sent',
        sa.Column('month', sa.String(7), nullable=False),
        sa.Column('rule', sa.String(20), nullable=False),
        sa.Column('records', sa.Integer(), nullable=False),
        sa.Column('times', sa.Integer(), nullable=False),
        sa.Column('sent_at', When(), nullable=False),
        sa.Column('sent_by', sa.String(120), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('month', name=op.f('pk_dvc_statistics_sent')),
    )


def downgrade() -> None:
    op.drop_table('dvc_statistics_sent')
    op.drop_table('dvc_calendar_days')
