"""Indexes for the console's pages on a real store (issue #15)

Each one serves a page measured over 200 ms (or polled every 2 s and reading a whole table) with a
million messages and five million access records (bench/console_pages.py, docs/PERFORMANCE.md):

- delivery_attempts (outcome, at): the overview's last error and its chart's failures, polled;
- deliveries (destination, updated_at): a destination's replayed dead letters, watched live;
- messages (received_at): message search newest first, and its time ranges;
- messages (type): message search by a rare type;
- access_records (request_id), (caller_request_id): the search by request id, hub's or caller's;
- access_records (kind): the rare kinds (content opened, command line);
- access_records (summary) of look-ups only: a dossier's trace lists the look-ups made for it.

Building them on that store took about 15 s in all (the three of access_records 12 s); writes to
a table wait while its indexes are built, so run it at a quiet hour.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_delivery_attempts_outcome_at', 'delivery_attempts', ['outcome', 'at']),
    ('ix_deliveries_destination_updated_at', 'deliveries', ['destination', 'updated_at']),
    ('ix_messages_received_at', 'messages', ['received_at']),
    ('ix_messages_type', 'messages', ['type']),
    ('ix_access_records_request_id', 'access_records', ['request_id']),
    ('ix_access_records_caller_request_id', 'access_records', ['caller_request_id']),
    ('ix_access_records_kind', 'access_records', ['kind']),
]


LOOKUPS_ONLY = sa.text("kind = 'lookup'")


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(op.f(name), table, columns, unique=False)
    op.create_index(op.f('ix_access_records_lookup_summary'), 'access_records', ['summary'], unique=False,
                    postgresql_where=LOOKUPS_ONLY, sqlite_where=LOOKUPS_ONLY)


def downgrade() -> None:
    op.drop_index(op.f('ix_access_records_lookup_summary'), table_name='access_records')
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(op.f(name), table_name=table)
