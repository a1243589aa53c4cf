"""``lienthong ratings show|send --month YYYY-MM``: what a month's aggregates are, and sending them now.

``send`` calls the portal with the hub's account (``hub.seam.partner_context``), as the worker's
monthly ratings job does; both record what was sent. ``send --later`` asks that job instead (it sends
on its next run, and again until the portal takes it)."""

from __future__ import annotations

import json

import typer

app = typer.Typer(name="ratings", help="Citizens' ratings sent to the national portal as monthly aggregates (DongBoDanhGia).",
                  no_args_is_help=True)


def _month(value: str) -> str:
    from connectors.national_dvc.ratings.store import valid_month

    try:
        return valid_month(value)
    except ValueError:
        raise typer.BadParameter("a month is YYYY-MM, e.g. 2026-11") from None


@app.command("show")
def show(month: str = typer.Option(..., "--month", help="The month, YYYY-MM (Asia/Ho_Chi_Minh)")) -> None:
    """Print the month's aggregates per procedure and unit, as DongBoDanhGia sends them, and the last send."""
    from connectors.national_dvc.ratings.store import month_view
    from hub.seam import hub_engine

    engine = hub_engine()
    try:
        typer.echo(json.dumps(month_view(engine, _month(month)), ensure_ascii=False, indent=2))
    finally:
        engine.dispose()


@app.command("send")
def send(month: str = typer.Option(..., "--month", help="The month, YYYY-MM (Asia/Ho_Chi_Minh)"),
         later: bool = typer.Option(False, help="Do not call the portal now: ask the worker's ratings job to send it"),
         actor: str = typer.Option("cli", help="Who asks, for the record (with --later)")) -> None:
    """Send the month's aggregates to the portal now (again, if already sent), with the hub's account."""
    from connectors.national_dvc.client import PermanentError, TransientError
    from connectors.national_dvc.ratings.store import portal_client, request_send, send_month
    from hub.seam import partner_context

    chosen = _month(month)
    ctx = partner_context("national_dvc")
    if later:
        request_send(ctx.engine, chosen, f"cli:{actor}")
        typer.echo(f"{chosen}: asked; the worker's ratings job sends it on its next run ('lienthong ratings show')")
        return
    client = portal_client(ctx)
    try:
        sent = send_month(ctx, client, chosen)
    except (TransientError, PermanentError) as exc:
        typer.echo(f"{chosen}: not sent: {exc.reason}", err=True)
        raise typer.Exit(1) from None
    finally:
        client.close()
    typer.echo(f"{chosen}: {sent.detail}, {sent.ratings} ratings in {sent.records} records")
