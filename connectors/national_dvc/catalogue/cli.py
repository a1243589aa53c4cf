"""``lienthong catalogue sync | show <code> | history <code>``: the national catalogue on demand."""

from __future__ import annotations

import json

import typer


def commands() -> typer.Typer:
    app = typer.Typer(name="catalogue", help="The national catalogue of procedures and fees (DVCQG).",
                      no_args_is_help=True)

    @app.command("sync")
    def sync_command() -> None:
        """Read the national catalogue now, store what changed and notify the one-stop system."""
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from connectors.national_dvc.catalogue.alerts import check_late
        from connectors.national_dvc.catalogue.sync import SyncFailed, sync
        from hub.seam import partner_context

        ctx = partner_context("national_dvc")
        bar = Progress(TextColumn("LayThuTuc"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                       console=Console(stderr=True), transient=True)
        task = bar.add_task("procedures", total=None)
        with bar:
            try:
                report = sync(ctx, listing=lambda n: bar.update(task, total=n),
                              progress=lambda done, total: bar.update(task, completed=done))
            except SyncFailed as exc:
                typer.echo(f"catalogue sync failed: {exc}", err=True)
                raise typer.Exit(1) from None
        alerted = check_late(ctx)
        typer.echo(json.dumps({"listed": report.listed, "read": report.read, "changed": len(report.changed),
                               "failed": report.failed, "agencies_changed": report.agencies,
                               "fields_changed": report.fields, "seconds": round(report.seconds, 2),
                               "late_fee_alerts": alerted}, ensure_ascii=False, indent=2))

    @app.command("show")
    def show(code: str = typer.Argument(..., help="Procedure code, e.g. 2.000477")) -> None:
        """The procedure as the hub holds it (its latest version)."""
        from connectors.national_dvc.catalogue.model import national_code
        from connectors.national_dvc.catalogue.store import procedure
        from hub.seam import hub_engine

        engine = hub_engine()
        try:
            found = procedure(engine, national_code(code))
        finally:
            engine.dispose()
        if found is None:
            typer.echo(f"no procedure {code} in the hub's catalogue", err=True)
            raise typer.Exit(1)
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2, default=str))

    @app.command("history")
    def history_command(code: str = typer.Argument(..., help="Procedure code, e.g. 2.000477")) -> None:
        """Every version of the procedure the hub saw: when, what changed, the decision, the notice and its delivery."""
        from connectors.national_dvc.catalogue.model import national_code
        from connectors.national_dvc.catalogue.store import history
        from hub.seam import hub_engine

        engine = hub_engine()
        try:
            rows = history(engine, national_code(code))
        finally:
            engine.dispose()
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))

    return app
