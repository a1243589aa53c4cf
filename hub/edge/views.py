"""Read endpoints for partners: a message's delivery state, a dossier's trace."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hub.access.principal import Principal
from hub.edge.gate import admitted
from hub.edge.guard import GuardedRoute
from hub.edge.problems import Problem
from hub.edge.responses import json_response
from hub.messages.codes import check_dossier_code
from hub.store import queries

router = APIRouter(tags=["messages"], route_class=GuardedRoute)


@router.get("/v1/messages/{message_id}", summary="A message and the state of each of its deliveries")
async def get_message(request: Request, message_id: str, source: str | None = Query(None),
                      caller: Principal = Depends(admitted)) -> Response:
    """Partners see the messages they sent; operators see any (name ``source`` if the id is shared)."""
    if not caller.is_operator:
        source = caller.partner_code
    found = await run_in_threadpool(queries.find_messages, request.app.state.engine, message_id, source)
    return json_response(only_one(found, message_id, source))


def only_one(found: list[dict[str, Any]], message_id: str, source: str | None) -> dict[str, Any]:
    """The one message of ``found``; a 404 problem when none, a 422 asking for ``?source=`` when several."""
    if not found:
        raise Problem("not-found", f"no message {message_id!r}" + (f" from {source!r}" if source else ""))
    if len(found) > 1:
        raise Problem("validation", f"{len(found)} partners used message id {message_id!r}; name one",
                      [{"field": "source", "rule": "required_when_ambiguous", "message": "add ?source=<partner>"}],
                      sources=[m["source"] for m in found])
    return found[0]


@router.get("/v1/dossiers/{dossier_code}/trace", summary="Every message of a dossier, across partners, in time order")
async def get_trace(request: Request, dossier_code: str, caller: Principal = Depends(admitted)) -> Response:
    """Partners see the messages they sent or received; operators see all."""
    try:
        check_dossier_code(dossier_code)
    except ValueError as exc:
        raise Problem("validation", str(exc), [{"field": "dossier_code", "rule": "dossier_code", "message": str(exc)}]) from None
    viewer = None if caller.is_operator else caller.partner_code
    found = await run_in_threadpool(queries.trace, request.app.state.engine, dossier_code, viewer)
    if not found:
        raise Problem("not-found", f"no message about dossier {dossier_code!r} visible to this key")
    postal = await run_in_threadpool(queries.dossier_postal, request.app.state.engine, dossier_code)
    return json_response({"dossier_code": dossier_code, "postal": postal, "messages": found})
