"""``lienthong credentials``: set, list, delete the vault's credentials and rotate its master key.

Values go in (from a file, stdin or a hidden prompt) and never come out: no command prints one.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional, TypeVar

import typer

from hub.cli.helpers import get_engine, guard, print_json
from hub.config import get_settings

if TYPE_CHECKING:
    from hub.vault.store import Vault

app = typer.Typer(help="The credential vault: partner credentials, encrypted; write-only.", no_args_is_help=True)
T = TypeVar("T")


def _vault() -> Vault:
    from hub.vault.store import Vault

    return Vault(get_engine(), get_settings())


def _guard(fn: Callable[[], T]) -> T:
    """``guard``, and a vault error is a message too (it never holds a value)."""
    from hub.vault.envelope import VaultError

    return guard(fn, VaultError)


def _read_value(value_file: Optional[Path]) -> str:
    """The value from ``value_file``, else piped stdin, else a hidden prompt (asked twice); one
    trailing newline is dropped."""
    if value_file is not None:
        text = value_file.read_text(encoding="utf-8")
    elif not sys.stdin.isatty():
        text = sys.stdin.read()
    else:
        text = typer.prompt("value (hidden)", hide_input=True, confirmation_prompt=True)
    return text.removesuffix("\n").removesuffix("\r")


@app.command("set")
def set_credential(name: str,
                   value_file: Optional[Path] = typer.Option(None, "--value-file", exists=True, dir_okay=False,
                                                             help="Read the value from this file (then delete it).")) -> None:
    """Set or replace credential NAME (``<partner>.<what>``, as the partner's manifest names it). Prints its
    metadata, never the value."""
    from hub.access.actions import cli_actor
    from hub.vault.names import check_name

    _guard(lambda: check_name(name))
    value = _read_value(value_file)
    print_json(_guard(lambda: _vault().put(name, value, actor=cli_actor())))


@app.command("list")
def list_credentials() -> None:
    """Credentials in the vault (names, versions, master key id, who set them) and well-known ones not set."""
    vault = _guard(_vault)
    print_json({"master_key_id": vault.master_key_id, "items": vault.list(), "missing": vault.missing()})


@app.command("delete")
def delete_credential(name: str) -> None:
    """Remove credential NAME."""
    from hub.access.actions import cli_actor

    print_json(_guard(lambda: _vault().delete(name, actor=cli_actor())))


@app.command("rewrap")
def rewrap(new_master_file: Path = typer.Option(..., "--new-master-file", exists=True, dir_okay=False,
                                                help="The new master key: base64 of 32 bytes "
                                                     "(openssl rand -base64 32 > FILE).")) -> None:
    """Rotate the master key: re-wrap every credential's data key under the new key, in one transaction."""
    from hub.access.actions import cli_actor
    from hub.vault.envelope import key_id, parse_master

    new = _guard(lambda: parse_master(new_master_file.read_bytes(), str(new_master_file)))
    vault = _guard(_vault)
    old_id = vault.master_key_id
    count = _guard(lambda: vault.rewrap(new, actor=cli_actor()))
    typer.echo(f"re-wrapped {count} credential(s) from master key {old_id} to {key_id(new)}.\n"
               f"Now switch every hub process to the new key and restart them:\n"
               f"  LIENTHONG_VAULT_MASTER_KEY=$(cat {new_master_file})   or\n"
               f"  install {new_master_file} as keys/vault-master.key (mode 0600).\n"
               f"Until then, processes still holding the old key cannot read the vault.")
