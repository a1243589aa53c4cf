"""``lienthong simulator population-db``: the population database simulator's command line."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from connectors.population_db.population import DEFAULT_SEED, DEFAULT_SIZE


def simulator(
    host: str = "127.0.0.1",
    port: int = 8104,
    seed: int = typer.Option(DEFAULT_SEED, help="Population seed (the same seed gives the same citizens)."),
    size: int = typer.Option(DEFAULT_SIZE, help="Number of citizens."),
    token_ttl: float = typer.Option(3600.0, help="Seconds an access token stays valid."),
    keys_dir: Optional[Path] = typer.Option(None, help="Where the simulator's wsse/ identity lives (with --sign-answers)."),
    sign_answers: bool = typer.Option(False, help="Sign every answer (WS-Security, its own key under wsse/)."),
    client_cert: Optional[Path] = typer.Option(None, help="Require requests signed by this certificate's key."),
) -> None:
    """The population database (CSDLQG về dân cư) simulator: SOAP, OAuth token, faults under /_sim/.
    Its account is the sandbox one of the hub's settings (LIENTHONG_POPULATION_DB_CLIENT_ID...)."""
    import uvicorn

    from connectors.population_db.simulator import create_app, sandbox_account

    app = create_app(sandbox_account(), seed=seed, size=size, token_ttl=token_ttl, keys_dir=keys_dir,
                     sign_answers=sign_answers, client_cert=client_cert)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=1)
