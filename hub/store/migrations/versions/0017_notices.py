"""Notices: messages about no one dossier (a procedure, a question) have no dossier code (issue #17)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostgreSQL drops NOT NULL in place; SQLite's batch mode copies the table (sandbox sizes).
    with op.batch_alter_table('messages') as batch:
        batch.alter_column('dossier_code', existing_type=sa.String(40), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE messages SET dossier_code = '' WHERE dossier_code IS NULL")  # notices keep no code
    with op.batch_alter_table('messages') as batch:
        batch.alter_column('dossier_code', existing_type=sa.String(40), nullable=False)
