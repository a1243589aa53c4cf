"""``lienthong simulator national-dvc`` and ``lienthong simulator payment``: the national portal's simulators."""

from __future__ import annotations

import typer

from connectors.sim_signatures import JWKS_HELP


def portal_simulator(host: str = "127.0.0.1", port: int = 8101,
                     jwks_url: str = typer.Option("", help=JWKS_HELP),
                     username: str = typer.Option("lienthong", help="The hub's account at the adapter."),
                     password: str = typer.Option("sandbox-password", envvar="DVC_SIM_PASSWORD",
                                                  help="The account's password (from the environment, so that it "
                                                       "is not on the command line)."),
                     session_ttl: float = typer.Option(3600.0, help="Seconds a session stays valid."),
                     catalogue_size: int = typer.Option(40, min=5, help="Procedures in the generated catalogue."),
                     catalogue_seed: int = typer.Option(17, help="Seed of the generated catalogue (same seed, same one)."),
                     catalogue_drift: float = typer.Option(0.0, min=0, help="Seconds between scripted catalogue "
                                                                            "changes (0: none).")) -> None:
    """The national public-service portal adapter simulator."""
    import uvicorn

    from connectors.national_dvc.simulator import create_app

    app = create_app(username, password, session_ttl, jwks_url or None)
    app.state.adapter.parts["catalogue"].configure(size=catalogue_size, seed=catalogue_seed, drift=catalogue_drift)
    uvicorn.run(app, host=host, port=port,
                log_level="warning", access_log=False, timeout_graceful_shutdown=1)


def payment_simulator(host: str = "127.0.0.1", port: int = 8102,
                      callback_url: str = typer.Option("http://127.0.0.1:8000/v1/payments/callback",
                                                       help="The hub's callback endpoint, where confirmations are posted."),
                      partner_code: str = typer.Option("000.00.00.H49", help="MaDoiTac: the province's code."),
                      secret: str = typer.Option(..., envvar="PAYMENT_SIM_SECRET", show_default=False,
                                                 help="The MaXacThuc secret shared with the hub (from the environment, "
                                                      "so that it is not on the command line; the sandbox passes the "
                                                      "vault's).")) -> None:
    """The national payment platform simulator."""
    import uvicorn

    from connectors.national_dvc.payment.simulator import create_app

    app = create_app(partner_code, secret, callback_url, f"http://{host}:{port}")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
