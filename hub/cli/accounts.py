"""``lienthong accounts``: people's accounts (admin, operator, auditor)."""

from __future__ import annotations

import typer

from hub.cli.helpers import get_engine, guard, print_json

app = typer.Typer(help="People's accounts: admin, operator, auditor.", no_args_is_help=True)


@app.command("add")
def accounts_add(username: str, display_name: str, role: str,
                 allowed_ip: list[str] = typer.Option([], help="Narrow where this person may sign in from (repeatable).")) -> None:
    """Create a person's account; the password is asked for (not echoed)."""
    from hub.access.accounts import add_account
    from hub.access.actions import cli_actor

    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    print_json(guard(lambda: add_account(get_engine(), username, display_name, role, password, allowed_ips=allowed_ip,
                                         actor=cli_actor())))


@app.command("list")
def accounts_list() -> None:
    """People's accounts (never their password hashes)."""
    from hub.access.accounts import list_accounts

    print_json(list_accounts(get_engine()))


@app.command("disable")
def accounts_disable(username: str) -> None:
    """Disable an account and end its sessions."""
    from hub.access.accounts import update_account
    from hub.access.actions import cli_actor

    print_json(guard(lambda: update_account(get_engine(), username, {"state": "disabled"}, actor=cli_actor())))
