"""``lienthong simulator motcua``: the one-stop system's endpoint simulator."""

from __future__ import annotations

import typer

from connectors.sim_signatures import JWKS_HELP


def simulator(host: str = "127.0.0.1", port: int = 8103, jwks_url: str = typer.Option("", help=JWKS_HELP)) -> None:
    """The one-stop system's endpoint for messages from the hub (path /lienthong/messages)."""
    import uvicorn

    from connectors.motcua.simulator import create_app

    uvicorn.run(create_app(jwks_url or None), host=host, port=port, log_level="warning", access_log=False)
