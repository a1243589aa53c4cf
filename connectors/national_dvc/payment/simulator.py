"""A simulator of the national payment platform, as a real HTTP server with fault injection.

Partner endpoints (JSON): ``POST /init``, ``POST /query``, ``POST /bill``. Each request is checked
like the platform does and refused in its format: ``"02"`` not valid (names the field), ``"03"``
``MaDoiTac`` is not the configured partner, ``"01"`` ``MaXacThuc`` does not match, ``"04"``
unknown ``MaThamChieu``. INIT answers the payment page's URL (``GET /pay/{MaThamChieu}``); an INIT
of a reference already opened with the same amount answers the same URL.

The platform's side of a payment, under ``/_sim/`` (not part of the partner's API):

* ``POST /_sim/pay {MaThamChieu, outcome: "paid"|"failed", checksum: "valid"|"wrong", callback_url?}``
  marks the payment and **sends the confirmation callback** to the province (``--callback-url``),
  signed correctly or deliberately wrong; answers what was sent and every reply received. A paid
  payment keeps its ``MaGiaoDich``, so paying again resends the same transaction.
* ``POST /_sim/faults``: ``latency_ms``, ``fail_next`` (next N partner calls answer 503), ``down``,
  ``duplicate_callbacks`` (every callback is sent twice).
* ``GET /_sim/state``, ``GET /_sim/transactions/{MaThamChieu}``, ``POST /_sim/reset``.

Run it with ``lienthong simulator payment --port 8102`` (``MaDoiTac`` and the secret from the
hub's settings and vault; ``make run`` seeds a random secret there). The hub believes a callback
only for a payment it opened itself (INIT with ``PaymentClient.for_hub``, which records it).
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Literal

import httpx
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.national_dvc.payment import checksum
from connectors.national_dvc.payment.checksum import Kind
from connectors.national_dvc.payment.wire import (
    CHECKSUM_MISMATCH,
    FAILED,
    INVALID,
    MESSAGES,
    OK,
    PAID,
    PENDING,
    UNKNOWN_REFERENCE,
    WRONG_PARTNER,
    GetBillRequest,
    InitRequest,
    Lookup,
    QueryRequest,
)
from connectors.national_dvc.wire import to_wire_date
from connectors.sim_controls import add_controls, json_response, outage

DEFAULT_CALLBACK_URL = "http://127.0.0.1:8000/v1/payments/callback"
CALLBACK_TYPE = "CONFIRM"  #: LoaiBanTin of the callback (an assumption: the specification's value is not public)
PAYMENT_FAILED = "24"  #: MaLoi of a failed payment's callback (the simulator's choice)


def answer(ma_loi: str, detail: str = "", **fields: Any) -> dict[str, Any]:
    return {"MaLoi": ma_loi, "MoTaLoi": f"{MESSAGES.get(ma_loi, '')}{': ' + detail if detail else ''}", **fields}


@dataclass
class Transaction:
    """One opened payment."""

    init: dict[str, Any]
    state: str = PENDING
    transaction_id: str | None = None
    paid_at: str | None = None
    callbacks: int = 0


@dataclass
class Faults:
    latency_ms: float = 0.0
    fail_next: int = 0
    down: bool = False
    duplicate_callbacks: bool = False


class FaultsPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latency_ms: float | None = Field(None, ge=0)
    fail_next: int | None = Field(None, ge=0)
    down: bool | None = None
    duplicate_callbacks: bool | None = None


class Pay(BaseModel):
    """Body of ``POST /_sim/pay``."""

    model_config = ConfigDict(extra="forbid")

    MaThamChieu: str
    outcome: Literal["paid", "failed"] = "paid"
    checksum: Literal["valid", "wrong"] = "valid"
    callback_url: str | None = None
    MaNganHang: str = "NCB"


class Platform:
    """The simulated platform's state. Runs on one event loop; handlers do not await between a
    check and its effect."""

    def __init__(self, partner_code: str, secret: str, callback_url: str, public_url: str) -> None:
        self.partner_code, self.secret = partner_code, secret
        self.callback_url, self.public_url = callback_url, public_url.rstrip("/")
        self.reset()

    def reset(self) -> None:
        self.transactions: dict[str, Transaction] = {}
        self.faults = Faults()
        self.counters: dict[str, Any] = {"calls": {"init": 0, "query": 0, "bill": 0}, "rejected": 0, "faults": 0,
                                         "callbacks_sent": 0}

    # -- partner calls -------------------------------------------------------------------------

    def _check(self, model: type[BaseModel], kind: Kind, body: Any) -> dict[str, Any] | None:
        """The refusal of a request, or None when it is valid, ours and correctly signed."""
        if not isinstance(body, dict):
            return answer(INVALID, "yêu cầu phải là một đối tượng JSON")
        try:
            model.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(gốc)"
            return answer(INVALID, f"trường {where} không hợp lệ ({first['type']})")
        if body["MaDoiTac"] != self.partner_code:
            return answer(WRONG_PARTNER)
        if not checksum.verify(kind, body, self.secret):
            return answer(CHECKSUM_MISMATCH)
        return None

    def init(self, body: Any) -> dict[str, Any]:
        refusal = self._check(InitRequest, "INIT", body)
        if refusal is not None:
            return refusal
        reference = body["MaThamChieu"]
        known = self.transactions.get(reference)
        if known is not None and known.init["SoTien"] != body["SoTien"]:
            return answer(INVALID, f"MaThamChieu {reference} đã được khởi tạo với số tiền khác")
        if known is None:
            self.transactions[reference] = Transaction(init=dict(body))
        return answer(OK, MaThamChieu=reference, UrlThanhToan=f"{self.public_url}/pay/{reference}")

    def query(self, body: Any) -> dict[str, Any]:
        found = self._lookup(QueryRequest, "QUERY", body)
        if isinstance(found, dict):
            return found
        extra: dict[str, Any] = {"MaGiaoDich": found.transaction_id, "ThoiGianGD": found.paid_at} if found.transaction_id else {}
        return answer(OK, MaThamChieu=body["MaThamChieu"], TrangThaiGD=found.state, SoTien=found.init["SoTien"],
                      **extra)

    def bill(self, body: Any) -> dict[str, Any]:
        found = self._lookup(GetBillRequest, "GET_BILL", body)
        if isinstance(found, dict):
            return found
        return answer(OK, ThongTinBienLai=found.init["ThongTinBienLai"])

    def _lookup(self, model: type[Lookup], kind: Kind, body: Any) -> Transaction | dict[str, Any]:
        refusal = self._check(model, kind, body)
        if refusal is not None:
            return refusal
        found = self.transactions.get(body["MaThamChieu"])
        return found if found is not None else answer(UNKNOWN_REFERENCE)

    # -- the platform's side of a payment ------------------------------------------------------

    def pay(self, order: Pay) -> dict[str, Any] | None:
        """Mark the payment and build its callback (signed right or wrong); None if unknown."""
        found = self.transactions.get(order.MaThamChieu)
        if found is None:
            return None
        now = to_wire_date(datetime.now(timezone.utc))
        if order.outcome == "paid":
            if found.state != PAID:
                found.state, found.transaction_id, found.paid_at = PAID, f"GD{secrets.token_hex(6).upper()}", now
            ma_loi, transaction_id, at = OK, found.transaction_id, found.paid_at
        else:
            found.state = FAILED
            ma_loi, transaction_id, at = PAYMENT_FAILED, f"GD{secrets.token_hex(6).upper()}", now
        init = found.init
        callback = {"LoaiBanTin": CALLBACK_TYPE, "MaLoi": ma_loi, "MaDoiTac": init["MaDoiTac"],
                    "MaThamChieu": order.MaThamChieu, "SoTien": init["SoTien"], "MaTienTe": init["MaTienTe"],
                    "MaGiaoDich": transaction_id, "MaNganHang": order.MaNganHang, "ThoiGianGD": at,
                    "ThongTinGiaoDich": init["ThongTinGiaoDich"], "ThongTinBienLai": init["ThongTinBienLai"]}
        checksum.sign("CALLBACK", callback, self.secret)
        if order.checksum == "wrong":
            callback["MaXacThuc"] = checksum.compute("CALLBACK", callback, self.secret + "-wrong")
        found.callbacks += 1
        return callback

    def state(self) -> dict[str, Any]:
        return {"transactions": {ref: asdict(t) for ref, t in self.transactions.items()},
                "counters": self.counters, "faults": asdict(self.faults)}


def create_app(partner_code: str, secret: str, callback_url: str = DEFAULT_CALLBACK_URL,
               public_url: str = "http://127.0.0.1:8102") -> FastAPI:
    """The simulator as an ASGI app; state lives in ``app.state.platform``. ``secret`` is the hub's
    (no default: the sandbox seeds a random one in the vault and both read it there)."""
    if not secret:
        raise ValueError("secret: the payment platform simulator needs the hub's shared secret")
    platform = Platform(partner_code, secret, callback_url, public_url)
    app = FastAPI(title="Payment platform simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.platform = platform

    async def injected_fault(endpoint: str) -> Response | None:
        platform.counters["calls"][endpoint] += 1
        return await outage(platform.faults, platform.counters, {"message": "Service Unavailable (simulated)"})

    async def partner_call(endpoint: str, request: Request) -> Response:
        fault = await injected_fault(endpoint)
        if fault is not None:
            return fault
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            body = None
        result = getattr(platform, endpoint)(body)
        if result["MaLoi"] != OK:
            platform.counters["rejected"] += 1
        return json_response(result)

    @app.post("/init")
    async def init(request: Request) -> Response:
        return await partner_call("init", request)

    @app.post("/query")
    async def query(request: Request) -> Response:
        return await partner_call("query", request)

    @app.post("/bill")
    async def bill(request: Request) -> Response:
        return await partner_call("bill", request)

    @app.get("/pay/{reference}")
    async def payment_page(reference: str) -> Response:
        found = platform.transactions.get(reference)
        if found is None:
            return json_response({"detail": f"no payment {reference}"}, 404)
        return json_response({"MaThamChieu": reference, "SoTien": found.init["SoTien"], "TrangThaiGD": found.state,
                              "note": "simulated payment page: POST /_sim/pay to pay"})

    @app.post("/_sim/pay")
    async def pay(order: Pay) -> Response:
        callback = platform.pay(order)
        if callback is None:
            return json_response({"detail": f"no payment {order.MaThamChieu}; INIT it first"}, 404)
        times = 2 if platform.faults.duplicate_callbacks else 1
        replies = []
        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(times):
                platform.counters["callbacks_sent"] += 1
                try:
                    sent = await http.post(order.callback_url or platform.callback_url, json=callback)
                    try:
                        body: Any = sent.json()
                    except ValueError:
                        body = sent.text[:500]
                    replies.append({"status": sent.status_code, "body": body})
                except httpx.HTTPError as exc:
                    replies.append({"status": None, "body": f"{type(exc).__name__}: {exc}"})
        return json_response({"callback": callback, "replies": replies})

    @app.get("/_sim/state")
    async def state() -> Response:
        return json_response(platform.state())

    @app.get("/_sim/transactions/{reference}")
    async def transaction(reference: str) -> Response:
        found = platform.transactions.get(reference)
        return json_response(asdict(found)) if found else json_response({"detail": f"no payment {reference}"}, 404)

    add_controls(app, platform, FaultsPatch)
    return app

