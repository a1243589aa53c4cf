"""``lienthong ministry ...``: check an adapter file, try a message on it, list the folder's adapters."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer

from connectors.ministry_apps.adapter import Basic, KeyHeader, Login, OAuth, WsSecurity
from connectors.ministry_apps.registry import Broken
from connectors.ministry_apps.templates import MappingError

FILE = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="An adapter file (YAML).")


def commands() -> typer.Typer:
    app = typer.Typer(help="Ministry software adapters (one YAML file per ministry system).", no_args_is_help=True)

    @app.command("check")
    def check_command(path: Path = FILE) -> None:
        """Validate an adapter: its schema, its templates on its sample messages, its output against the
        wire schema. Each mistake is printed with its line; exit code 1 if there is one."""
        from connectors.ministry_apps.check import check

        loaded, mistakes, notes = check(path)
        for mistake in mistakes:
            typer.echo(f"{path}:{mistake.line}: {mistake.message}")
        for note in notes:
            typer.echo(f"{path}: note: {note}")
        if mistakes:
            typer.echo(f"{len(mistakes)} mistake(s)")
            raise typer.Exit(1)
        assert loaded is not None
        a = loaded.adapter
        typer.echo(f"{path}: ok: {a.code} ({a.name}) receives {', '.join(sorted(a.send))}; "
                   f"{len(a.samples)} sample(s) rendered")

    @app.command("try")
    def try_command(path: Path = FILE, message: Path = typer.Argument(..., exists=True, dir_okay=False,
                                                                       help="A canonical message (JSON).")) -> None:
        """Show exactly what the message would be sent as (nothing is sent; secrets are not shown)."""
        from connectors.ministry_apps.check import attempt

        try:
            loaded, out = attempt(path, message)
        except Broken as broken:
            for mistake in broken.mistakes:
                typer.echo(f"{path}:{mistake.line}: {mistake.message}", err=True)
            raise typer.Exit(1) from None
        except MappingError as exc:
            typer.echo(f"mapping failed: {exc}", err=True)
            raise typer.Exit(1) from None
        except ValueError as exc:
            typer.echo(f"{message}: not a canonical message: {str(exc)[:500]}", err=True)
            raise typer.Exit(1) from None
        auth = _auth_line(loaded.adapter.auth)
        if out.operation is not None:
            assert loaded.soap is not None
            typer.echo(f"SOAP {out.operation} -> {loaded.soap.address or '(the WSDL address)'}")
            if auth:
                typer.echo(auth)
            typer.echo(loaded.soap.envelope(out))
            return
        query = "&".join(f"{k}={v}" for k, v in out.query.items())
        typer.echo(f"{out.method} {out.url}{'?' + query if query else ''}")
        for name, header in out.headers.items():
            typer.echo(f"{name}: {header}")
        if auth:
            typer.echo(auth)
        if out.json is not None:
            typer.echo("Content-Type: application/json\n")
            typer.echo(orjson.dumps(out.json, option=orjson.OPT_INDENT_2).decode())
        elif out.text is not None:
            typer.echo("")
            typer.echo(out.text)

    @app.command("list")
    def list_command() -> None:
        """The adapters of the configured folder (LIENTHONG_MINISTRY_APPS_FOLDER), and the broken files."""
        from connectors.ministry_apps.members import NOWHERE, folder_of, registry
        from connectors.ministry_apps.settings import MinistryAppsSettings
        from hub.seam import hub_settings

        hub = hub_settings()
        folder = folder_of(MinistryAppsSettings(**hub.partner_settings.get("ministry_apps", {})).folder, hub.profile)
        if folder is None:
            typer.echo("no adapters folder: set LIENTHONG_MINISTRY_APPS_FOLDER (production has no default)")
        found = registry(folder or NOWHERE)
        found.reload()
        for code, loaded in found.adapters().items():
            a = loaded.adapter
            way_back = ", ".join(w for w, on in (("pull", a.pull), ("callbacks", a.callbacks)) if on) or "none"
            typer.echo(f"{code:16} {loaded.path.name:24} {loaded.base_url}  receives {', '.join(sorted(a.send))}; "
                       f"way back: {way_back}")
        for name, broken in found.problems.items():
            for mistake in broken.mistakes:
                typer.echo(f"BROKEN {name}:{mistake.line}: {mistake.message}")
        raise typer.Exit(1 if found.problems else 0)

    return app


def _auth_line(auth: object) -> str:
    """How the request is authenticated, without the secret."""
    if isinstance(auth, Login):
        return f"{auth.header}: (the login's token, fetched at send time)"
    if isinstance(auth, OAuth):
        return "Authorization: Bearer (an OAuth 2.0 token, fetched at send time)"
    if isinstance(auth, Basic):
        return f"Authorization: Basic (user {auth.username}, secret {auth.secret})"
    if isinstance(auth, KeyHeader):
        return f"{auth.header}: (secret {auth.secret})"
    if isinstance(auth, WsSecurity):
        return f"WS-Security UsernameToken ({auth.username}, {'digest' if auth.digest else 'text'}) in the SOAP header"
    return ""
