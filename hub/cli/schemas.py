"""``lienthong schemas``: JSON Schemas of the canonical messages and wire formats."""

from __future__ import annotations

import typer

app = typer.Typer(help="JSON Schemas of the canonical messages and wire formats.", no_args_is_help=True)


@app.command("export")
def schemas_export(check: bool = typer.Option(False, help="Only report drift; exit 1 if any.")) -> None:
    """Write schemas/ from the models: the messages' and every partner's (or check it is current)."""
    from hub import schemas as schema_export

    if check:
        drifted = schema_export.drift()
        for name in drifted:
            typer.echo(f"drifted: {name}")
        raise typer.Exit(1 if drifted else 0)
    for path in schema_export.export():
        typer.echo(path)
