"""The control endpoints every simulator of a partner offers: ``POST /_sim/faults`` and ``POST /_sim/reset``
(and ``POST /_sim/pace`` for those whose partner moves on by itself); the faults they share (latency,
down, the next N calls failing); and their JSON answers.

``target`` is the simulator's state: it has ``faults`` (a dataclass whose fields the patch sets) and
``reset()``. A patch field that is not a fault but an action (``expire_tokens: true``: forget every
token) calls the target's method of that name. Only the fields given in a patch change; the answer is
every fault in force.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError


def json_response(content: Any, status_code: int = 200) -> Response:
    """``content`` as a JSON response."""
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json")


def apply_patch(target: Any, patch: BaseModel) -> None:
    """Set each fault the patch gives on ``target.faults``; call ``target.<name>()`` for each action set true."""
    for name, value in patch.model_dump(exclude_none=True).items():
        if hasattr(target.faults, name):
            setattr(target.faults, name, value)
        elif value is True:
            getattr(target, name)()


def add_controls(app: FastAPI, target: Any, patch_model: type[BaseModel]) -> None:
    """Route ``POST /_sim/faults`` (body: ``patch_model``) and ``POST /_sim/reset`` to ``target``."""

    @app.post("/_sim/faults")
    async def set_faults(request: Request) -> Response:
        try:
            patch = patch_model.model_validate_json(await request.body())
        except ValidationError as exc:
            return json_response({"detail": exc.errors(include_url=False, include_context=False)}, 422)
        apply_patch(target, patch)
        return json_response(asdict(target.faults))

    @app.post("/_sim/reset")
    async def reset() -> Response:
        target.reset()
        return json_response({"reset": True})


class Pace(BaseModel):
    """Body of ``POST /_sim/pace``: seconds between a simulated partner's own steps (0: only by the controls)."""

    seconds: float = Field(ge=0)


def add_pace(app: FastAPI, target: Any) -> None:
    """Route ``POST /_sim/pace`` to ``target.pace`` (seconds between the steps it takes by itself)."""

    @app.post("/_sim/pace")
    async def set_pace(request: Request) -> Response:
        try:
            target.pace = Pace.model_validate_json(await request.body()).seconds
        except ValidationError as exc:
            return json_response({"detail": exc.errors(include_url=False, include_context=False)}, 422)
        return json_response({"pace": target.pace})


async def outage(faults: Any, counters: dict[str, Any], body: dict[str, Any]) -> Response | None:
    """Apply the shared faults before an answer: wait ``faults.latency_ms``; while ``faults.down`` or for
    the next ``faults.fail_next`` calls, a 503 with ``body`` (counted in ``counters["faults"]``); else None."""
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    if faults.down or faults.fail_next > 0:
        faults.fail_next = max(0, faults.fail_next - 1)
        counters["faults"] += 1
        return json_response(body, 503)
    return None
