"""The hub with its partners' signature policy taken as ``off`` (what ``lienthong signing policy
PARTNER off`` does): the baseline ``make bench`` measures Ed25519 verification against. It receives
the same signed requests and ignores their signatures. Bench only; never serve this."""

from __future__ import annotations

import dataclasses

from fastapi import FastAPI, Request

from hub.access.principal import Principal
from hub.edge.app import create_app as hub_app


def create_app() -> FastAPI:
    app = hub_app()
    authenticate = app.state.gate.authenticate

    async def unsigned(request: Request, route_class: str) -> Principal:
        return dataclasses.replace(await authenticate(request, route_class), signatures="off")

    app.state.gate.authenticate = unsigned
    return app
