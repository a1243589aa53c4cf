"""``POST /v1/postal/events``: VNPost pushes tracking events to the hub.

Only the postal partner's own key may push: the route's access rule admits any key scoped to
``intake``, and the handler refuses another partner's with its own problem type
(``postal-operator-only``, 403). The body is a JSON list of events in the feed's document shape, or
``{"events": [...]}``, at most :data:`MAX_EVENTS` of them; each needs its ``_id`` (``{"$oid"}`` or a
string id: the operator's own reports of collection, hand-over and delivery carry ids of its own).
They go through the feed's mapping (``events.py``), so an event pushed and also read from the feed
is one message and one ``postal_events`` row. Answer 202 ``{received, stored, duplicates, unrecognised}``.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from connectors.postal_vnpost.events import Stored, event_key, event_time, map_events, store
from connectors.postal_vnpost.interface import TrackingEvent
from connectors.postal_vnpost.refusals import invalid, operator_only
from hub.seam import Context, Inbound, InboundRoute, Refused, Reply

MAX_EVENTS = 1000
MAX_BYTES = 1024 * 1024
_EVENTS = TypeAdapter(list[TrackingEvent])


def parse(raw: bytes) -> list[tuple[str, TrackingEvent]]:
    """The pushed events with their ids; :class:`Refused` (``malformed-json``, ``validation``,
    ``batch-too-large``) naming the event and the field, never its content."""
    try:
        body: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Refused("malformed-json", "the body is not valid JSON") from None
    if isinstance(body, dict) and set(body) == {"events"}:
        body = body["events"]
    if not isinstance(body, list):
        raise Refused("validation", 'the body is a JSON list of events, or {"events": [...]}')
    if len(body) > MAX_EVENTS:
        raise Refused("batch-too-large", f"{len(body)} events; at most {MAX_EVENTS} in one push")
    try:
        events = _EVENTS.validate_python(body)
    except ValidationError as exc:
        raise invalid(exc, "events") from None
    keyed: list[tuple[str, TrackingEvent]] = []
    for index, event in enumerate(events):
        key = event_key(event)
        if key is None:
            raise Refused("validation", f"event {index}._id: an id is required ({{\"$oid\": \"<24 hex>\"}} or up to 57 "
                                        "letters, digits and ._:-)")
        if event_time(event.EventTime) is None:
            raise Refused("validation", f"event {index}.EventTime: epoch milliseconds or an ISO 8601 time")
        keyed.append((key, event))
    return keyed


def accept(ctx: Context, keyed: list[tuple[str, TrackingEvent]]) -> Stored:
    """Map and store the pushed events (a blocking call: run it in a thread)."""
    return store(ctx, map_events(ctx.engine, ctx.code, keyed), "push")


async def pushed(call: Inbound) -> Reply:
    """Store the events VNPost pushed; 202 with what became of them."""
    ctx = call.ctx
    operator_only(call, "pushing postal events")
    try:
        keyed = parse(await call.body())
    except Refused as refused:
        call.note(refused.slug, f"vnpost push refused: {refused.detail}")
        raise
    result: Stored = await call.run(accept, ctx, keyed)
    answer = {**result.as_json(), "received": len(keyed), "duplicates": len(keyed) - result.stored}
    call.note("ok", f"vnpost push: {answer['received']} event(s), {answer['stored']} new, "
                    f"{answer['duplicates']} already held, {answer['unrecognised']} unrecognised")
    return Reply(202, answer)


ROUTE = InboundRoute("POST", "/v1/postal/events", pushed, summary="VNPost: tracking events pushed to the hub",
                     route_class="intake", body="json", max_bytes=MAX_BYTES, tag="postal")
