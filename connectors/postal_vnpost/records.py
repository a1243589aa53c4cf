"""The postal orders the hub booked and the events it accepted (tables ``postal_orders``,
``postal_events``, ``postal_changes``). Nothing here reads the network.

An order is one pickup (leg ``pickup``: the dossier, from the citizen to the agency) or one delivery
(leg ``result``: the paper result, from the agency to the citizen), known by its ``OrderNumber``,
unique per postal partner. Its ``job`` is what the postman needs and nothing more (:class:`Job`).

An event is kept once per operator event id (:func:`record_events`), whichever way it came (the
tracking feed or a push); it moves its order's furthest step forward, never back, and sets the first
time of each step, so events out of order or repeated change nothing twice. Each change the operator
should see in its own sync (booked, receipt, cancelled) appends to ``postal_changes``, the keyset
feed of ``GET /v1/postal/pickups?since=``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, Sequence

import orjson
from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update

from hub.seam import reading, tables

orders = tables.postal_orders
events = tables.postal_events
changes = tables.postal_changes

Leg = Literal["pickup", "result"]
BOOKED, CANCELLED = "booked", "cancelled"

#: How far along each canonical step is: an order's ``step`` only moves to a higher rank.
RANK = {"postal.booked": 1, "postal.unrecognised": 1, "postal.collected": 2, "postal.in_transit": 3,
        "postal.failed": 4, "postal.returned": 5, "postal.handed_over": 6, "postal.delivered": 6,
        "postal.cancelled": 7}
#: The column holding the first time of each step.
STEP_COLUMN = {"postal.collected": "collected_at", "postal.handed_over": "handed_over_at",
               "postal.delivered": "delivered_at", "postal.failed": "failed_at", "postal.returned": "returned_at",
               "postal.cancelled": "cancelled_at"}


@dataclass(frozen=True, slots=True)
class Job:
    """What the postman collects or delivers, and from or to whom: only the data the job needs
    (no identity number). ``what``: the dossier's components, or the result."""

    name: str
    phone: str
    address: str
    ward: str | None
    district: str
    province: str
    what: list[str]
    cod_amount: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "phone": self.phone, "address": self.address, "ward": self.ward,
                "district": self.district, "province": self.province, "what": self.what,
                "cod_amount": self.cod_amount}


@dataclass(frozen=True, slots=True)
class Order:
    """One order as the hub holds it."""

    id: int
    partner: str
    order_number: str
    dossier_code: str
    agency_id: str
    leg: str
    state: str
    step: str
    waybill: str | None
    job: dict[str, Any]
    cod_amount: int
    cod_collected: int | None
    receipt_number: str | None
    receipt_at: datetime | None
    booked_at: datetime
    collected_at: datetime | None
    handed_over_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    returned_at: datetime | None
    cancelled_at: datetime | None

    @property
    def open(self) -> bool:
        """Still to be carried out: booked, not cancelled, not yet at its destination."""
        return self.state == BOOKED and self.handed_over_at is None and self.delivered_at is None


@dataclass(frozen=True, slots=True)
class Event:
    """One operator event, as :func:`record_events` stores it."""

    event_id: str
    order_number: str
    step: str  #: the canonical type (``postal.collected`` ...)
    operator_code: str
    recognised: bool
    at: datetime
    post_office: str | None = None
    waybill: str | None = None
    cod_amount: int | None = None


def _order(row: Any) -> Order:
    values = dict(row._mapping)
    values["job"] = orjson.loads(values["job"])
    values.pop("updated_at", None)
    return Order(**values)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _changed(conn: Connection, partner: str, order_id: int, at: datetime) -> None:
    conn.execute(insert(changes).values(partner=partner, order_id=order_id, at=at))


def book(conn: Connection, partner: str, order_number: str, *, dossier_code: str, agency_id: str, leg: Leg, job: Job,
         at: datetime | None = None) -> tuple[Order, bool]:
    """Record the booked order ``order_number`` (in ``conn``'s transaction); (the order, whether it is
    new). Booking one the hub already holds changes nothing, unless it was cancelled: then it is open again."""
    at = at or _now()
    found = conn.execute(select(orders).where(orders.c.partner == partner, orders.c.order_number == order_number)).first()
    if found is not None:
        if found.state != CANCELLED:
            return _order(found), False
        conn.execute(update(orders).where(orders.c.id == found.id).values(state=BOOKED, step="postal.booked",
                                                                          cancelled_at=None, booked_at=at, updated_at=at))
        _changed(conn, partner, found.id, at)
        return _order(conn.execute(select(orders).where(orders.c.id == found.id)).one()), True
    order_id: int = conn.execute(insert(orders).values(
        partner=partner, order_number=order_number, dossier_code=dossier_code, agency_id=agency_id, leg=leg,
        state=BOOKED, step="postal.booked", job=orjson.dumps(job.as_json()).decode(), cod_amount=job.cod_amount,
        booked_at=at, updated_at=at)).inserted_primary_key[0]  # type: ignore[index]
    _changed(conn, partner, order_id, at)
    return _order(conn.execute(select(orders).where(orders.c.id == order_id)).one()), True


def find(engine: Engine | Connection, partner: str, order_number: str) -> Order | None:
    """The order ``order_number``, or None."""
    q = select(orders).where(orders.c.partner == partner, orders.c.order_number == order_number)
    if isinstance(engine, Connection):
        row = engine.execute(q).first()
    else:
        with reading(engine) as conn:
            row = conn.execute(q).first()
    return _order(row) if row is not None else None


def of_dossier(engine: Engine, partner: str, dossier_code: str) -> list[Order]:
    """Every order of the dossier, oldest first."""
    with reading(engine) as conn:
        return [_order(r) for r in conn.execute(select(orders).where(
            orders.c.partner == partner, orders.c.dossier_code == dossier_code).order_by(orders.c.id))]


def held(engine: Engine, partner: str, order_numbers: Sequence[str]) -> dict[str, tuple[str, str]]:
    """order number -> (leg, state) of each of ``order_numbers`` the hub holds (one query per 500 numbers)."""
    numbers = list(dict.fromkeys(order_numbers))
    found: dict[str, tuple[str, str]] = {}
    with reading(engine) as conn:
        for start in range(0, len(numbers), 500):
            for number, leg, state in conn.execute(select(orders.c.order_number, orders.c.leg, orders.c.state).where(
                    orders.c.partner == partner, orders.c.order_number.in_(numbers[start:start + 500]))):
                found[number] = (leg, state)
    return found


def cancelled(conn: Connection, partner: str, order_number: str, at: datetime | None = None) -> Order | None:
    """Mark the order cancelled (the operator confirmed it); None if the hub does not hold it."""
    at = at or _now()
    found = find(conn, partner, order_number)
    if found is None:
        return None
    if found.state != CANCELLED:
        conn.execute(update(orders).where(orders.c.id == found.id).values(
            state=CANCELLED, step="postal.cancelled", cancelled_at=found.cancelled_at or at, updated_at=at))
        _changed(conn, partner, found.id, at)
    return find(conn, partner, order_number)


def receipt(conn: Connection, partner: str, dossier_code: str, number: str, at: datetime) -> list[Order]:
    """The acceptance receipt of a dossier that came by post, on its pickup order(s); the orders changed."""
    now = _now()
    rows = conn.execute(select(orders).where(orders.c.partner == partner, orders.c.dossier_code == dossier_code,
                                             orders.c.leg == "pickup")).all()
    for row in rows:
        if row.receipt_number != number:
            conn.execute(update(orders).where(orders.c.id == row.id).values(receipt_number=number, receipt_at=at,
                                                                            updated_at=now))
            _changed(conn, partner, row.id, now)
    return [_order(r) for r in conn.execute(select(orders).where(orders.c.id.in_([r.id for r in rows])))]


def known_events(conn: Connection, partner: str, event_ids: Sequence[str]) -> set[str]:
    """Which of ``event_ids`` the hub already holds."""
    if not event_ids:
        return set()
    found: set[str] = set()
    ids = list(dict.fromkeys(event_ids))
    for start in range(0, len(ids), 500):
        found.update(conn.execute(select(events.c.event_id).where(
            events.c.partner == partner, events.c.event_id.in_(ids[start:start + 500]))).scalars())
    return found


def record_events(conn: Connection, partner: str, batch: Sequence[Event], origin: Literal["feed", "push"]) -> list[Event]:
    """Store the events of ``batch`` the hub does not hold yet (by event id; repeats inside the batch
    count once) and move their orders forward; the events stored, in batch order. An event for an
    order the hub does not hold is stored too, without a dossier (flagged by the caller)."""
    seen = known_events(conn, partner, [e.event_id for e in batch])
    fresh: list[Event] = []
    for event in batch:
        if event.event_id not in seen:
            seen.add(event.event_id)
            fresh.append(event)
    if not fresh:
        return []
    numbers = list({e.order_number for e in fresh})
    held: dict[str, Any] = {}
    for start in range(0, len(numbers), 500):
        for row in conn.execute(select(orders).where(orders.c.partner == partner,
                                                     orders.c.order_number.in_(numbers[start:start + 500]))):
            held[row.order_number] = row
    now = _now()
    conn.execute(insert(events), [
        {"partner": partner, "event_id": e.event_id, "order_number": e.order_number,
         "dossier_code": held[e.order_number].dossier_code if e.order_number in held else None,
         "leg": held[e.order_number].leg if e.order_number in held else None, "step": e.step,
         "operator_code": e.operator_code, "recognised": 1 if e.recognised else 0, "at": e.at,
         "post_office": e.post_office, "origin": origin, "received_at": now} for e in fresh])
    by_order: dict[str, list[Event]] = {}
    for event in fresh:
        by_order.setdefault(event.order_number, []).append(event)
    # One UPDATE statement per set of columns changed, executed for every order it applies to
    # (an UPDATE per order was most of a feed page's time).
    moves: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for number, row in held.items():
        values = _advance(conn, partner, row, by_order[number], now)
        if values:
            moves.setdefault(tuple(sorted(values)), []).append({"order_pk": row.id, "updated_at": now, **values})
    for params in moves.values():  # the SET clause: the parameters' columns (all rows of a group have the same)
        conn.execute(update(orders).where(orders.c.id == bindparam("order_pk")), params)
    return fresh


def _advance(conn: Connection, partner: str, row: Any, steps: list[Event], now: datetime) -> dict[str, Any]:
    """The columns of order ``row`` that ``steps`` move forward (its change appended when it is cancelled)."""
    values: dict[str, Any] = {}
    step = row.step
    for event in steps:
        if RANK.get(event.step, 0) > RANK.get(step, 0) and not (row.state == CANCELLED and event.step != "postal.cancelled"):
            step = event.step
        column = STEP_COLUMN.get(event.step)
        if column is not None:
            current = values.get(column, getattr(row, column))
            if current is None or event.at < current:
                values[column] = event.at
        if event.waybill and not (values.get("waybill") or row.waybill):
            values["waybill"] = event.waybill
        if event.step == "postal.delivered" and event.cod_amount is not None:
            values["cod_collected"] = event.cod_amount
    if step != row.step:
        values["step"] = step
    if "cancelled_at" in values and row.state != CANCELLED:
        values["state"] = CANCELLED
        _changed(conn, partner, row.id, now)
    return values


def unrecognised_codes(engine: Engine, partner: str) -> list[dict[str, Any]]:
    """The operator codes of the events kept as unrecognised: ``{code, events, last_at}``, most seen first."""
    with reading(engine) as conn:
        found = conn.execute(select(events.c.operator_code, func.count(), func.max(events.c.at)).where(
            events.c.partner == partner, events.c.recognised == 0).group_by(events.c.operator_code)).all()
    return sorted(({"code": code, "events": count, "last_at": last.isoformat() if last else None}
                   for code, count, last in found), key=lambda r: (-r["events"], r["code"]))


def changed_since(engine: Engine, partner: str, since: int, limit: int = 100) -> tuple[list[Order], int]:
    """The orders changed after change ``since`` (each once, at its latest change), and the cursor
    to ask from next (the last change read; ``since`` itself when nothing changed)."""
    with reading(engine) as conn:
        rows = conn.execute(select(changes.c.id, changes.c.order_id).where(
            changes.c.partner == partner, changes.c.id > since).order_by(changes.c.id).limit(limit)).all()
        if not rows:
            return [], since
        latest: dict[int, int] = {}
        for change_id, order_id in rows:
            latest[order_id] = change_id
        found = {r.id: _order(r) for r in conn.execute(select(orders).where(orders.c.id.in_(list(latest))))}
    ordered = sorted(latest, key=latest.__getitem__)
    return [found[i] for i in ordered if i in found], rows[-1][0]
