"""``lienthong db``: the database schema."""

from __future__ import annotations

import typer

from hub.config import get_settings

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the database schema."""
    from hub.store.migrate import upgrade

    upgrade(get_settings().effective_database_url, revision)
    typer.echo(f"database at {revision}")
