"""Alembic environment: migrates the database named by the hub's settings (or the -x url=...)."""

from __future__ import annotations

from alembic import context

from hub.config import get_settings
from hub.store.engine import make_engine
from hub.store.tables import metadata

config = context.config
url = config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url") or get_settings().effective_database_url


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
