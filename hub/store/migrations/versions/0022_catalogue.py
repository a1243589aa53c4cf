"""The national catalogue: procedures, their history, agencies and fields (issue #17)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
When = hub.store.tables.UtcDateTime


def upgrade() -> None:
    op.create_table('catalogue_procedures',
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('published', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('updated_at', When(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_catalogue_procedures')),
    )
    op.create_table('catalogue_history',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('seen_at', When(), nullable=False),
    sa.Column('changes', sa.String(length=80), nullable=False),
    sa.Column('fee_channels', sa.String(length=10), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('decision', sa.Text(), nullable=True),
    sa.Column('decided_on', sa.String(length=10), nullable=True),
    sa.Column('message_id', sa.String(length=64), nullable=True),
    sa.Column('delivered_at', When(), nullable=True),
    sa.Column('alerted_at', When(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_history')),
    sa.UniqueConstraint('code', 'version', name='uq_catalogue_history_code_version'),
    )
    op.create_index('ix_catalogue_history_open_fees', 'catalogue_history', ['fee_channels', 'delivered_at', 'alerted_at'],
                    unique=False)
    op.create_table('catalogue_agencies',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=True),
    sa.Column('updated_at', When(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_catalogue_agencies')),
    )
    op.create_table('catalogue_fields',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('sector', sa.String(length=40), nullable=True),
    sa.Column('updated_at', When(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_catalogue_fields')),
    )


def downgrade() -> None:
    op.drop_table('catalogue_fields')
    op.drop_table('catalogue_agencies')
    op.drop_index('ix_catalogue_history_open_fees', table_name='catalogue_history')
    op.drop_table('catalogue_history')
    op.drop_table('catalogue_procedures')
