"""HTTP client of the payment platform: INIT, QUERY and GET_BILL, signed with ``MaXacThuc``, typed errors.

Endpoints (JSON in and out, one keep-alive ``httpx.Client``): ``POST {payment_url}/init``,
``POST {payment_url}/query``, ``POST {payment_url}/bill``.

Given a :class:`~.records.Ledger`, the client records every payment it opens (INIT) before sending
it: the hub's callback endpoint believes callbacks only for payments it knows of. The hub's own
INITs go through :meth:`PaymentClient.for_hub`, which always has one.

Errors, each carrying the platform's reason (never the secret):

* :class:`TransientError`: timeout, connection error, HTTP 5xx/408/429, an unreadable answer,
  ``MaLoi`` "99", and ``MaLoi`` "01" (checksum refused: the shared secret is wrong, an operator's
  fix and not the content's fault, like a refused login at the national portal);
* :class:`PermanentError`: any other ``MaLoi`` ("02" invalid, "03" wrong partner code, "04" unknown
  reference...) and HTTP 4xx other than 408/429; ``MaLoi`` "07" (INIT of a reference the platform
  already holds as paid or failed) is its subclass :class:`ReferenceExists`: not a failure of the
  payment, the caller asks QUERY.

Transport and HTTP failures are classified by :func:`connectors.http.post_json`, which also tries a
refused connection once more in the call (tenacity, 0.1 s).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from connectors.http import json_answer, post_json
from connectors.national_dvc.payment import checksum
from connectors.national_dvc.payment.checksum import Kind
from connectors.national_dvc.payment.records import Ledger
from connectors.national_dvc.payment.wire import (
    CHECKSUM_MISMATCH,
    INTERNAL_ERROR,
    OK,
    REFERENCE_EXISTS,
    BienLai,
    GetBillAnswer,
    GetBillRequest,
    InitAnswer,
    InitRequest,
    QueryAnswer,
    QueryRequest,
)
from connectors.national_dvc.wire import dump, to_wire_date

if TYPE_CHECKING:
    from hub.seam import Context

TRANSIENT_CODES = frozenset({INTERNAL_ERROR, CHECKSUM_MISMATCH})
Answer = TypeVar("Answer", InitAnswer, QueryAnswer, GetBillAnswer)


class PaymentError(Exception):
    """A call the platform did not accept; ``reason`` is its own explanation."""

    def __init__(self, reason: str, *, ma_loi: str | None = None, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.ma_loi, self.http_status = reason, ma_loi, http_status


class TransientError(PaymentError):
    """Worth retrying later: the platform, the path to it, or the shared secret is at fault."""


class PermanentError(PaymentError):
    """The platform refused the content; sending it again cannot help."""


class ReferenceExists(PermanentError):
    """INIT answered "07": the platform already holds this reference (paid or failed); ask QUERY."""


class PaymentClient:
    """The province's account at the payment platform (``MaDoiTac`` and the shared secret)."""

    def __init__(self, base_url: str, partner_code: str, secret: str, timeout: float = 5.0, *,
                 transport: httpx.BaseTransport | None = None, ledger: Ledger | None = None) -> None:
        if not secret:
            raise ValueError("no payment secret: set vault credential national_payment.secret")
        self.partner_code = partner_code
        self._secret = secret
        self._ledger = ledger
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                                  headers={"Accept": "application/json"})

    @classmethod
    def for_hub(cls, ctx: "Context", base_url: str | None = None) -> "PaymentClient":
        """The hub's client: URL, ``MaDoiTac`` and timeout from the platform's settings, the secret
        from the vault (``ValueError`` when there is none), every INIT recorded in the hub's database."""
        from connectors.national_dvc.payment.secret import payment_secret

        s = ctx.settings
        return cls(base_url or s.url, s.partner_code, payment_secret(ctx), s.timeout, ledger=Ledger(ctx.engine, ctx.code))

    def __repr__(self) -> str:
        return f"PaymentClient({str(self._http.base_url)!r}, MaDoiTac={self.partner_code!r})"

    def init(self, reference: str, amount: int, description: str, receipt: BienLai, ip: str, *,
             bank_code: str = "", at: datetime | None = None) -> InitAnswer:
        """``INIT``: open the payment ``reference``; the answer carries ``UrlThanhToan``. With a
        ledger, the payment is recorded first (:class:`~.records.ReferenceTaken` when the reference is
        known for another dossier or amount: nothing is sent)."""
        fields = {"MaDoiTac": self.partner_code, "MaThamChieu": reference, "SoTien": str(amount),
                  "MaNganHang": bank_code, "ThongTinGiaoDich": description, "ThoiGianGD": _now(at), "Ip": ip,
                  "ThongTinBienLai": receipt.model_dump(mode="json", exclude_none=True)}
        return self._call("init", "INIT", InitRequest, fields, InitAnswer)

    def query(self, reference: str, *, at: datetime | None = None) -> QueryAnswer:
        """``QUERY``: the state of ``reference`` (``TrangThaiGD`` 1 paid, 3 pending, 4 failed)."""
        fields = {"MaDoiTac": self.partner_code, "MaThamChieu": reference, "ThoiGianGD": _now(at)}
        return self._call("query", "QUERY", QueryRequest, fields, QueryAnswer)

    def get_bill(self, reference: str, *, at: datetime | None = None) -> GetBillAnswer:
        """``GET_BILL``: the electronic receipt of the paid payment ``reference`` (``SoBienLai``,
        ``KyHieuBienLai``, ``NgayBienLai``, ``SoTien``, ``MaGiaoDich``) and its ``ThongTinBienLai``."""
        fields = {"MaDoiTac": self.partner_code, "MaThamChieu": reference, "ThoiGianGD": _now(at)}
        return self._call("bill", "GET_BILL", GetBillRequest, fields, GetBillAnswer)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "PaymentClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------

    def _call(self, path: str, kind: Kind, request: type[BaseModel], fields: dict[str, Any],
              answer: type[Answer]) -> Answer:
        """Build, sign and validate the request; post it; return the "00" answer or raise."""
        # What we send follows the wire format or fails here (ValidationError); then it is signed.
        body = checksum.sign(kind, dump(request.model_validate({**fields, "MaXacThuc": "0" * 64})), self._secret)
        if kind == "INIT" and self._ledger is not None:
            # Recorded before it is sent: a callback may arrive before the INIT's answer does.
            self._ledger.opened(body)
        data = self._post(path, body)
        try:
            result = answer.model_validate(data)
        except ValidationError:
            raise TransientError(f"{kind}: unreadable answer") from None
        if result.MaLoi == OK:
            return result
        reason = f"{kind} MaLoi {result.MaLoi}: {result.MoTaLoi}".rstrip(": ")
        error = (TransientError if result.MaLoi in TRANSIENT_CODES
                 else ReferenceExists if result.MaLoi == REFERENCE_EXISTS else PermanentError)
        raise error(reason, ma_loi=result.MaLoi)

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        response = post_json(self._http, f"/{path}", body, transient=TransientError, permanent=PermanentError)
        return json_answer(response, path, TransientError)


def _now(at: datetime | None) -> str:
    return to_wire_date(at or datetime.now(timezone.utc))
