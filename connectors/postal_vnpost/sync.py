"""``GET /v1/postal/pickups?since=<cursor>&limit=<n>``: the postal operator's own sync.

With its own key (any other partner's key, a one-stop key with the ``read`` scope too, gets 403
``postal-operator-only`` from the handler, after the guard admitted it), the operator lists the
orders assigned to it that changed after ``since`` (``records.changed_since``: booked, a receipt,
cancelled), each once at its latest change, and asks next from ``next``. An item says what
to collect or deliver and from or to whom, with only the personal data the job needs (the
:class:`~connectors.postal_vnpost.records.Job` fields: never an identity number), and, on a pickup
whose dossier the one-stop system accepted, its receipt ``{number, at}``. Collection, hand-over and
delivery come back through the events endpoint.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.postal_vnpost import records
from connectors.postal_vnpost.refusals import invalid, operator_only
from hub.seam import Inbound, InboundRoute, Reply

#: The job's fields an item shows, and nothing else the stored job might hold.
JOB_FIELDS = tuple(f.name for f in fields(records.Job))
#: What each leg asks of the postman.
LEGS = {"pickup": "collect the dossier from the citizen and bring it to the agency",
        "result": "deliver the paper result from the agency to the citizen"}
MAX_CURSOR = 2**63 - 1  # a BIGINT


class SyncQuery(BaseModel):
    """The query string: the cursor after which to read, and how many changes at most."""

    model_config = ConfigDict(extra="ignore")

    since: int = Field(0, ge=0, le=MAX_CURSOR)
    limit: int = Field(100, ge=1, le=500)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def item(order: records.Order) -> dict[str, Any]:
    """One order as the operator sees it."""
    agency = {"agency_id": order.agency_id}
    return {
        "order_number": order.order_number, "leg": order.leg, "task": LEGS.get(order.leg, ""),
        "dossier_code": order.dossier_code, "waybill": order.waybill, "state": order.state, "step": order.step,
        "booked_at": _iso(order.booked_at),
        "job": {**{name: order.job.get(name) for name in JOB_FIELDS}, "cod_amount": order.cod_amount},
        "from": agency if order.leg == "result" else None, "to": agency if order.leg == "pickup" else None,
        "receipt": ({"number": order.receipt_number, "at": _iso(order.receipt_at)}
                    if order.receipt_number is not None else None),
    }


async def pickups(call: Inbound) -> Reply:
    """The orders of the calling operator changed after ``since``: ``{items, next}``."""
    ctx = call.ctx
    operator_only(call, "reading its pickups")
    try:
        query = SyncQuery.model_validate(dict(call.query))
    except ValidationError as exc:
        raise invalid(exc, "query") from None
    found, cursor = await call.run(records.changed_since, ctx.engine, ctx.code, query.since, query.limit)
    call.note("ok", f"postal sync: {len(found)} orders after {query.since}")
    return Reply(200, {"items": [item(o) for o in found], "next": cursor})


ROUTE = InboundRoute("GET", "/v1/postal/pickups", pickups, summary="Postal operator: its pickups and deliveries "
                     "changed since a cursor (its own key only)", route_class="read", body="none", tag="postal")
