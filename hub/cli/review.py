"""``lienthong review``: keys and accounts unused for N days (the regulations' periodic review)."""

from __future__ import annotations

from typing import Optional

import typer

from hub.cli.helpers import get_engine, print_json
from hub.config import get_settings

app = typer.Typer()  # no name: its command is a top-level one


@app.command()
def review(days: Optional[int] = typer.Option(None, help="Unused for this many days (default LIENTHONG_REVIEW_DAYS)."),
           disable: bool = typer.Option(False, help="Revoke the keys and disable the accounts listed.")) -> None:
    """List keys and accounts unused for N days (the regulations' periodic review); --disable acts on them."""
    from hub.access.actions import cli_actor
    from hub.access.review import disable_unused, unused

    days = days or get_settings().review_days
    print_json(disable_unused(get_engine(), days, actor=cli_actor()) if disable else unused(get_engine(), days))
