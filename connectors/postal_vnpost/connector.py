"""``PostalConnector``: the hub's orders at VNPost, one canonical message at a time, in dossier order.

* ``dossier.submitted`` with a ``pickup``: book the pickup order (citizen -> agency);
* ``result.issued``, paper, with ``by_post``: book the delivery order ``<code>-KQ`` (agency -> citizen);
* ``status.changed`` 2 with a ``receipt_number``: note the receipt on the dossier's pickup order(s)
  (the operator's sync shows it); 3, 7, 8 (not accepted, withdrawn, stopped): cancel each open order.

A booking or a cancellation VNPost confirmed is stored with its canonical ``postal.booked`` /
``postal.cancelled`` event in ONE transaction (``Context.submit_many`` with the order row written by
``then``): both or neither. ``101`` (VNPost already holds the order) counts as booked, and an order
the hub already holds is not sent again, so a redelivery books nothing twice.

Outcomes: VNPost timeouts, 5xx, the hub's store being down: transient (and every later message of
the call too); VNPost's refusal: permanent with its ``Message``; an agency with no postal
configuration, or a type it does not take: permanent.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any, ClassVar, Sequence

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from connectors.postal_vnpost import records
from connectors.postal_vnpost.client import PermanentError, TransientError, VnpostClient
from connectors.postal_vnpost.interface import Order
from connectors.postal_vnpost.mapping import (
    SOURCE,
    Leg,
    delivery_job,
    delivery_order,
    pickup_job,
    pickup_order,
    postal_event,
)
from connectors.postal_vnpost.settings import AgencyPost
from hub.messages.codes import DossierStatus
from hub.messages.models import POSTAL_TYPES, DossierSubmitted, ResultIssued, StatusChanged
from hub.seam import Context, Envelope, Outcome, Refused, Unavailable, in_order

#: Statuses that end a dossier before its result: its open orders are cancelled.
ENDING = frozenset({DossierStatus.NOT_ACCEPTED, DossierStatus.WITHDRAWN, DossierStatus.STOPPED})


class NotConfigured(Exception):
    """The agency has no VNPost account in the settings (``agencies``)."""


class PostalConnector:
    """VNPost, through one :class:`VnpostClient` per account (client id, customer code) in use."""

    max_batch: ClassVar[int] = 10

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._clients: dict[tuple[str, str], VnpostClient] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_context(cls, ctx: Context) -> PostalConnector:
        return cls(ctx)

    def deliver(self, messages: Sequence[Envelope]) -> list[Outcome]:
        """One outcome per message, in order; after a transient failure nothing later is sent."""
        return in_order(messages, self._one)

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    # -- one message -----------------------------------------------------------------------------

    def _one(self, message: Envelope) -> Outcome:
        try:
            if isinstance(message, DossierSubmitted):
                return self._pickup(message)
            if isinstance(message, ResultIssued):
                return self._result(message)
            if isinstance(message, StatusChanged):
                return self._status(message)
            return Outcome.permanent(f"{getattr(message, 'type', type(message).__name__)} not accepted by {SOURCE}")
        except TransientError as exc:
            return Outcome.transient(exc.reason)
        except PermanentError as exc:
            return Outcome.permanent(exc.reason)
        except NotConfigured as exc:
            return Outcome.permanent(str(exc))
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors(include_url=False, include_input=False))
            return Outcome.permanent(f"the order does not fit VNPost's format: {fields}")
        except Refused as exc:
            return Outcome.permanent(f"the hub refused the postal event: {exc.slug}: {exc.detail}")
        except (Unavailable, SQLAlchemyError) as exc:
            return Outcome.transient(f"the hub's store is unavailable ({type(exc).__name__})")

    def _pickup(self, message: DossierSubmitted) -> Outcome:
        if message.payload.pickup is None:
            return Outcome.ok("not a pickup dossier")
        agency = self._agency(message.payload.agency_id)
        return self._book(pickup_order(message, agency), agency, message.dossier_code, message.payload.agency_id,
                          "pickup", pickup_job(message))

    def _result(self, message: ResultIssued) -> Outcome:
        if not message.payload.paper or message.payload.by_post is None:
            return Outcome.ok("not a paper result by post")
        agency = self._agency(message.payload.agency_id)
        return self._book(delivery_order(message, agency), agency, message.dossier_code, message.payload.agency_id,
                          "result", delivery_job(message))

    def _status(self, message: StatusChanged) -> Outcome:
        payload = message.payload
        if payload.status == DossierStatus.ACCEPTED:
            if not payload.receipt_number:
                return Outcome.ok("accepted without a receipt number")
            with self.ctx.engine.begin() as conn:
                changed = records.receipt(conn, SOURCE, message.dossier_code, payload.receipt_number, payload.handled_at)
            return Outcome.ok(f"receipt noted on {len(changed)} pickup order(s)")
        if payload.status in ENDING:
            return self._cancel_open(message.dossier_code)
        return Outcome.ok(f"status {int(payload.status)}: nothing for the post")

    # -- VNPost and the records ------------------------------------------------------------------

    def _book(self, order: Order, agency: AgencyPost, dossier_code: str, agency_id: str, leg: Leg,
              job: records.Job) -> Outcome:
        held = records.find(self.ctx.engine, SOURCE, order.OrderNumber)
        if held is not None:
            return Outcome.ok(f"the hub already holds this order ({held.state})")
        answer = self._client(agency).create_order(order)
        at = datetime.now(timezone.utc)
        event = postal_event("booked", dossier_code=dossier_code, agency_id=agency_id, leg=leg,
                             order_number=order.OrderNumber, status=answer.Status, meaning=answer.Message, at=at)

        def store(conn: Any, verdicts: list[str]) -> None:
            records.book(conn, SOURCE, order.OrderNumber, dossier_code=dossier_code, agency_id=agency_id, leg=leg,
                         job=job, at=at)

        [verdict] = self.ctx.submit_many([event], types=POSTAL_TYPES, then=store)
        return Outcome.ok(f"booked (VNPost status {answer.Status}); postal.booked {verdict}")

    def _cancel_open(self, dossier_code: str) -> Outcome:
        orders = [o for o in records.of_dossier(self.ctx.engine, SOURCE, dossier_code) if o.open]
        if not orders:
            return Outcome.ok("no open postal order")
        for order in orders:
            answer = self._client(self._agency(order.agency_id)).cancel(order.order_number)
            at = datetime.now(timezone.utc)
            leg: Leg = "result" if order.leg == "result" else "pickup"
            event = postal_event("cancelled", dossier_code=dossier_code, agency_id=order.agency_id, leg=leg,
                                 order_number=order.order_number, status=answer.Status, meaning=answer.Message, at=at)

            def store(conn: Any, verdicts: list[str], number: str = order.order_number, when: datetime = at) -> None:
                records.cancelled(conn, SOURCE, number, when)

            self.ctx.submit_many([event], types=POSTAL_TYPES, then=store)
        return Outcome.ok(f"cancelled {len(orders)} order(s)")

    def _agency(self, agency_id: str) -> AgencyPost:
        agency: AgencyPost | None = self.ctx.settings.agencies.get(agency_id)
        if agency is None:
            raise NotConfigured(f"no postal configuration for agency {agency_id}")
        return agency

    def _client(self, agency: AgencyPost) -> VnpostClient:
        """The client of the agency's account (built once per client id and customer code)."""
        s = self.ctx.settings
        client_id = agency.client_id or s.client_id
        with self._lock:
            client = self._clients.get((client_id, agency.customer_code))
            if client is None:
                client = self._clients[(client_id, agency.customer_code)] = VnpostClient(
                    token_url=s.token_url, order_url=s.order_url, cancel_url=s.cancel_url,
                    tracking_url=s.tracking_url, price_url=s.price_url, customer_code=agency.customer_code,
                    client_id=client_id, client_secret=self.ctx.credential("client_secret", s.client_secret) or "",
                    timeout=s.timeout, feed_page_size=s.feed_page_size)
            return client
