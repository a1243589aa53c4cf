"""The payments the hub knows of (table ``payments``): what a platform callback is bound to.

A payment is known by its reference ``MaThamChieu``, unique per payment partner (the hub's code
for the platform, ``national_payment``), with the dossier ``MaHoSo``, agency ``MaDonVi``,
procedure ``MaTTHC`` and amount ``SoTien`` it was opened for. The hub learns of one

* when it opens it: :class:`PaymentClient <.client.PaymentClient>` given a :class:`Ledger`
  records each INIT before sending it (``origin`` "init");
* when it is told of a bill: :func:`record` with ``origin`` "bill" (no canonical message carries a
  payment reference today; see README.md, "Payments the hub knows of").

A callback is believed only for a known reference, with the same dossier, agency, procedure and
amount (:func:`.callback.bind`); a confirmed payment is marked ``paid`` with its ``MaGiaoDich``
(:func:`mark_paid`). Nothing here reads the network.

States (``state``): ``open`` (the citizen has not paid yet) → ``paid`` (a callback, or a QUERY,
said so), or closed without payment: ``failed`` (QUERY: the payment failed), ``expired`` (still
pending after ``expires_at``), ``unknown`` (QUERY: the platform does not know the reference). A
paid callback marks any of them paid: the platform's checksummed word wins. The payment loop
(:mod:`.loop`) also keeps here the payment page (``pay_url``, ``expires_at``), the QUERYs asked
(``queried_at``, ``queries``) and the receipt routed (``receipt_number``, ``receipt_at``; GET_BILL
last asked ``bill_asked_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, Mapping

from sqlalchemy import Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub.seam import reading, tables

payments = tables.payments

OPEN, PAID, FAILED, EXPIRED, UNKNOWN = "open", "paid", "failed", "expired", "unknown"
CLOSED = frozenset({FAILED, EXPIRED, UNKNOWN})  #: closed without a payment (a paid callback still reopens them)
Origin = Literal["init", "bill"]
#: Longest value each column holds (the wire format sets no limit on the receipt's codes).
LIMITS = {"reference": 100, "dossier_code": 100, "agency_id": 40, "procedure_code": 60}


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """One known payment, as a callback is checked against it."""

    partner: str
    reference: str
    dossier_code: str
    agency_id: str
    procedure_code: str
    amount: int
    state: str
    transaction_id: str | None
    origin: str
    created_at: datetime | None = None
    paid_at: datetime | None = None
    pay_url: str | None = None
    expires_at: datetime | None = None
    queried_at: datetime | None = None
    queries: int = 0
    receipt_number: str | None = None

    def differs_from(self, other: "PaymentRecord") -> list[str]:
        """The bound fields (dossier, agency, procedure, amount) in which ``other`` differs."""
        return [name for name in ("dossier_code", "agency_id", "procedure_code", "amount")
                if getattr(self, name) != getattr(other, name)]


class ReferenceTaken(ValueError):
    """The reference is already known for another dossier, agency, procedure or amount."""


def _record(row: Any) -> PaymentRecord:
    return PaymentRecord(row.partner, row.reference, row.dossier_code, row.agency_id, row.procedure_code,
                         int(row.amount), row.state, row.transaction_id, row.origin, row.created_at, row.paid_at,
                         row.pay_url, row.expires_at, row.queried_at, int(row.queries or 0), row.receipt_number)


def record(engine: Engine, partner: str, reference: str, *, dossier_code: str, agency_id: str, procedure_code: str,
           amount: int, origin: Origin) -> PaymentRecord:
    """Know the payment ``reference``; returns its record. Recording the same payment again is
    harmless (the first record is kept); the same reference with another dossier, agency, procedure
    or amount raises :class:`ReferenceTaken`, a value too long for its column ``ValueError``."""
    wanted = PaymentRecord(partner, reference, dossier_code, agency_id, procedure_code, int(amount), OPEN, None, origin)
    for name, limit in LIMITS.items():
        if not 0 < len(getattr(wanted, name)) <= limit:
            raise ValueError(f"{name}: 1 to {limit} characters")
    if wanted.amount < 0:
        raise ValueError("amount: whole đồng, not negative")
    now = datetime.now(timezone.utc)
    try:
        with engine.begin() as conn:
            conn.execute(insert(payments).values(
                partner=partner, reference=reference, dossier_code=dossier_code, agency_id=agency_id,
                procedure_code=procedure_code, amount=wanted.amount, state=OPEN, origin=origin, created_at=now,
                updated_at=now))
        return wanted
    except IntegrityError:  # known already (unique partner + reference): the same payment, or a clash
        known = find(engine, partner, reference)
        if known is None:
            raise
        clash = known.differs_from(wanted)
        if clash:
            raise ReferenceTaken(f"MaThamChieu {reference!r} is already known with another "
                                 f"{', '.join(clash)}") from None
        return known


def find(engine: Engine, partner: str, reference: str) -> PaymentRecord | None:
    """The record of ``reference`` at ``partner``, or None when the hub does not know it."""
    with reading(engine) as conn:
        row = conn.execute(select(payments).where(payments.c.partner == partner,
                                                  payments.c.reference == reference)).first()
    return _record(row) if row is not None else None


def mark_paid(engine: Engine, partner: str, reference: str, transaction_id: str, paid_at: datetime) -> bool:
    """Mark a payment that is not paid yet (open, or closed without payment) paid by
    ``transaction_id``; True when this call changed it (a paid record keeps its first transaction,
    so marking again is idempotent)."""
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        changed = conn.execute(update(payments).where(
            payments.c.partner == partner, payments.c.reference == reference, payments.c.state != PAID,
        ).values(state=PAID, transaction_id=transaction_id[:100], paid_at=paid_at, updated_at=now)).rowcount
    return bool(changed)


def _where(partner: str, reference: str) -> Any:
    return (payments.c.partner == partner) & (payments.c.reference == reference)


def page_opened(engine: Engine, partner: str, reference: str, pay_url: str, expires_at: datetime) -> PaymentRecord:
    """Keep the payment page INIT answered (the first expiry is kept: a retried INIT does not extend
    it); an ``unknown`` payment the platform now holds is open again. Returns the record."""
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(update(payments).where(_where(partner, reference), payments.c.expires_at.is_(None))
                     .values(expires_at=expires_at, updated_at=now))
        conn.execute(update(payments).where(_where(partner, reference)).values(pay_url=pay_url[:500], updated_at=now))
        conn.execute(update(payments).where(_where(partner, reference), payments.c.state == UNKNOWN)
                     .values(state=OPEN, updated_at=now))
    found = find(engine, partner, reference)
    assert found is not None
    return found


def due_for_query(engine: Engine, partner: str, *, opened_before: datetime, asked_before: datetime,
                  limit: int) -> list[PaymentRecord]:
    """Open payments recorded before ``opened_before`` and not asked since ``asked_before``, oldest first."""
    with reading(engine) as conn:
        rows = conn.execute(select(payments).where(
            payments.c.partner == partner, payments.c.state == OPEN, payments.c.created_at <= opened_before,
            or_(payments.c.queried_at.is_(None), payments.c.queried_at <= asked_before),
        ).order_by(payments.c.created_at, payments.c.id).limit(limit)).all()
    return [_record(row) for row in rows]


def queried(engine: Engine, partner: str, reference: str, at: datetime) -> None:
    """Note one QUERY of ``reference`` at ``at``."""
    with engine.begin() as conn:
        conn.execute(update(payments).where(_where(partner, reference)).values(
            queried_at=at, queries=payments.c.queries + 1, updated_at=datetime.now(timezone.utc)))


def close(engine: Engine, partner: str, reference: str, state: str) -> bool:
    """Close an open payment without payment (``failed``, ``expired``, ``unknown``); True when changed."""
    if state not in CLOSED:
        raise ValueError(f"state: one of {sorted(CLOSED)}")
    with engine.begin() as conn:
        changed = conn.execute(update(payments).where(_where(partner, reference), payments.c.state == OPEN)
                               .values(state=state, updated_at=datetime.now(timezone.utc))).rowcount
    return bool(changed)


def due_for_receipt(engine: Engine, partner: str, *, asked_before: datetime, limit: int) -> list[PaymentRecord]:
    """Paid payments whose receipt is not routed yet, GET_BILL not asked since ``asked_before``, oldest first."""
    with reading(engine) as conn:
        rows = conn.execute(select(payments).where(
            payments.c.partner == partner, payments.c.state == PAID, payments.c.receipt_at.is_(None),
            or_(payments.c.bill_asked_at.is_(None), payments.c.bill_asked_at <= asked_before),
        ).order_by(payments.c.paid_at, payments.c.id).limit(limit)).all()
    return [_record(row) for row in rows]


def bill_asked(engine: Engine, partner: str, reference: str, at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(update(payments).where(_where(partner, reference)).values(
            bill_asked_at=at, updated_at=datetime.now(timezone.utc)))


def receipt_routed(conn: Any, partner: str, reference: str, number: str, at: datetime) -> None:
    """Note, in ``conn``'s transaction (the one storing ``payment.receipt``), that the receipt is routed."""
    conn.execute(update(payments).where(_where(partner, reference)).values(
        receipt_number=number[:100], receipt_at=at, updated_at=datetime.now(timezone.utc)))


@dataclass(frozen=True, slots=True)
class Ledger:
    """Where :class:`PaymentClient <.client.PaymentClient>` records each INIT before sending it."""

    engine: Engine
    partner: str  #: the payment partner's code at the hub (``national_payment``)

    def opened(self, init: Mapping[str, Any]) -> PaymentRecord:
        """Record the payment an INIT (wire dict, validated) opens; :class:`ReferenceTaken` on a clash."""
        receipt = init["ThongTinBienLai"]
        return record(self.engine, self.partner, init["MaThamChieu"], dossier_code=receipt["MaHoSo"],
                      agency_id=receipt["MaDonVi"], procedure_code=receipt["MaTTHC"], amount=int(init["SoTien"]),
                      origin="init")
