"""Partner access control: key scopes, expiry and allowlists; people's accounts and sessions;
rate-limit policies; admin actions and refused-access events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
When = hub.store.tables.UtcDateTime


def upgrade() -> None:
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=12), nullable=False, server_default='active'))
        batch_op.add_column(sa.Column('contacts', sa.Text(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('allowed_ips', sa.Text(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('updated_at', When(), nullable=True))
    op.execute("UPDATE partners SET state = CASE WHEN active THEN 'active' ELSE 'suspended' END")
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_column('active')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.Text(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('allowed_ips', sa.Text(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('expires_at', When(), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', When(), nullable=True))
        batch_op.add_column(sa.Column('replaced_by', Id, nullable=True))

    op.create_table('accounts',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('allowed_ips', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('created_at', When(), nullable=False),
    sa.Column('last_login_at', When(), nullable=True),
    sa.Column('disabled_at', When(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('username', name=op.f('uq_accounts_username'))
    )
    op.create_table('sessions',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('account_id', Id, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('client_ip', sa.String(length=45), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.Column('created_at', When(), nullable=False),
    sa.Column('expires_at', When(), nullable=False),
    sa.Column('ended_at', When(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_sessions_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sessions_token_hash'))
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_account_id'), ['account_id'], unique=False)
    op.create_table('rate_policies',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('counter', sa.String(length=8), nullable=False),
    sa.Column('partner_code', sa.String(length=40), nullable=True),
    sa.Column('key_id', Id, nullable=True),
    sa.Column('route_class', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('window_seconds', sa.Integer(), nullable=False),
    sa.Column('updated_at', When(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_policies')),
    sa.UniqueConstraint('counter', 'partner_code', 'key_id', 'route_class', 'name', name='uq_rate_policies_subject')
    )
    op.create_table('admin_actions',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('at', When(), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('client_ip', sa.String(length=45), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_actions'))
    )
    with op.batch_alter_table('admin_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_actions_at'), ['at'], unique=False)
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


def downgrade() -> None:
    for table in ('access_events', 'admin_actions', 'rate_policies', 'sessions', 'accounts'):
        op.drop_table(table)
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        for column in ('replaced_by', 'last_used_at', 'expires_at', 'allowed_ips', 'scopes'):
            batch_op.drop_column(column)
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute("UPDATE partners SET active = (state = 'active')")
    with op.batch_alter_table('partners', schema=None) as batch_op:
        for column in ('updated_at', 'allowed_ips', 'contacts', 'state'):
            batch_op.drop_column(column)
