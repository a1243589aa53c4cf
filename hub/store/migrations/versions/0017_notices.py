"""Notices: messages about no one dossier (a procedure, a question) have no dossier code (issue #17)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""
from typing import Callable

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def _rebuild(change: Callable[[], None]) -> None:
    """Run ``change`` (a batch alteration of ``messages``): SQLite's batch mode copies the table and drops
    the old one, which the deliveries' foreign keys name, so it runs with foreign keys off (a PRAGMA that
    only takes effect outside a transaction: the migration's is committed around it), then checked."""
    if op.get_bind().dialect.name != "sqlite":
        change()
        return
    op.execute("COMMIT")
    op.execute("PRAGMA foreign_keys=OFF")
    op.execute("BEGIN IMMEDIATE")
    change()
    broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"messages rebuilt with {len(broken)} broken references")
    op.execute("COMMIT")
    op.execute("PRAGMA foreign_keys=ON")
    op.execute("BEGIN IMMEDIATE")


def _nullable(nullable: bool) -> Callable[[], None]:
    def change() -> None:
        with op.batch_alter_table('messages') as batch:
            batch.alter_column('dossier_code', existing_type=sa.String(40), nullable=nullable)
    return change


def upgrade() -> None:
    # PostgreSQL drops NOT NULL in place; SQLite's batch mode copies the table (sandbox sizes).
    _rebuild(_nullable(True))


def downgrade() -> None:
    op.execute("UPDATE messages SET dossier_code = '' WHERE dossier_code IS NULL")  # notices keep no code
    _rebuild(_nullable(False))
