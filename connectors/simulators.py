"""``lienthong simulator payment`` and ``lienthong simulator motcua``: the simulators added for issue #5.

A typer app whose commands join the ``simulator`` group (``sim_app.add_typer(simulators)`` in
``hub/cli.py``). Each reads what it shares with the hub from the hub's settings, so no secret
appears on a command line.
"""

from __future__ import annotations

import typer

from connectors.sim_signatures import JWKS_HELP
from hub.config import get_settings

simulators = typer.Typer()


@simulators.command("payment")
def payment(host: str = "127.0.0.1", port: int = 8102,
            callback_url: str = typer.Option("http://127.0.0.1:8000/v1/payments/callback",
                                             help="The hub's callback endpoint, where confirmations are posted.")) -> None:
    """The national payment platform simulator (MaDoiTac and secret from the hub's settings/vault)."""
    import uvicorn

    from connectors.national_dvc.payment.secret import CREDENTIAL, payment_secret
    from connectors.national_dvc.payment.simulator import create_app

    settings = get_settings()
    secret = payment_secret(settings)
    if not secret:  # the hub has no built-in secret, and neither has its simulator
        raise SystemExit(f"no payment secret: set vault credential {CREDENTIAL} (make run seeds a random one)")
    app = create_app(settings.payment_partner_code, secret, callback_url, f"http://{host}:{port}")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@simulators.command("motcua")
def motcua(host: str = "127.0.0.1", port: int = 8103,
           jwks_url: str = typer.Option("", help=JWKS_HELP)) -> None:
    """The one-stop system's endpoint for messages from the hub (path /lienthong/messages)."""
    import uvicorn

    from connectors.motcua.simulator import create_app

    uvicorn.run(create_app(jwks_url or None), host=host, port=port, log_level="warning", access_log=False)
