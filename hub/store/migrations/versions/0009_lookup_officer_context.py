"""A look-up's officer context in its access record: officer_ip, _device, _os, _browser, _mac (issue #12)

The officer's own client as the one-stop system reports it (seed 001 Đ29.7), beside the calling
server's address. Nullable, no default: records written before keep null there, and the hash chain
leaves null ``officer_*`` values out (hub/audit/records.py ``LATER``), so they verify as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COLUMNS = (('officer_ip', 45), ('officer_device', 60), ('officer_os', 60), ('officer_browser', 60), ('officer_mac', 17))


def upgrade() -> None:
    for name, length in COLUMNS:
        op.add_column('access_records', sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    # recreate="never": SQLite (3.35+) drops a column in place; a recreated table would lose its
    # AUTOINCREMENT (ids must never be reused, hub/store/tables.py).
    with op.batch_alter_table('access_records', recreate='never') as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
