"""The way back: the registry's vaccination events become canonical ``status.changed`` messages.

Two paths, one mapping (:func:`to_message`): the registry pushes an event to the hub
(``POST /v1/tiemchung/events``, with its API key: :func:`pushed`), and the hub reads the registry's
feed on a schedule (``GET {url}/feed?after=<id>``, its last id kept in a durable cursor: :func:`pull`).
The same event by both paths is one message (``message_id`` from the event id).
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from hub.seam import Context, Inbound, InboundRoute, Job, Refused, Reply, Unavailable

TYPES = ("status.changed",)
AGENCY = "000.00.00.H49"


def to_message(event: dict[str, Any]) -> dict[str, Any]:
    """``{id, dossier_code, at, note}`` as the canonical status change (step 4: being handled)."""
    return {"message_id": f"tiemchung-{event['id']}", "source": "tiemchung", "type": "status.changed",
            "occurred_at": event["at"], "dossier_code": event["dossier_code"],
            "payload": {"agency_id": AGENCY, "status": 4, "handled_at": event["at"],
                        "handler_name": "Hệ thống tiêm chủng", "content": event.get("note") or "Đã tiêm"}}


async def pushed(call: Inbound) -> Reply:
    """One event pushed by the registry; answered in its own format ``{accepted, message_id}``."""
    try:
        event = orjson.loads(await call.body())
        message = to_message(event)
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        call.note("malformed", f"tiemchung event: {type(exc).__name__}")
        return Reply(400, {"accepted": False, "error": "malformed event"})
    try:
        verdict = await call.submit(message, source="tiemchung", types=TYPES)
    except Refused as refused:
        call.note(refused.slug, f"tiemchung event {event.get('id')}: {refused.detail}")
        return Reply(422, {"accepted": False, "error": refused.slug})
    except Unavailable:
        return Reply(503, {"accepted": False, "error": "try again"})
    call.note("ok" if verdict != "conflict" else "conflict", f"tiemchung event {event['id']}: {verdict}")
    return Reply(202, {"accepted": True, "message_id": message["message_id"], "verdict": verdict})


def pull(ctx: Context) -> None:
    """Read the feed after the cursor, page by page; each event becomes one message, then the cursor moves."""
    cursor = ctx.cursor("feed")
    with httpx.Client(base_url=ctx.settings.url.rstrip("/"), timeout=ctx.settings.timeout) as http:
        while True:
            page = http.get("/feed", params={"after": cursor.get() or "0", "limit": 100}).raise_for_status().json()
            for event in page["events"]:
                ctx.submit(to_message(event), types=TYPES)
                cursor.set(str(event["id"]))  # after the message is stored: a crash repeats it, deduplicated
            if not page["events"]:
                return


ROUTE = InboundRoute("POST", "/v1/tiemchung/events", pushed, summary="Vaccination registry: one event pushed to the hub",
                     route_class="intake", body="raw", tag="tiemchung")
FEED = Job("feed", pull, every=lambda ctx: ctx.settings.poll_seconds)
