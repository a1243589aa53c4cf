"""``lienthong limits``: rate-limit policies."""

from __future__ import annotations

from typing import Optional

import typer

from hub.cli.helpers import get_engine, guard, print_json
from hub.config import get_settings

app = typer.Typer(help="Rate-limit policies (in force on every hub process within seconds).", no_args_is_help=True)


@app.command("list")
def limits_list() -> None:
    """Policies in the database, and the embedded default."""
    from hub.access.policies import list_policies

    print_json({"policies": list_policies(get_engine()), "default": get_settings().rate_limits_default})


@app.command("set")
def limits_set(name: str, quota: int, window_seconds: int,
               counter: str = typer.Option("key", help="key: each key alone; partner: all of a partner's keys together"),
               partner: Optional[str] = typer.Option(None, help="Only this partner (default: every partner)."),
               key_id: Optional[int] = typer.Option(None, help="Only this key."),
               route_class: str = typer.Option("*", help="intake, read, ops, lookup, admin, audit or *")) -> None:
    """Create or change a policy, e.g. ``lienthong limits set per-second 20 1 --partner <code>``."""
    from hub.access.actions import cli_actor
    from hub.access.policies import set_policy

    print_json(guard(lambda: set_policy(get_engine(), counter=counter, name=name, quota=quota, window_seconds=window_seconds,
                                        route_class=route_class, partner_code=partner, key_id=key_id, actor=cli_actor())))


@app.command("delete")
def limits_delete(policy_id: int) -> None:
    """Remove a policy."""
    from hub.access.actions import cli_actor
    from hub.access.policies import delete_policy

    print_json(guard(lambda: delete_policy(get_engine(), policy_id, actor=cli_actor())))
