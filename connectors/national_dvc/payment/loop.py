"""The payment loop: an online fee notice opens a payment, a lost callback is caught up, the receipt is routed.

Two halves, both of the ``national_payment`` partner:

* :class:`PaymentConnector`, its outbound connector: ``fee.notice`` with ``online: true``
  (``hub/routes.yaml``) is delivered as an INIT of a reference derived from the message
  (:func:`reference_of`: a retried delivery re-uses it, and the platform answers the same page), the
  payment recorded in the ledger before the call (:class:`~.client.PaymentClient` with its
  :class:`~.records.Ledger`), then the canonical ``payment.opened`` (the page's URL, its expiry) is
  stored for the one-stop system with a message id stable per reference. A platform that already
  holds the reference as paid or failed (``MaLoi`` "07") is asked QUERY instead.
* :data:`RECONCILE`, its scheduled job: the open payments recorded more than
  ``query_after_seconds`` ago are asked QUERY (oldest first, at most ``query_batch`` per run, each at
  most every ``query_every_seconds``). A paid answer becomes exactly the ``payment.confirmed`` the
  callback would have made (same message id and content, :func:`.callback.confirmed_message`, with
  the fees of GET_BILL's receipt data) and marks the payment paid: a lost callback is caught up, and
  a late callback afterwards is a duplicate the hub stores once. Failed answers close the payment
  (``failed``), pending ones past their expiry too (``expired``), an unknown reference is closed
  (``unknown``) with an alert. Then each paid payment without a receipt (paid by a callback or by a
  QUERY) is asked GET_BILL, and its ``payment.receipt`` is stored once, with the ledger's receipt
  columns in the same transaction.

Outcomes of a delivery follow the client's errors: :class:`~.client.TransientError` (the platform
down, a wrong secret) and the hub's store being down are transient; the platform's refusal,
:class:`~.records.ReferenceTaken` and a message the hub refuses are permanent.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Sequence

from sqlalchemy.exc import SQLAlchemyError

from connectors.national_dvc.payment import records
from connectors.national_dvc.payment.callback import confirmed_message, from_wire_date, stable_id
from connectors.national_dvc.payment.client import (
    PaymentClient,
    PermanentError,
    ReferenceExists,
    TransientError,
)
from connectors.national_dvc.payment.records import PaymentRecord, ReferenceTaken
from connectors.national_dvc.payment.wire import FAILED, PAID, UNKNOWN_REFERENCE, BienLai, GetBillAnswer, QueryAnswer
from hub.messages.models import FeeNotice
from hub.seam import Context, Envelope, Job, Outcome, Refused, Unavailable, in_order

log = logging.getLogger(__name__)
RECEIPT_REFUSED_BACKOFF = timedelta(days=1)  #: a receipt the platform refuses is asked again after this

OPENED_TYPES = ("payment.opened",)
CONFIRMED_TYPES = ("payment.confirmed",)
RECEIPT_TYPES = ("payment.receipt",)
_WIRE_DATE = re.compile(r"\d{14}")


def reference_of(message: FeeNotice) -> str:
    """``MaThamChieu`` of an online fee notice: its dossier code and a digest of its message id (the
    same message, delivered again, opens the same payment; another fee notice of the dossier, another)."""
    digest = hashlib.sha256(f"{message.source}:{message.message_id}".encode("utf-8")).hexdigest()[:10].upper()
    return f"{message.dossier_code[:89]}-{digest}"


def receipt_data(message: FeeNotice) -> BienLai:
    """``ThongTinBienLai`` of the fee notice: its dossier, procedure, agency and fees."""
    p = message.payload
    return BienLai.model_validate({
        "MaHoSo": message.dossier_code, "MaTTHC": p.procedure_code, "MaDonVi": p.agency_id,
        "PhiLePhi": [{"LoaiPhiLePhi": str(fee.kind), "MaPhiLePhi": fee.code, "TenPhiLePhi": fee.name,
                      "SoTien": str(fee.amount)} for fee in p.fees]})


def opened_message(source: str, record: PaymentRecord) -> dict[str, Any]:
    """``payment.opened`` of a payment whose page INIT answered: built from the ledger alone, so a
    retried delivery stores the very same message (same id, same content)."""
    assert record.pay_url is not None and record.created_at is not None
    payload: dict[str, Any] = {"agency_id": record.agency_id, "procedure_code": record.procedure_code,
                               "reference": record.reference, "amount": record.amount, "pay_url": record.pay_url}
    if record.expires_at is not None:
        payload["expires_at"] = record.expires_at.isoformat()
    return {"message_id": stable_id("payment-opened", record.reference), "type": "payment.opened", "source": source,
            "occurred_at": record.created_at.isoformat(), "dossier_code": record.dossier_code, "payload": payload}


def receipt_message(source: str, record: PaymentRecord, bill: GetBillAnswer) -> dict[str, Any]:
    """``payment.receipt`` of a paid payment from GET_BILL's answer (which has its number and date)."""
    assert bill.SoBienLai and bill.NgayBienLai
    issued_at = from_wire_date(bill.NgayBienLai).isoformat()
    payload: dict[str, Any] = {
        "agency_id": record.agency_id, "procedure_code": record.procedure_code, "reference": record.reference,
        "transaction_id": bill.MaGiaoDich or record.transaction_id, "amount": int(bill.SoTien or record.amount),
        "receipt_number": bill.SoBienLai, "receipt_series": bill.KyHieuBienLai or None, "issued_at": issued_at}
    if bill.UrlBienLai and bill.UrlBienLai.startswith(("https://", "http://")):  # else left out, not refused
        payload["url"] = bill.UrlBienLai
    return {"message_id": stable_id("payment-receipt", record.reference), "type": "payment.receipt", "source": source,
            "occurred_at": issued_at, "dossier_code": record.dossier_code, "payload": payload}


class Mismatch(Exception):
    """The platform's answer is not that of the payment the hub recorded (amount, dossier...)."""


def confirm(ctx: Context, client: PaymentClient, record: PaymentRecord, answer: QueryAnswer,
            bills: dict[str, GetBillAnswer] | None = None) -> str:
    """Store the ``payment.confirmed`` of a payment QUERY answered paid and mark it paid; the
    intake's verdict (``created``, or ``duplicate`` when its callback came first). GET_BILL gives
    the fees (QUERY does not carry them); its answer is kept in ``bills`` for the receipt.
    Raises :class:`Mismatch`, the client's errors, :class:`Refused`, :class:`Unavailable`."""
    transaction, paid_at = answer.MaGiaoDich, answer.ThoiGianGD
    if not transaction or not paid_at or not _WIRE_DATE.fullmatch(paid_at):
        raise Mismatch("QUERY answered paid without MaGiaoDich and ThoiGianGD")
    if answer.SoTien is None or int(answer.SoTien) != record.amount:
        raise Mismatch("QUERY's SoTien is not the recorded amount")
    bill = client.get_bill(record.reference)
    if bills is not None:
        bills[record.reference] = bill
    receipt = bill.ThongTinBienLai
    if receipt is None:
        raise Mismatch("GET_BILL answered no ThongTinBienLai")
    for given, recorded, name in ((receipt.MaHoSo, record.dossier_code, "MaHoSo"),
                                  (receipt.MaDonVi, record.agency_id, "MaDonVi"),
                                  (receipt.MaTTHC, record.procedure_code, "MaTTHC")):
        if given != recorded:
            raise Mismatch(f"GET_BILL's ThongTinBienLai.{name} is not the recorded one")
    if sum(int(fee.SoTien) for fee in receipt.PhiLePhi) != record.amount:
        raise Mismatch("GET_BILL's fees do not add up to the recorded amount")
    message = confirmed_message(ctx.code, reference=record.reference, transaction_id=transaction,
                                bank_code=answer.MaNganHang, amount=record.amount, currency="VND",
                                paid_at_wire=paid_at, receipt=receipt)
    verdict = ctx.submit(message, types=CONFIRMED_TYPES)
    records.mark_paid(ctx.engine, ctx.code, record.reference, transaction, from_wire_date(paid_at))
    return verdict


# -- the connector ---------------------------------------------------------------------------------


class PaymentConnector:
    """Opens the payment of each online fee notice at the platform (INIT), one message at a time."""

    max_batch: ClassVar[int] = 10

    def __init__(self, ctx: Context, client: PaymentClient | None = None) -> None:
        self.ctx = ctx
        self._client = client  #: None: the hub's (PaymentClient.for_hub), made on first use

    @classmethod
    def from_context(cls, ctx: Context) -> "PaymentConnector":
        return cls(ctx)

    def deliver(self, messages: Sequence[Envelope]) -> list[Outcome]:
        return in_order(messages, self._one)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def client(self) -> PaymentClient:
        """The hub's client, made on first use (the secret may be set after the worker started)."""
        if self._client is None:
            self._client = PaymentClient.for_hub(self.ctx)
        return self._client

    def _one(self, message: Envelope) -> Outcome:
        if not isinstance(message, FeeNotice):
            return Outcome.permanent(f"{message.type} not accepted by {self.ctx.code}")
        if not message.payload.online:
            return Outcome.ok("not an online payment")
        try:
            self.client()
        except ValueError:  # an admin sets it; the delivery is retried meanwhile
            return Outcome.transient("no payment secret in the vault (national_payment.secret)")
        try:
            return self._open(message)
        except ReferenceTaken as exc:
            return Outcome.permanent(str(exc))
        except ValueError as exc:  # a value the wire format refuses (pydantic's ValidationError)
            return Outcome.permanent(f"the fee notice does not fit INIT: {str(exc)[:300]}")
        except TransientError as exc:
            return Outcome.transient(exc.reason)
        except PermanentError as exc:
            return Outcome.permanent(exc.reason)
        except Refused as exc:
            return Outcome.permanent(f"the hub refused the payment message: {exc.slug}: {exc.detail}")
        except (Unavailable, SQLAlchemyError) as exc:
            return Outcome.transient(f"the hub's store is unavailable ({type(exc).__name__})")
        except Mismatch as exc:
            return Outcome.permanent(str(exc))

    def _open(self, message: FeeNotice) -> Outcome:
        ctx, p = self.ctx, message.payload
        amount = sum(fee.amount for fee in p.fees)
        if amount <= 0:
            return Outcome.ok("nothing to pay online")
        reference = reference_of(message)
        client = self.client()
        try:  # the ledger records the payment before the INIT is sent (a callback may beat its answer)
            answer = client.init(reference, amount, f"Thanh toán phí, lệ phí hồ sơ {message.dossier_code}"[:500],
                                 receipt_data(message), ctx.settings.init_ip)
        except ReferenceExists:
            return self._exists(reference)
        if not answer.UrlThanhToan:
            return Outcome.permanent("INIT answered no UrlThanhToan")
        known = records.find(ctx.engine, ctx.code, reference)
        assert known is not None and known.created_at is not None  # recorded by the ledger
        expires_at = p.due_at or known.created_at + timedelta(seconds=ctx.settings.expiry_seconds)
        record = records.page_opened(ctx.engine, ctx.code, reference, answer.UrlThanhToan, expires_at)
        verdict = ctx.submit(opened_message(ctx.code, record), types=OPENED_TYPES)
        return Outcome.ok(f"INIT {reference}: payment.opened {verdict}")

    def _exists(self, reference: str) -> Outcome:
        """INIT answered "07": the platform holds the reference already; what QUERY says of it."""
        ctx = self.ctx
        record = records.find(ctx.engine, ctx.code, reference)
        assert record is not None
        answer = self.client().query(reference)
        records.queried(ctx.engine, ctx.code, reference, datetime.now(timezone.utc))
        if answer.TrangThaiGD == PAID:
            verdict = confirm(ctx, self.client(), record, answer)
            return Outcome.ok(f"{reference} is paid already: payment.confirmed {verdict}")
        if answer.TrangThaiGD == FAILED:
            records.close(ctx.engine, ctx.code, reference, records.FAILED)
            return Outcome.ok(f"{reference} failed at the platform: closed")
        if record.pay_url:
            verdict = ctx.submit(opened_message(ctx.code, record), types=OPENED_TYPES)
            return Outcome.ok(f"{reference} is open already: payment.opened {verdict}")
        return Outcome.permanent(f"the platform holds {reference} but the hub has no payment page for it")


# -- the reconciliation job ------------------------------------------------------------------------


@dataclass
class Run:
    """What one run of :func:`reconcile` did (for logs and tests)."""

    queried: int = 0
    confirmed: int = 0
    closed: dict[str, int] = field(default_factory=dict)
    receipts: int = 0
    stopped: str = ""  #: why the run stopped early (the platform or the store unavailable)


def reconcile(ctx: Context, *, now: datetime | None = None, client: PaymentClient | None = None) -> Run:
    """One run: QUERY the payments open too long, then GET_BILL the paid ones without a receipt.
    ``now`` is the hub's clock (tests drive it); ``client`` defaults to the hub's."""
    moment = now or datetime.now(timezone.utc)
    run = Run()
    own = client is None
    try:
        client = client or PaymentClient.for_hub(ctx)
    except ValueError:  # no secret yet: secret.py warns at start-up and /healthz says so
        run.stopped = "no payment secret"
        return run
    bills: dict[str, GetBillAnswer] = {}
    try:
        _query_pass(ctx, client, moment, run, bills)
        if not run.stopped:
            _receipt_pass(ctx, client, moment, run, bills)
    except (TransientError, Unavailable, SQLAlchemyError) as exc:
        run.stopped = f"{type(exc).__name__}: {getattr(exc, 'reason', '')}"[:200]
    finally:
        if own:
            client.close()
    if run.queried or run.receipts or run.stopped:
        log.info("payment reconciliation: %d queried, %d confirmed, closed %s, %d receipt(s)%s", run.queried,
                 run.confirmed, run.closed or "none", run.receipts, f"; stopped: {run.stopped}" if run.stopped else "")
    return run


def _query_pass(ctx: Context, client: PaymentClient, now: datetime, run: Run, bills: dict[str, GetBillAnswer]) -> None:
    s = ctx.settings
    due = records.due_for_query(ctx.engine, ctx.code, opened_before=now - timedelta(seconds=s.query_after_seconds),
                                asked_before=now - timedelta(seconds=s.query_every_seconds), limit=s.query_batch)
    for record in due:
        try:
            answer = client.query(record.reference)
        except PermanentError as exc:
            records.queried(ctx.engine, ctx.code, record.reference, now)
            run.queried += 1
            if exc.ma_loi == UNKNOWN_REFERENCE:
                _unknown(ctx, record, now, run)
            else:
                log.warning("payment %s: QUERY refused (%s)", record.reference, exc.reason)
            continue
        records.queried(ctx.engine, ctx.code, record.reference, now)
        run.queried += 1
        if answer.TrangThaiGD == PAID:
            try:
                confirm(ctx, client, record, answer, bills)
                run.confirmed += 1
            except (Mismatch, PermanentError, Refused) as exc:
                detail = getattr(exc, "reason", None) or getattr(exc, "detail", None) or str(exc)
                ctx.alert("payment_mismatch", f"payment:{record.reference}"[:120],
                          f"payment {record.reference} is paid at the platform but not confirmed: {detail}"[:500], at=now)
        elif answer.TrangThaiGD == FAILED:
            _close(ctx, record, records.FAILED, run)
        elif record.expires_at is not None and record.expires_at <= now:
            _close(ctx, record, records.EXPIRED, run)


def _unknown(ctx: Context, record: PaymentRecord, now: datetime, run: Run) -> None:
    """QUERY answered "04". A payment whose INIT was never answered may still be opened by its
    delivery's retry: it stays open until its expiry; any other is closed ``unknown``, with an alert."""
    created = record.created_at or now
    if record.origin == "init" and record.pay_url is None and created + timedelta(seconds=ctx.settings.expiry_seconds) > now:
        return
    if _close(ctx, record, records.UNKNOWN, run):
        ctx.alert("unknown_reference", f"payment:{record.reference}"[:120],
                  f"the payment platform does not know payment {record.reference} (QUERY answered 04): closed; its "
                  "callback, if one comes, is still believed"[:500], at=now)


def _close(ctx: Context, record: PaymentRecord, state: str, run: Run) -> bool:
    changed = records.close(ctx.engine, ctx.code, record.reference, state)
    if changed:
        run.closed[state] = run.closed.get(state, 0) + 1
    return changed


def _receipt_pass(ctx: Context, client: PaymentClient, now: datetime, run: Run, bills: dict[str, GetBillAnswer]) -> None:
    s = ctx.settings
    due = records.due_for_receipt(ctx.engine, ctx.code, asked_before=now - timedelta(seconds=s.query_every_seconds),
                                  limit=s.query_batch)
    for record in due:
        bill = bills.get(record.reference)
        if bill is None:
            try:
                bill = client.get_bill(record.reference)
            except PermanentError as exc:
                # The platform will not give this receipt (it does not know the transaction): ask again
                # daily, not every run, and tell the operators once.
                records.bill_asked(ctx.engine, ctx.code, record.reference, now + RECEIPT_REFUSED_BACKOFF)
                if ctx.alert("receipt_refused", f"payment:{record.reference}",
                             f"the platform refuses the receipt of paid payment {record.reference} of dossier "
                             f"{record.dossier_code}: {exc.reason[:200]}; asked again daily", at=now):
                    log.warning("payment %s: GET_BILL refused (%s); asked again daily", record.reference, exc.reason)
                continue
        records.bill_asked(ctx.engine, ctx.code, record.reference, now)
        if not bill.SoBienLai or not bill.NgayBienLai or not _WIRE_DATE.fullmatch(bill.NgayBienLai):
            log.info("payment %s: no receipt issued yet", record.reference)
            continue
        number = bill.SoBienLai

        def routed(conn: Any, verdicts: list[str], reference: str = record.reference, number: str = number) -> None:
            records.receipt_routed(conn, ctx.code, reference, number, now)

        try:
            ctx.submit_many([receipt_message(ctx.code, record, bill)], types=RECEIPT_TYPES, then=routed)
            run.receipts += 1
        except Refused as exc:
            log.warning("payment %s: the hub refused its receipt (%s: %s)", record.reference, exc.slug, exc.detail[:200])


def _run(ctx: Context) -> None:
    reconcile(ctx)


RECONCILE = Job("reconcile", _run, every=lambda ctx: float(ctx.settings.reconcile_interval))
