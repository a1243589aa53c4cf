"""Simulators of the ministries' own systems (the partners' side), as ONE real HTTP server.

:func:`create_app` mounts four sub-apps on one FastAPI app:

* ``/hotich``: the Ministry of Justice civil-status registry (:mod:`.civil_status`);
* ``/dat``: the land-registration system, which calls the hub back (:mod:`.land`);
* ``/soap``: a SOAP 1.1 test ministry with WS-Security UsernameToken (:mod:`.soap`);
* ``/generic``: a configurable REST ministry for every auth and answer style (:mod:`.generic`);

plus ``GET /_sim/state``: each sub-app's state. Each sub-app also has its own ``/_sim/...`` controls
(``faults`` and ``reset`` from :mod:`connectors.sim_controls`). The request bodies they receive are
validated against the wire schemas in ``wire/`` (:func:`.civil_status.validator`), the files the
adapter engine validates its own output against. ``sim_command.ministry_simulator`` is the command that runs it.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from connectors.ministry_apps.simulators import civil_status, generic, land, soap
from connectors.sim_controls import json_response


def create_app(
    *,
    hub_url: str = "http://127.0.0.1:8000",
    land_secret: str = "sandbox-land-callback-secret",
    civil_user: str = "lienthong",
    civil_password: str = "sandbox-civil-password",
    land_client_id: str = "lienthong",
    land_client_secret: str = "sandbox-land-client-secret",
    soap_user: str = "lienthong",
    soap_password: str = "sandbox-soap-password",
    pace: float = 2.0,
) -> FastAPI:
    """The four simulators under ``/hotich``, ``/dat``, ``/soap`` and ``/generic``, and ``GET /_sim/state``.

    ``pace``: seconds between the scripted steps of a received dossier (0: only by the controls).
    Each sub-app's simulator object is ``<sub-app>.state.sim`` (``app.state.sims``: by name, as in the state page)."""
    apps = {
        "civil_status": ("/hotich", civil_status.create_app(user=civil_user, password=civil_password, pace=pace)),
        "land": ("/dat", land.create_app(client_id=land_client_id, client_secret=land_client_secret, hub_url=hub_url,
                                         secret=land_secret, pace=pace)),
        "soap": ("/soap", soap.create_app(user=soap_user, password=soap_password, pace=pace)),
        "generic": ("/generic", generic.create_app()),
    }
    app = FastAPI(title="Ministry systems simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sims = {name: sub.state.sim for name, (_, sub) in apps.items()}

    @app.get("/_sim/state")
    async def state() -> Response:
        return json_response({name: sim.state() for name, sim in app.state.sims.items()})

    for prefix, sub in apps.values():
        app.mount(prefix, sub)
    return app
