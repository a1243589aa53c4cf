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
(:func:`mark_paid`). States: ``open`` → ``paid``. Nothing here reads the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, Mapping

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.seam import reading, tables

payments = tables.payments

OPEN, PAID = "open", "paid"
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

    def differs_from(self, other: "PaymentRecord") -> list[str]:
        """The bound fields (dossier, agency, procedure, amount) in which ``other`` differs."""
        return [name for name in ("dossier_code", "agency_id", "procedure_code", "amount")
                if getattr(self, name) != getattr(other, name)]


class ReferenceTaken(ValueError):
    """The reference is already known for another dossier, agency, procedure or amount."""


def _record(row: Any) -> PaymentRecord:
    return PaymentRecord(row.partner, row.reference, row.dossier_code, row.agency_id, row.procedure_code,
                         int(row.amount), row.state, row.transaction_id, row.origin)


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
    """Mark an open payment paid by ``transaction_id``; True when this call changed it (a paid
    record keeps its first transaction, so marking again is idempotent)."""
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        changed = conn.execute(update(payments).where(
            payments.c.partner == partner, payments.c.reference == reference, payments.c.state == OPEN,
        ).values(state=PAID, transaction_id=transaction_id[:100], paid_at=paid_at, updated_at=now)).rowcount
    return bool(changed)


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
