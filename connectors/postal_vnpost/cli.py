"""``lienthong simulator postal-vnpost``: VNPost's simulator; ``lienthong postal stats``: postal statistics."""

from __future__ import annotations

from typing import Optional

import typer

from connectors.postal_vnpost.settings import SANDBOX_SECRET


def simulator(host: str = "127.0.0.1", port: int = 8105,
              client_id: str = typer.Option("lienthong", help="The hub's account (customerKey)."),
              client_secret: str = typer.Option(SANDBOX_SECRET, envvar="VNPOST_SIM_CLIENT_SECRET",
                                                help="The account's secret (from the environment, so that it is not on "
                                                     "the command line)."),
              customer_code: str = typer.Option("LIENTHONG-SBX", help="The CustomerCode orders must carry."),
              token_ttl: float = typer.Option(3600.0, help="Seconds a token stays valid."),
              speed: float = typer.Option(1.0, help="Simulated seconds per real second for the orders' journeys "
                                                    "(0: only POST /_sim/advance moves time).")) -> None:
    """The postal operator (VNPost) simulator."""
    import uvicorn

    from connectors.postal_vnpost.simulator import create_app

    uvicorn.run(create_app(client_id, client_secret, customer_code, token_ttl, speed), host=host, port=port,
                log_level="warning", access_log=False, timeout_graceful_shutdown=1)


def commands(code: str) -> typer.Typer:
    """``lienthong postal ...``: the postal operator's commands, for partner ``code``'s orders."""
    app = typer.Typer(help="The postal operator (VNPost): statistics of pickups and results by post.",
                      no_args_is_help=True)

    @app.command("stats")
    def stats(agency: Optional[str] = typer.Option(None, help="Only this agency (MaDonVi); default: every agency."),
              start: Optional[str] = typer.Option(None, "--from", help="First day, YYYY-MM-DD (Vietnam time); with "
                                                                       "--to, or neither for the current month."),
              end: Optional[str] = typer.Option(None, "--to", help="Day after the last, YYYY-MM-DD: [from, to)."),
              fmt: str = typer.Option("json", "--format", help="json or csv.")) -> None:
        """Postal statistics per agency of the orders booked in [from, to), as GET /v1/postal/statistics gives them."""
        import re

        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
        from sqlalchemy.exc import SQLAlchemyError

        from connectors.postal_vnpost.statistics import LONG_PERIOD, Period, read, render
        from hub.messages.codes import AGENCY_PATTERN
        from hub.seam import hub_engine

        if fmt not in ("json", "csv"):
            raise typer.BadParameter("json or csv", param_hint="--format")
        if agency is not None and not re.fullmatch(AGENCY_PATTERN, agency):
            raise typer.BadParameter("an agency identifier such as 000.00.00.H49", param_hint="--agency")
        try:
            period = Period.parse(start, end)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--from/--to") from None
        bar = Progress(TextColumn("reading months"), BarColumn(), MofNCompleteColumn(), console=Console(stderr=True),
                       transient=True)
        task: list[TaskID] = []

        def progress(done: int, total: int) -> None:
            if not task and total >= LONG_PERIOD:  # a bar only for a long period
                bar.start()
                task.append(bar.add_task("months", total=total))
            if task:
                bar.update(task[0], completed=done)

        engine = hub_engine()
        try:
            rows = read(engine, code, period, agency, progress=progress)
        except SQLAlchemyError as exc:
            typer.echo(f"cannot read the hub's database: {type(exc).__name__}", err=True)
            raise typer.Exit(1) from None
        finally:
            bar.stop()
            engine.dispose()
        typer.echo(render(code, period, rows, "csv" if fmt == "csv" else "json"), nl=False)

    return app
