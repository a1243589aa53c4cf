"""``lienthong simulator``: the partner simulators for the sandbox and the tests.

``national-dvc`` is defined here; ``payment`` and ``motcua`` come from ``connectors/simulators.py``,
``population-db`` from ``connectors/population_db/cli.py``.
"""

from __future__ import annotations

import typer

from connectors.population_db.cli import app as population_db_simulator
from connectors.sim_signatures import JWKS_HELP
from connectors.simulators import simulators

app = typer.Typer(help="Partner simulators for the sandbox and the tests.", no_args_is_help=True)


@app.command("national-dvc")
def simulator_national_dvc(host: str = "127.0.0.1", port: int = 8101,
                           jwks_url: str = typer.Option("", help=JWKS_HELP),
                           password: str = typer.Option("sandbox-password", envvar="DVC_SIM_PASSWORD",
                                                        help="The account's password (from the environment, so "
                                                             "that it is not on the command line).")) -> None:
    """The national public-service portal adapter simulator."""
    import uvicorn

    from connectors.national_dvc.simulator import create_app

    uvicorn.run(create_app(password=password, jwks_url=jwks_url or None), host=host, port=port, log_level="warning",
                access_log=False)


app.add_typer(simulators)  # payment, motcua
app.add_typer(population_db_simulator)  # population-db
