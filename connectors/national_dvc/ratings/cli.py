"""``lienthong ratings show|send --month YYYY-MM``.

The commands run without a partner context (no vault, no signer: hub/seam.py ``Manifest.commands``), so
``send`` does not call the portal itself: it records the request, and the worker's ratings job (which
has the portal account) sends the month on its next run; ``--wait`` follows it until it is sent."""

from __future__ import annotations

import json
import time

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
         wait: float = typer.Option(120.0, help="Seconds to wait for the worker to send it (0: do not wait)"),
         actor: str = typer.Option("cli", help="Who asks, for the record")) -> None:
    """Send the month's aggregates to the portal now (again, if already sent): the worker's ratings job sends it."""
    from datetime import datetime, timezone

    from connectors.national_dvc.ratings.store import month_view, request_send
    from hub.seam import hub_engine

    chosen = _month(month)
    engine = hub_engine()
    try:
        asked = datetime.now(timezone.utc)
        request_send(engine, chosen, f"cli:{actor}", asked)
        typer.echo(f"{chosen}: send requested; the worker's ratings job sends it on its next run")
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            view = month_view(engine, chosen)["sent"]
            if view and view["requested_at"] is None:
                typer.echo(f"{chosen}: sent at {view['at']}, {view['ratings']} ratings in {view['records']} records"
                           if view["at"] else f"{chosen}: {view['last_error']}")
                return
            if view and view["last_error"]:
                typer.echo(f"{chosen}: not yet ({view['last_error']})")
            time.sleep(1.0)
        if wait:
            typer.echo(f"{chosen}: not sent within {wait:.0f} s; is a worker running? ('lienthong ratings show')", err=True)
            raise typer.Exit(1)
    finally:
        engine.dispose()
