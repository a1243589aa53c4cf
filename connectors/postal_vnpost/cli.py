"""``lienthong simulator postal-vnpost``: VNPost's simulator."""

from __future__ import annotations

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
