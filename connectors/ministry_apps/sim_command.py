"""``lienthong simulator ministry-apps``: the command, importing the simulators only when it runs (every hub
process imports the manifests; the simulators' FastAPI apps are for the sandbox and the tests)."""

from __future__ import annotations

import typer


def ministry_simulator(
    host: str = "127.0.0.1",
    port: int = 8131,
    hub_url: str = typer.Option("http://127.0.0.1:8000", help="The hub the land system calls back."),
    land_secret: str = typer.Option("sandbox-land-callback-secret", envvar="MINISTRY_SIM_LAND_SECRET",
                                    help="The secret path segment of the land system's callbacks."),
    civil_user: str = "lienthong",
    civil_password: str = typer.Option("sandbox-civil-password", envvar="MINISTRY_SIM_CIVIL_PASSWORD",
                                       help="The civil-status registry's password for civil_user."),
    land_client_id: str = "lienthong",
    land_client_secret: str = typer.Option("sandbox-land-client-secret", envvar="MINISTRY_SIM_LAND_CLIENT_SECRET",
                                           help="The land system's OAuth client secret."),
    soap_user: str = "lienthong",
    soap_password: str = typer.Option("sandbox-soap-password", envvar="MINISTRY_SIM_SOAP_PASSWORD",
                                      help="The SOAP ministry's WS-Security password for soap_user."),
    pace: float = 2.0,
) -> None:
    """The ministry systems simulator: civil status, land, a SOAP ministry and a generic REST one.

    ``pace``: seconds between the scripted state steps of a received dossier (0: only by the controls)."""
    import uvicorn

    from connectors.ministry_apps.simulators import create_app

    app = create_app(hub_url=hub_url, land_secret=land_secret, civil_user=civil_user, civil_password=civil_password,
                     land_client_id=land_client_id, land_client_secret=land_client_secret, soap_user=soap_user,
                     soap_password=soap_password, pace=pace)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
