"""Result signatures: the PAdES check of each result document sent to the national portal (issue #17)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

When = hub.store.tables.UtcDateTime


def upgrade() -> None:
    op.create_table(
        'result_signatures',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), primary_key=True, autoincrement=True),
        sa.Column('dossier_code', sa.String(40), nullable=False),
        sa.Column('message_id', sa.String(64), nullable=False),
        sa.Column('document_id', sa.String(100), nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('state', sa.String(20), nullable=False),
        sa.Column('signer', sa.Text(), nullable=True),
        sa.Column('issuer', sa.Text(), nullable=True),
        sa.Column('signed_at', When(), nullable=True),
        sa.Column('intact', sa.Boolean(), nullable=True),
        sa.Column('trusted', sa.Boolean(), nullable=True),
        sa.Column('valid', sa.Boolean(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('checked_at', When(), nullable=False),
        sa.UniqueConstraint('dossier_code', 'message_id', 'document_id', name='uq_result_signatures_document'),
    )
    op.create_index('ix_result_signatures_dossier_code', 'result_signatures', ['dossier_code'])


def downgrade() -> None:
    op.drop_index('ix_result_signatures_dossier_code', 'result_signatures')
    op.drop_table('result_signatures')
