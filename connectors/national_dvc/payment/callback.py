"""A confirmation callback from the payment platform: checked, and turned into ``payment.confirmed``.

:func:`check` decides, in this order, without I/O:

1. the body is a JSON object, else ``malformed``;
2. its ``MaXacThuc`` is the CALLBACK checksum under the shared secret, else ``checksum_mismatch``
   (checked before anything else is read, so an unauthenticated sender learns nothing more);
3. ``MaDoiTac`` is the province's partner code at the platform, else ``wrong_partner``;
4. the fields follow the wire format, with the receipt data (``ThongTinBienLai``) whose fees add
   up to ``SoTien``, else ``malformed``;
5. ``MaLoi`` "00" (paid) gives the canonical ``payment.confirmed`` message to store; any other
   ``MaLoi`` (the payment failed) is acknowledged and recorded, and nothing is forwarded.

:func:`bind` then holds an authentic callback to what the hub knows (``ThongTinBienLai`` is not
covered by the checksum, and a genuine callback may be replayed): the reference must be a payment
the hub knows of (:mod:`.records`), with the same dossier, agency, procedure and amount, and
``ThoiGianGD`` within the window of the hub's clock; each refusal is ``payment_refused:<why>``.

:func:`reply` builds the answer in the platform's own format. A refusal of a body that failed
authentication carries an empty ``MaXacThuc``: signing values chosen by an unauthenticated sender
would let anyone obtain checksums made with the secret (the joined fields of a REPLY can be made to
spell those of a CALLBACK).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from pydantic import ValidationError

from connectors.national_dvc.payment import checksum
from connectors.national_dvc.payment.records import PAID, PaymentRecord
from connectors.national_dvc.payment.wire import (
    CHECKSUM_MISMATCH,
    INVALID,
    MESSAGES,
    OK,
    OUT_OF_WINDOW,
    UNKNOWN_REFERENCE,
    WRONG_PARTNER,
    BienLai,
    Callback,
)
from connectors.national_dvc.wire import WIRE_DATE_FORMAT
from connectors.national_dvc.wire_types import HANOI

_READABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,56}")
CURRENCIES = {"VND": "VND", "704": "VND"}  # ISO 4217 letters or number


@dataclass(frozen=True, slots=True)
class Checked:
    """What to do with one callback: the access record's ``outcome``, the reply's ``MaLoi`` and HTTP
    status, the canonical message (JSON form) to store when the payment was made, and the parsed
    callback once it is authentic and well-formed (for :func:`bind`)."""

    outcome: str
    ma_loi: str
    status: int
    detail: str
    authentic: bool
    message: dict[str, Any] | None = None
    callback: Callback | None = None


def message_id(transaction: str) -> str:
    """The canonical ``message_id`` of the platform's transaction ``MaGiaoDich``: the same for every
    resend, so duplicates are idempotent. Readable when the code allows, else a digest of it."""
    return stable_id("payment", transaction)


def stable_id(prefix: str, key: str) -> str:
    """``<prefix>:<key>`` when it is short and readable enough for a ``message_id``, else ``<prefix>:``
    and a digest of ``key``: the same ``key`` always gives the same id."""
    if _READABLE_ID.fullmatch(key) and len(prefix) + 1 + len(key) <= 64:
        return f"{prefix}:{key}"
    return f"{prefix}:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:min(48, 63 - len(prefix))]


def from_wire_date(text: str) -> datetime:
    """``yyyyMMddHHmmss`` in Vietnam time as an aware datetime."""
    return datetime.strptime(text, WIRE_DATE_FORMAT).replace(tzinfo=HANOI)


def check(raw: Any, secret: str, partner_code: str, source: str) -> Checked:
    """Decide what the callback ``raw`` (decoded JSON, not normalised) is; see the module doc."""
    if not isinstance(raw, dict):
        return Checked("malformed", INVALID, 400, "the body is not a JSON object", authentic=False)
    if not checksum.verify("CALLBACK", raw, secret):
        return Checked("checksum_mismatch", CHECKSUM_MISMATCH, 401, "MaXacThuc does not match", authentic=False)
    if raw.get("MaDoiTac") != partner_code:
        return Checked("wrong_partner", WRONG_PARTNER, 403, f"MaDoiTac {str(raw.get('MaDoiTac'))[:50]!r} is not ours",
                       authentic=True)
    try:
        callback = Callback.model_validate(raw)
    except ValidationError as exc:
        fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()}))
        return Checked("malformed", INVALID, 400, f"invalid fields: {fields}", authentic=True)
    summary = f"payment {callback.MaThamChieu} MaLoi {callback.MaLoi}"
    if callback.MaLoi != OK:
        return Checked("payment_failed", OK, 200, summary, authentic=True, callback=callback)
    problem = _unmappable(callback)
    if problem:
        return Checked("malformed", INVALID, 400, problem, authentic=True)
    return Checked("ok", OK, 200, summary, authentic=True, message=to_message(callback, source), callback=callback)


def _refused(why: str, ma_loi: str, status: int, detail: str) -> Checked:
    return Checked(f"payment_refused:{why}", ma_loi, status, detail, authentic=True)


def bind(callback: Callback, known: PaymentRecord | None, now: datetime, window_seconds: float) -> Checked | None:
    """The refusal of an authentic callback that does not match what the hub knows, or None.

    In order: the reference is known (else ``unknown_reference``, "04", 404); a paid record takes
    no other transaction (``already_paid``, "02", 409); ``ThoiGianGD`` is at most
    ``window_seconds`` from ``now``, either way (``outside_window``, "06", 400), except a resend of
    the very transaction already recorded as paid, which stores nothing new and is answered "00" so
    the platform stops sending; the receipt's ``MaHoSo``, ``MaDonVi``, ``MaTTHC`` and the checksummed
    ``SoTien`` are the record's (``dossier_mismatch``, ``agency_mismatch``, ``procedure_mismatch``,
    ``amount_mismatch``: "02", 409). A failed payment's callback may lack the receipt; its amount is
    still bound. Details name the rule, never the recorded values."""
    reference = callback.MaThamChieu
    if known is None:
        return _refused("unknown_reference", UNKNOWN_REFERENCE, 404,
                        f"MaThamChieu {reference[:60]!r} is not a payment the hub opened or was told of")
    resend = known.state == PAID and known.transaction_id == callback.MaGiaoDich
    if known.state == PAID and not resend and callback.MaLoi == OK:
        return _refused("already_paid", INVALID, 409, f"MaThamChieu {reference[:60]!r} is already paid by "
                                                      "another transaction")
    if not resend:
        offset = (from_wire_date(callback.ThoiGianGD) - now).total_seconds()
        if abs(offset) > window_seconds:
            direction = "before" if offset < 0 else "after"
            return _refused("outside_window", OUT_OF_WINDOW, 400,
                            f"ThoiGianGD is {abs(offset):.0f} s {direction} the hub's clock (at most {window_seconds:.0f} s)")
    receipt = callback.ThongTinBienLai
    if receipt is not None:
        for why, given, recorded, name in (("dossier_mismatch", receipt.MaHoSo, known.dossier_code, "MaHoSo"),
                                           ("agency_mismatch", receipt.MaDonVi, known.agency_id, "MaDonVi"),
                                           ("procedure_mismatch", receipt.MaTTHC, known.procedure_code, "MaTTHC")):
            if given != recorded:
                return _refused(why, INVALID, 409, f"ThongTinBienLai.{name} is not that of payment {reference[:60]!r}")
    if int(callback.SoTien) != known.amount:
        return _refused("amount_mismatch", INVALID, 409, f"SoTien is not the amount of payment {reference[:60]!r}")
    return None


def _unmappable(callback: Callback) -> str | None:
    """Why a paid callback cannot become ``payment.confirmed``, or None."""
    receipt = callback.ThongTinBienLai
    if receipt is None:
        return "ThongTinBienLai is missing: the hub cannot tell which dossier was paid"
    if callback.MaTienTe not in CURRENCIES:
        return f"MaTienTe {callback.MaTienTe[:10]!r} is not VND"
    total = sum(int(fee.SoTien) for fee in receipt.PhiLePhi)
    if total != int(callback.SoTien):
        return f"ThongTinBienLai.PhiLePhi add up to {total}, SoTien is {callback.SoTien}"
    return None


def to_message(callback: Callback, source: str) -> dict[str, Any]:
    """The canonical ``payment.confirmed`` message (JSON form) of a paid callback."""
    receipt = callback.ThongTinBienLai
    assert receipt is not None
    return confirmed_message(source, reference=callback.MaThamChieu, transaction_id=callback.MaGiaoDich,
                             bank_code=callback.MaNganHang, amount=int(callback.SoTien),
                             currency=CURRENCIES[callback.MaTienTe], paid_at_wire=callback.ThoiGianGD, receipt=receipt)


def confirmed_message(source: str, *, reference: str, transaction_id: str, bank_code: str | None, amount: int,
                      currency: str, paid_at_wire: str, receipt: BienLai) -> dict[str, Any]:
    """``payment.confirmed`` of the platform's transaction, built alike from a callback and from a
    QUERY (with GET_BILL's receipt data): the same transaction gives the same message, id and content,
    so the one-stop system receives it once whichever path saw it first."""
    paid_at = from_wire_date(paid_at_wire).isoformat()
    return {
        "message_id": message_id(transaction_id),
        "type": "payment.confirmed",
        "source": source,
        "occurred_at": paid_at,
        "dossier_code": receipt.MaHoSo,
        "payload": {
            "agency_id": receipt.MaDonVi,
            "procedure_code": receipt.MaTTHC,
            "reference": reference,
            "transaction_id": transaction_id,
            "bank_code": bank_code or None,
            "amount": amount,
            "currency": currency,
            "paid_at": paid_at,
            "fees": [{"code": fee.MaPhiLePhi, "name": fee.TenPhiLePhi, "amount": int(fee.SoTien),
                      "kind": int(fee.LoaiPhiLePhi)} for fee in receipt.PhiLePhi],
        },
    }


def reply(ma_loi: str, raw: Any, secret: str | None) -> dict[str, str]:
    """The answer to a callback: its ``MaDoiTac``, ``MaThamChieu`` and ``ThoiGianGD`` echoed, signed
    with the REPLY checksum when ``secret`` is given (authentic callbacks only), else ``MaXacThuc`` ""."""
    fields: Mapping[str, Any] = raw if isinstance(raw, dict) else {}

    def echo(name: str) -> str:
        value = fields.get(name)
        return value[:100] if isinstance(value, str) else ""

    body = {"MaLoi": ma_loi, "MoTaLoi": MESSAGES[ma_loi], "MaDoiTac": echo("MaDoiTac"),
            "MaThamChieu": echo("MaThamChieu"), "ThoiGianGD": echo("ThoiGianGD"), "MaXacThuc": ""}
    return checksum.sign("REPLY", body, secret) if secret is not None else body
