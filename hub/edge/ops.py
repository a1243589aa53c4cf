"""Operations API (operators, and keys scoped to ``ops``): flows, dead letters, delivery history, replay."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hub.edge.guard import GuardedRoute
from hub.edge.params import MAX_ID, After, RowId
from hub.edge.problems import Problem
from hub.edge.responses import json_response, page_response
from hub.queue.replay import MAX_IDS, replay
from hub.store import queries

router = APIRouter(tags=["operations"], route_class=GuardedRoute)


@router.get("/v1/flows", summary="Deliveries per destination and state")
async def get_flows(request: Request) -> Response:
    rows = await run_in_threadpool(queries.state_counts, request.app.state.engine)
    flows: dict[str, dict[str, int]] = {}
    for dest, state, n in rows:
        flows.setdefault(dest, {})[state] = n
    return json_response({"destinations": flows})


@router.get("/v1/dead-letters", summary="Dead deliveries, oldest first")
async def get_dead_letters(request: Request, destination: str | None = None,
                           after: After = 0,
                           limit: int = Query(100, ge=1, le=1000)) -> Response:
    items = await run_in_threadpool(queries.dead_letters, request.app.state.engine, destination, after, limit)
    return page_response(items, limit)


@router.get("/v1/deliveries/{delivery_id}", summary="One delivery, its message and every attempt")
async def get_delivery(request: Request, delivery_id: RowId) -> Response:
    found = await run_in_threadpool(queries.delivery_detail, request.app.state.engine, delivery_id)
    if found is None:
        raise Problem("not-found", f"no delivery {delivery_id}")
    return json_response(found)


def checked_replay(ids: object, destination: object) -> tuple[list[int] | None, str | None]:
    """The deliveries a replay names, checked (the API's JSON and the console's form alike): ids, a
    destination, or both; a 422 problem naming the field otherwise."""
    if ids is None and destination is None:
        raise Problem("validation", "name the deliveries to replay",
                      [{"field": "ids", "rule": "ids_or_destination", "message": "give ids, destination, or both"}])
    if ids is not None and not (isinstance(ids, list) and len(ids) <= MAX_IDS
                                and all(type(i) is int and 0 <= i <= MAX_ID for i in ids)):
        raise Problem("validation", f"ids must be a list of at most {MAX_IDS} delivery ids",
                      [{"field": "ids", "rule": "list_of_int", "message": "e.g. [12, 13]"}])
    if destination is not None and not (isinstance(destination, str) and len(destination) <= 40):
        raise Problem("validation", "destination must be a partner code",
                      [{"field": "destination", "rule": "partner_code", "message": "a partner's code, as in the routing table"}])
    return ids, destination


async def replay_dead(request: Request, ids: object, destination: object) -> list[tuple[int, str]]:
    """Check what to replay, replay it (:func:`hub.queue.replay.replay`) and say so in the access
    record; returns ``(id, destination)`` of each delivery replayed."""
    checked_ids, checked_destination = checked_replay(ids, destination)
    replayed = await run_in_threadpool(replay, request.app.state.engine, request.app.state.notifier,
                                       checked_ids, checked_destination)
    request.scope.setdefault("state", {})["summary"] = f"replay of {len(replayed)} dead deliveries"
    return replayed


@router.post("/v1/deliveries/{delivery_id}:replay", status_code=202, summary="Send one dead delivery again")
async def replay_one(request: Request, delivery_id: RowId) -> Response:
    replayed = await replay_dead(request, [delivery_id], None)
    if not replayed:
        raise Problem("not-found", f"no dead delivery {delivery_id}")
    return json_response({"replayed": [i for i, _ in replayed]}, 202)


@router.post("/v1/dead-letters:replay", status_code=202, summary="Send dead deliveries again, by id or by destination")
async def replay_many(request: Request, body: dict[str, Any] = Body(..., examples=[{"destination": "<partner code>"}])) -> Response:
    replayed = await replay_dead(request, body.get("ids"), body.get("destination"))
    return json_response({"replayed": [i for i, _ in replayed]}, 202)
