"""Alembic migrations create exactly the tables the code expects, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.store.engine import make_engine
from hub.store.migrate import downgrade, upgrade
from hub.store.tables import metadata


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_migrations_go_down_and_up_again(db_url: str) -> None:
    upgrade(db_url)
    downgrade(db_url, "base")
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        tables = set(conn.dialect.get_table_names(conn))
    engine.dispose()
    assert {"messages", "deliveries", "delivery_attempts", "partners", "api_keys"} <= tables


def test_a_hub_with_messages_and_deliveries_upgrades_past_the_notices_migration(db_url: str) -> None:
    """0017 makes messages.dossier_code nullable: on SQLite a copy of the table, which the deliveries'
    foreign keys name; the rows and their references survive, and a notice can be stored after."""
    from sqlalchemy import func, insert, select

    from hub.store.tables import deliveries, messages

    upgrade(db_url, "0016")
    engine = make_engine(db_url)
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        pk = conn.execute(insert(messages).values(source="motcua", message_id="m-1", type="status.changed",
                                                  dossier_code="000.00.00.H49-261123-0001", occurred_at=now,
                                                  received_at=now, body_sha256="0" * 64, body="{}")).inserted_primary_key[0]
        conn.execute(insert(deliveries).values(message_pk=pk, destination="national_dvc", order_key="x", state="pending",
                                               attempts=0, next_attempt_at=now, created_at=now, updated_at=now))
    engine.dispose()
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(insert(messages).values(source="national_dvc", message_id="n-1", type="catalogue.changed",
                                             dossier_code=None, occurred_at=now, received_at=now,
                                             body_sha256="0" * 64, body="{}"))
        counts = conn.execute(select(func.count()).select_from(messages)).scalar(), conn.execute(
            select(func.count()).select_from(deliveries).join(messages, deliveries.c.message_pk == messages.c.id)).scalar()
    engine.dispose()
    assert counts == (2, 1)
