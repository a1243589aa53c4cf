"""The hub with its access layer switched off (no credential check, no rate limit): the baseline
``make bench`` measures the access layer's cost against. Bench only; never serve this."""

from __future__ import annotations

from fastapi import FastAPI, Request

from hub.access.principal import Principal
from hub.edge.app import create_app as hub_app

CALLER = Principal("motcua", "one_stop", 1)


def create_app() -> FastAPI:
    app = hub_app()

    async def authenticate(request: Request, route_class: str) -> Principal:
        request.scope.setdefault("state", {})["principal"] = CALLER
        return CALLER

    app.state.gate.authenticate = authenticate
    app.state.gate.limiter = app.state.committer.limiter = None
    return app
