"""``lienthong simulator population-db``: the population database simulator (joins the ``simulator`` group)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from connectors.population_db.population import DEFAULT_SEED, DEFAULT_SIZE
from hub.config import Settings

app = typer.Typer()


@app.command("population-db")
def population_db(
    host: str = "127.0.0.1",
    port: int = 8104,
    seed: int = typer.Option(DEFAULT_SEED, help="Population seed (the same seed gives the same citizens)."),
    size: int = typer.Option(DEFAULT_SIZE, help="Number of citizens."),
    token_ttl: float = typer.Option(3600.0, help="Seconds an access token stays valid."),
    keys_dir: Optional[Path] = typer.Option(None, help="Where wsse/ keys live (default: LIENTHONG_KEYS_DIR)."),
    sign_answers: bool = typer.Option(False, help="Sign every answer (WS-Security, its own key under wsse/)."),
    client_cert: Optional[Path] = typer.Option(None, help="Require requests signed by this certificate's key."),
) -> None:
    """The population database (CSDLQG về dân cư) simulator: SOAP, OAuth token, faults under /_sim/."""
    from connectors.population_db.simulator import serve

    serve(host, port, seed=seed, size=size, token_ttl=token_ttl, keys_dir=keys_dir, sign_answers=sign_answers,
          client_cert=client_cert)


def sandbox_args(settings: Settings) -> list[str]:
    """The simulator's WS-Security options matching the hub's ``LIENTHONG_POPULATION_DB_WSSE``
    (the hub's development certificate is made now, so the simulator can trust it)."""
    if settings.population_db_wsse == "off":
        return []
    from connectors.population_db.client import signer_from_settings
    from connectors.population_db.wsse import HUB_IDENTITY, identity_paths

    signer_from_settings(settings)  # creates keys/wsse/hub-*.pem unless files are configured
    cert = settings.population_db_wsse_cert_file or str(identity_paths(settings.keys_dir / "wsse", HUB_IDENTITY)[1])
    args = ["--client-cert", cert, "--keys-dir", str(settings.keys_dir)]
    return args + (["--sign-answers"] if settings.population_db_wsse == "sign_and_verify" else [])
