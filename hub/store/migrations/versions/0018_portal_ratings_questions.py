"""The national portal's ratings (monthly DongBoDanhGia) and citizens' questions (issue #17)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

When = hub.store.tables.UtcDateTime


def upgrade() -> None:
    op.create_table(
        'portal_ratings',
        sa.Column('dossier_code', sa.String(40), primary_key=True),
        sa.Column('message_id', sa.String(64), nullable=False),
        sa.Column('agency_id', sa.String(50), nullable=False),
        sa.Column('unit', sa.String(50), nullable=False),
        sa.Column('procedure_code', sa.String(60), nullable=False),
        sa.Column('level', sa.String(20), nullable=False),
        sa.Column('rated_at', When(), nullable=False),
        sa.Column('month', sa.String(7), nullable=False),
        sa.Column('stored_at', When(), nullable=False),
    )
    op.create_index('ix_portal_ratings_month', 'portal_ratings', ['month'])
    op.create_table(
        'portal_rating_sends',
        sa.Column('month', sa.String(7), primary_key=True),
        sa.Column('ratings', sa.Integer(), nullable=False),
        sa.Column('records', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(64), nullable=False),
        sa.Column('sent_at', When(), nullable=True),
        sa.Column('requested_at', When(), nullable=True),
        sa.Column('requested_by', sa.String(120), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
    )
    op.create_table(
        'portal_questions',
        sa.Column('question_id', sa.String(60), primary_key=True),
        sa.Column('service', sa.String(60), nullable=False),
        sa.Column('agency_id', sa.String(50), nullable=False),
        sa.Column('message_id', sa.String(64), nullable=False),
        sa.Column('asked_at', When(), nullable=False),
        sa.Column('answer_due_at', When(), nullable=False),
        sa.Column('answered_at', When(), nullable=True),
        sa.Column('alerted_at', When(), nullable=True),
    )
    op.create_index('ix_portal_questions_open', 'portal_questions', ['answered_at', 'answer_due_at'])


def downgrade() -> None:
    op.drop_index('ix_portal_questions_open', 'portal_questions')
    op.drop_table('portal_questions')
    op.drop_table('portal_rating_sends')
    op.drop_index('ix_portal_ratings_month', 'portal_ratings')
    op.drop_table('portal_ratings')
