"""``lienthong keys``: partner API keys."""

from __future__ import annotations

from typing import Optional

import typer

from hub.cli.helpers import get_engine, guard, print_json
from hub.config import get_settings

app = typer.Typer(help="Partner API keys.", no_args_is_help=True)


@app.command("issue")
def keys_issue(partner: str, label: str = "",
               types: Optional[list[str]] = typer.Option(None, help="Message types it may send (repeatable; default all)."),
               endpoints: Optional[list[str]] = typer.Option(None, help="intake, read, ops, lookup (repeatable)."),
               lookups: Optional[list[str]] = typer.Option(None, help="lookup, verify, household, residence."),
               expires_days: Optional[int] = typer.Option(None, help="Stop working after this many days."),
               allowed_ip: list[str] = typer.Option([], help="CIDR the key may be used from (repeatable).")) -> None:
    """Issue an API key; it is printed once and stored only as a hash."""
    from datetime import datetime, timedelta, timezone

    from hub.access.actions import cli_actor
    from hub.access.keys import issue_key

    scopes = {k: v for k, v in {"types": types, "endpoints": endpoints, "lookups": lookups}.items() if v}
    expires = datetime.now(timezone.utc) + timedelta(days=expires_days) if expires_days else None
    typer.echo(guard(lambda: issue_key(get_engine(), partner, get_settings().effective_key_pepper, label, scopes=scopes or None,
                                       expires_at=expires, allowed_ips=allowed_ip, actor=cli_actor())))


@app.command("list")
def keys_list(partner: Optional[str] = None) -> None:
    """Keys with their state, scopes and last use (never their secrets)."""
    from hub.access.keys import list_keys

    print_json(list_keys(get_engine(), partner))


@app.command("rotate")
def keys_rotate(key_id: int, grace_hours: float = typer.Option(24.0, help="How long the old key keeps working.")) -> None:
    """Issue a successor (printed once); the old key stops after the grace period."""
    from hub.access.actions import cli_actor
    from hub.access.keys import rotate_key

    secret, view = guard(lambda: rotate_key(get_engine(), key_id, get_settings().effective_key_pepper, int(grace_hours * 3600),
                                            actor=cli_actor()))
    typer.echo(f"new key {view['id']} (the old one works for {grace_hours} h):")
    typer.echo(secret)


@app.command("revoke")
def keys_revoke(key_id: int) -> None:
    """Stop a key now; every hub process refuses it within a second."""
    from hub.access.actions import cli_actor
    from hub.access.keys import revoke_key

    print_json(guard(lambda: revoke_key(get_engine(), key_id, actor=cli_actor())))
