"""Access records keep the caller's X-Request-Id beside the hub's own request id (issue #12)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column: a plain ALTER TABLE ... ADD COLUMN on both databases (no table rebuild),
    # and the rows already sealed keep their values, so their chain hashes still verify.
    with op.batch_alter_table('access_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('caller_request_id', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('access_records', schema=None) as batch_op:
        batch_op.drop_column('caller_request_id')
