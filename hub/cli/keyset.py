"""``lienthong keyset``: the hub's own key set, shared by every replica."""

from __future__ import annotations

from pathlib import Path

import typer

from hub.cli.helpers import audit_guard, get_engine, print_json
from hub.config import get_settings

app = typer.Typer(help="The hub's own key set, shared by every replica (keys/README.md).", no_args_is_help=True)


@app.command("init")
def keyset_init(folder: Path = typer.Argument(..., help="The folder to write into (LIENTHONG_KEYS_DIR of every "
                                                         "replica); created mode 0700.")) -> None:
    """Write a full production key set (pepper, vault master key, audit keys, hub signing ring), mode 0600.

    Run once; refuses if any key of the set is already there. Prints file names and fingerprints, never a key.
    """
    from hub.keyset import KeysetExists, fingerprints, init

    settings = get_settings()
    try:
        written = init(folder, settings)
    except (KeysetExists, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for path in written:
        typer.echo(path)
    shared = settings.model_copy(update={"keys_dir": folder, "key_pepper": "", "vault_master_key": "",
                                         "audit_content_key": "", "audit_index_key": "", "audit_key_file": "",
                                         "profile": "production"})
    print_json({"fingerprints": fingerprints(shared)})


@app.command("check")
def keyset_check() -> None:
    """The start-up check on its own: every reason the settings are unsafe (production), and whether this
    process's keys match the fingerprints the database records. Exit 0 when the hub would start."""
    from hub.keyset import fingerprints
    from hub.safety import check_or_exit, production_problems
    from hub.store.fingerprints import recorded

    settings = get_settings()
    check_or_exit(settings, "keyset-check")
    if settings.profile != "production":
        for reason in production_problems(settings):
            typer.echo(f"in production: {reason}")
    print_json({"this process": fingerprints(settings), "database": audit_guard(lambda: recorded(get_engine()))})
