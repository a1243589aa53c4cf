"""``lienthong routes``: the routing table."""

from __future__ import annotations

import typer

from hub.cli.helpers import get_engine
from hub.config import get_settings

app = typer.Typer(help="The routing table.", no_args_is_help=True)


@app.command("check")
def routes_check() -> None:
    """Check the routing table against the partners' manifests (what each accepts), message types and partners."""
    from hub.context import all_destinations, routing_table
    from hub.messages import MESSAGE_TYPES
    from hub.partners import list_partners

    table = routing_table(get_settings())  # the file's rules, then the members' (ministry adapters)
    try:
        partners = [p["code"] for p in list_partners(get_engine())]
    except Exception:  # noqa: BLE001 - the database may not exist yet; skip the partner check
        partners = None
    problems = table.check(all_destinations(get_settings()), MESSAGE_TYPES, partners)
    for p in problems:
        typer.echo(f"ERROR {p}")
    typer.echo(f"{len(table.rules)} rules, {len(problems)} problems")
    raise typer.Exit(1 if problems else 0)
