"""``POST /v1/messages`` and ``POST /v1/messages:batch``: accept, store durably, answer a receipt."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from prometheus_client import Counter
from starlette.responses import Response

from hub.access.principal import Principal
from hub.edge.body import decode_json
from hub.edge.gate import admitted
from hub.edge.guard import GuardedRoute
from hub.edge.prepare import prepare
from hub.edge.problems import Problem
from hub.edge.responses import json_response
from hub.store.intake import Prepared

router = APIRouter(tags=["messages"], route_class=GuardedRoute)
INTAKE = Counter("lienthong_intake_messages_total", "Messages offered at the edge, by verdict", ["verdict"])

ENVELOPE_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "/schemas/messages/message.json"}}},
    }
}


@router.post(
    "/v1/messages",
    status_code=202,
    summary="Accept one message",
    openapi_extra=ENVELOPE_DOC,
    responses={200: {"description": "Same message id and body seen before: the original receipt"},
               409: {"description": "Same message id, different body"}},
)
async def post_message(request: Request) -> Response:
    """Store the message and its deliveries in one transaction; 202 with a receipt.

    Sending the same ``message_id`` again with the same body answers 200 with the original receipt.
    """
    gate = request.app.state.gate
    caller: Principal = request.scope["state"]["principal"]  # admitted by the guard, body read and signature checked
    try:
        data = decode_json(await request.body())
        if isinstance(data, dict) and isinstance(data.get("message_id"), str):
            request.scope["state"]["message_ids"] = (data["message_id"][:100],)
        prepared = prepare(data, caller, request.app.state.routes, rules=request.app.state.intake_rules)
        request.scope["state"]["summary"] = f"{prepared.type} {prepared.dossier_code or prepared.order_key}"
    except Problem:
        INTAKE.labels("rejected").inc()
        await gate.limit(request, caller, "intake")  # bad input is charged too; over the limit, 429 wins
        raise
    # The rate limit is charged with the write: one wait for both (see hub/edge/group_commit.py).
    decision, results = await request.app.state.committer.submit_charged([prepared], gate.checks(caller, "intake"))
    gate.apply(request, caller, decision)
    assert results is not None
    [result] = results
    INTAKE.labels(result.verdict).inc()
    if result.verdict == "conflict":
        raise Problem("conflict", f"message_id {prepared.message_id!r} was already used for another message",
                      [{"field": "message_id", "rule": "unique_per_source", "message": "use a new message_id"}],
                      receipt=result.receipt.as_json())
    return json_response(result.receipt.as_json(), 202 if result.verdict == "created" else 200)


@router.post("/v1/messages:batch", summary="Accept up to 50 messages, with a result per item")
async def post_batch(request: Request, caller: Principal = Depends(admitted)) -> Response:
    """``{"messages": [...]}``: valid items are stored in one transaction; each item gets its own
    status (202 stored, 200 duplicate, 409 conflict, 4xx problem)."""
    settings = request.app.state.settings
    data = decode_json(await request.body())
    items = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise Problem("validation", "the body must be {\"messages\": [ ... ]} with at least one message",
                      [{"field": "messages", "rule": "non_empty_list", "message": "a list of messages"}])
    if len(items) > settings.batch_max:
        raise Problem("batch-too-large", f"{len(items)} messages; at most {settings.batch_max} per batch",
                      [{"field": "messages", "rule": "max_items", "message": f"at most {settings.batch_max}"}])
    state = request.scope["state"]
    state["message_ids"] = [str(it["message_id"])[:100] for it in items if isinstance(it, dict) and "message_id" in it]
    state["summary"] = f"batch of {len(items)} messages"
    results: list[dict[str, Any] | None] = [None] * len(items)
    good: list[tuple[int, Prepared]] = []
    for i, item in enumerate(items):
        try:
            good.append((i, prepare(item, caller, request.app.state.routes, f"messages.{i}", request.app.state.intake_rules)))
        except Problem as problem:
            INTAKE.labels("rejected").inc()
            results[i] = {"index": i, "status": problem.status, "problem": problem.body()}
    if good:
        stored = await request.app.state.committer.submit([p for _, p in good])
        for (i, _), res in zip(good, stored):
            INTAKE.labels(res.verdict).inc()
            status = {"created": 202, "duplicate": 200, "conflict": 409}[res.verdict]
            results[i] = {"index": i, "status": status, "receipt": res.receipt.as_json()}
    counts = {s: sum(1 for r in results if r and r["status"] == s) for s in (202, 200, 409)}
    return json_response({
        "accepted": counts[202],
        "duplicates": counts[200],
        "conflicts": counts[409],
        "rejected": len(items) - sum(counts.values()),
        "results": results,
    })
