"""A faithful enough vaccination registry: it takes the hub's messages, keeps a feed and pushes events.

``POST /inbox`` (bearer token required; 409 for a message id it has), ``GET /feed?after=&limit=``;
under ``/_sim/``: ``state``, ``events`` (add events to the feed), ``push`` (post one event to the
hub with an API key), and the shared ``faults``/``reset`` controls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import typer
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel

from connectors.sim_controls import add_controls, json_response, outage


@dataclass
class Faults:
    latency_ms: int = 0
    down: bool = False
    fail_next: int = 0


class FaultsPatch(BaseModel):
    latency_ms: int | None = None
    down: bool | None = None
    fail_next: int | None = None


class Registry:
    def __init__(self, token: str) -> None:
        self.token = token
        self.reset()

    def reset(self) -> None:
        self.faults = Faults()
        self.inbox: dict[str, dict[str, Any]] = {}
        self.feed: list[dict[str, Any]] = []
        self.counters: dict[str, Any] = {"received": 0, "duplicates": 0, "unauthorized": 0, "faults": 0}


def create_app(token: str = "sandbox-tiemchung-token") -> FastAPI:
    registry = Registry(token)
    app = FastAPI(title="Vaccination registry simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.registry = registry

    @app.post("/inbox")
    async def inbox(request: Request) -> Response:
        down = await outage(registry.faults, registry.counters, {"error": "unavailable"})
        if down is not None:
            return down
        if request.headers.get("authorization") != f"Bearer {registry.token}":
            registry.counters["unauthorized"] += 1
            return json_response({"error": "unauthorized"}, 401)
        message = await request.json()
        if message["message_id"] in registry.inbox:
            registry.counters["duplicates"] += 1
            return json_response({"error": "already received"}, 409)
        registry.inbox[message["message_id"]] = message
        registry.counters["received"] += 1
        return json_response({"received": message["message_id"]}, 201)

    @app.get("/feed")
    async def feed(after: int = 0, limit: int = 100) -> Response:
        return json_response({"events": [e for e in registry.feed if e["id"] > after][:limit]})

    @app.get("/_sim/state")
    async def state() -> Response:
        return json_response({"counters": registry.counters, "inbox": sorted(registry.inbox), "feed": len(registry.feed)})

    @app.post("/_sim/events")
    async def events(request: Request) -> Response:
        for event in await request.json():
            registry.feed.append({**event, "id": len(registry.feed) + 1})
        return json_response({"feed": len(registry.feed)})

    @app.post("/_sim/push")
    async def push(request: Request) -> Response:
        order = await request.json()
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.post(order["hub_url"], json=order["event"],
                                     headers={"Authorization": f"ApiKey {order['api_key']}"})
        return json_response({"status": answer.status_code, "body": answer.json()})

    add_controls(app, registry, FaultsPatch)
    return app


def simulator(host: str = "127.0.0.1", port: int = 8190,
              token: str = typer.Option("sandbox-tiemchung-token", envvar="TIEMCHUNG_SIM_TOKEN",
                                        help="The bearer token it requires (from the environment).")) -> None:
    """The vaccination registry simulator (a partner that exists only in the tests)."""
    import uvicorn

    uvicorn.run(create_app(token), host=host, port=port, log_level="warning", access_log=False)
