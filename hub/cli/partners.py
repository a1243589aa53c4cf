"""``lienthong partners``: partners (registered systems)."""

from __future__ import annotations

from typing import Optional

import typer

from hub.cli.helpers import get_engine, guard, print_json

app = typer.Typer(help="Partners (registered systems).", no_args_is_help=True)


@app.command("add")
def partners_add(code: str, name: str, kind: str, agency_id: Optional[str] = None,
                 allowed_ip: list[str] = typer.Option([], help="CIDR the partner may call from (repeatable).")) -> None:
    """Register a partner."""
    from hub.access.actions import cli_actor
    from hub.partners import add_partner

    guard(lambda: add_partner(get_engine(), code, name, kind, agency_id, allowed_ips=allowed_ip, actor=cli_actor()))
    typer.echo(f"partner {code} added")


@app.command("list")
def partners_list() -> None:
    """Registered partners."""
    from hub.partners import list_partners

    print_json(list_partners(get_engine()))


@app.command("set")
def partners_set(code: str, state: Optional[str] = typer.Option(None, help="active or suspended"),
                 name: Optional[str] = None, agency_id: Optional[str] = None,
                 allowed_ip: Optional[list[str]] = typer.Option(None, help="Replace the allowlist (repeatable).")) -> None:
    """Change a partner; suspending one stops all its keys."""
    from hub.access.actions import cli_actor
    from hub.partners import update_partner

    changes = {k: v for k, v in {"state": state, "name": name, "agency_id": agency_id, "allowed_ips": allowed_ip}.items()
               if v is not None}
    print_json(guard(lambda: update_partner(get_engine(), code, changes, actor=cli_actor())))
