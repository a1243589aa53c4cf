"""A simulator of the one-stop system's endpoint for messages from the hub, with fault injection.

``POST /lienthong/messages`` takes one canonical message (JSON). It is checked against the canonical
model (422 with the first error when it breaks it), deduplicated by ``message_id`` (the first copy
200 ``{"received": true}``, every later one 409 ``{"duplicate": true}``) and remembered with how
many times it arrived and whether it carried an HTTP message signature. With ``jwks_url``
(``--jwks-url``) every post must carry the hub's valid signature (``connectors/sim_signatures.py``),
else 401, as a one-stop system that requires signatures would answer.

Inspection and faults under ``/_sim/`` (not part of the system's API): ``GET /_sim/state``,
``GET /_sim/messages/{message_id}``, ``POST /_sim/faults`` (``latency_ms``, ``fail_next``: next N
posts answer 503, ``reject_next``: next N answer 422, ``down``), ``POST /_sim/reset``.

Run it with ``lienthong simulator motcua --port 8103``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.sim_controls import add_controls, json_response, outage
from connectors.sim_signatures import SignatureGate
from hub.messages.models import MESSAGE_ADAPTER

PATH = "/lienthong/messages"


@dataclass
class Faults:
    latency_ms: float = 0.0
    fail_next: int = 0
    reject_next: int = 0
    down: bool = False


class FaultsPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latency_ms: float | None = Field(None, ge=0)
    fail_next: int | None = Field(None, ge=0)
    reject_next: int | None = Field(None, ge=0)
    down: bool | None = None


class Inbox:
    """What the simulated one-stop system received."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.messages: dict[str, dict[str, Any]] = {}
        self.faults = Faults()
        self.counters: dict[str, Any] = {"posts": 0, "received": 0, "duplicates": 0, "rejected": 0, "faults": 0,
                                         "signatures": {"verified": 0, "refused": 0}}

    def take(self, body: Any, signed: bool) -> tuple[int, dict[str, Any]]:
        """Check and remember one posted message; the HTTP status and answer."""
        try:
            message = MESSAGE_ADAPTER.validate_python(body)
        except ValidationError as exc:
            self.counters["rejected"] += 1
            first = exc.errors()[0]
            return 422, {"error": f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"}
        seen = self.messages.get(message.message_id)
        if seen is not None:
            seen["times"] += 1
            self.counters["duplicates"] += 1
            return 409, {"duplicate": True, "message_id": message.message_id}
        self.messages[message.message_id] = {"message": body, "times": 1, "signed": signed}
        self.counters["received"] += 1
        return 200, {"received": True, "message_id": message.message_id}


def create_app(jwks_url: str | None = None) -> FastAPI:
    """The simulator as an ASGI app; state lives in ``app.state.inbox``. With ``jwks_url``, a post
    without the hub's valid HTTP message signature is answered 401."""
    inbox = Inbox()
    signatures = SignatureGate(jwks_url)
    app = FastAPI(title="One-stop system simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.inbox = inbox

    @app.post(PATH)
    async def receive(request: Request) -> Response:
        inbox.counters["posts"] += 1
        faults = inbox.faults
        refused = await outage(faults, inbox.counters, {"error": "Service Unavailable (simulated)"})
        if refused is not None:
            return refused
        refusal = await signatures.refusal(request, inbox.counters["signatures"])
        if refusal:
            return json_response({"error": f"signature refused: {refusal}"}, signatures.status(refusal))
        if faults.reject_next > 0:
            faults.reject_next -= 1
            inbox.counters["faults"] += 1
            return json_response({"error": "rejected (simulated)"}, 422)
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return json_response({"error": "not JSON"}, 400)
        status, content = inbox.take(body, signed="signature" in request.headers)
        return json_response(content, status)

    @app.get("/_sim/state")
    async def state() -> Response:
        return json_response({"messages": inbox.messages, "counters": inbox.counters, "faults": asdict(inbox.faults)})

    @app.get("/_sim/messages/{message_id}")
    async def message(message_id: str) -> Response:
        found = inbox.messages.get(message_id)
        return json_response(found) if found else json_response({"detail": f"no message {message_id}"}, 404)

    add_controls(app, inbox, FaultsPatch)
    return app

