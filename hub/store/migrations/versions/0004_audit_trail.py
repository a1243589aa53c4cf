"""The audit trail: access records for every request (replacing access_events), the hash chain's
checkpoints and anchor, and detection alerts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
When = hub.store.tables.UtcDateTime
INDEXED = ('at', 'key_id', 'account', 'client_ip', 'citizen_index')


def upgrade() -> None:
    op.create_table('access_records',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('at', When(), nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('partner_code', sa.String(length=40), nullable=True),
    sa.Column('key_id', Id, nullable=True),
    sa.Column('account', sa.String(length=60), nullable=True),
    sa.Column('client_ip', sa.String(length=45), nullable=False),
    sa.Column('forwarded_for', sa.String(length=300), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.Column('device', sa.String(length=60), nullable=False),
    sa.Column('os', sa.String(length=60), nullable=False),
    sa.Column('browser', sa.String(length=60), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('route', sa.String(length=200), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('latency_us', sa.BigInteger(), nullable=False),
    sa.Column('request_bytes', sa.BigInteger(), nullable=False),
    sa.Column('response_bytes', sa.BigInteger(), nullable=False),
    sa.Column('message_ids', sa.Text(), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('citizen_index', sa.String(length=64), nullable=True),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('chain_hash', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_records')),
    sa.UniqueConstraint('seq', name=op.f('uq_access_records_seq')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('access_records', schema=None) as batch_op:
        for column in INDEXED:
            batch_op.create_index(batch_op.f(f'ix_access_records_{column}'), [column], unique=False)
    # The refusals and sign-ins recorded so far become access records (sealed like any other).
    op.execute(
        "INSERT INTO access_records (at, request_id, kind, outcome, partner_code, key_id, account, client_ip, "
        "forwarded_for, user_agent, device, os, browser, method, route, path, status, latency_us, request_bytes, "
        "response_bytes, message_ids, summary) "
        "SELECT at, '', 'request', CASE WHEN event = 'refused' THEN reason ELSE event END, partner_code, key_id, "
        "account, client_ip, forwarded_for, user_agent, '', '', '', method, path, path, status, 0, 0, 0, '', "
        "'migrated from access_events' FROM access_events ORDER BY id")
    op.drop_table('access_events')
    op.create_table('audit_checkpoints',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('chain_hash', sa.String(length=64), nullable=False),
    sa.Column('at', When(), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints')),
    sa.UniqueConstraint('seq', name=op.f('uq_audit_checkpoints_seq'))
    )
    op.create_table('audit_anchor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('chain_hash', sa.String(length=64), nullable=False),
    sa.Column('bundle', sa.String(length=300), nullable=False),
    sa.Column('at', When(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_anchor'))
    )
    op.create_table('alerts',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('first_at', When(), nullable=False),
    sa.Column('last_at', When(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_rule'), ['rule'], unique=False)


def downgrade() -> None:
    for table in ('alerts', 'audit_anchor', 'audit_checkpoints'):
        op.drop_table(table)
    op.create_table('access_events',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('at', When(), nullable=False),
    sa.Column('event', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('partner_code', sa.String(length=40), nullable=True),
    sa.Column('key_id', Id, nullable=True),
    sa.Column('account', sa.String(length=60), nullable=True),
    sa.Column('client_ip', sa.String(length=45), nullable=False),
    sa.Column('forwarded_for', sa.String(length=300), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_events'))
    )
    with op.batch_alter_table('access_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_events_at'), ['at'], unique=False)
    op.drop_table('access_records')
