"""A simulator of the national payment platform, as a real HTTP server with fault injection.

Partner endpoints (JSON): ``POST /init``, ``POST /query``, ``POST /bill``. Each request is checked
like the platform does and refused in its format: ``"02"`` not valid (names the field), ``"03"``
``MaDoiTac`` is not the configured partner, ``"01"`` ``MaXacThuc`` does not match, ``"04"``
unknown ``MaThamChieu``. INIT answers the payment page's URL (``GET /pay/{MaThamChieu}``); an INIT
of a reference already opened with the same amount answers the same URL while it is pending, and
``"07"`` (the reference exists) once it is paid or failed. QUERY answers ``TrangThaiGD`` (with
``MaGiaoDich``, ``MaNganHang``, ``ThoiGianGD`` once paid); GET_BILL answers a paid payment's
electronic receipt (``SoBienLai``, ``KyHieuBienLai``, ``NgayBienLai``, ``SoTien``, ``MaGiaoDich``)
with its ``ThongTinBienLai``, and ``"02"`` before it is paid.

The platform's side of a payment, under ``/_sim/`` (not part of the partner's API):

* ``POST /_sim/pay {MaThamChieu, outcome: "paid"|"failed", checksum: "valid"|"wrong", callback_url?}``
  marks the payment and **sends the confirmation callback** to the province (``--callback-url``),
  signed correctly or deliberately wrong; answers what was sent and every reply received. A paid
  payment keeps its ``MaGiaoDich``, so paying again resends the same transaction. ``callback``:
  ``"send"`` (default), ``"lose"`` (paid at the platform, no callback posted: the hub must ask
  QUERY), ``"late"`` (posted ``delay_ms`` later, in the background).
* ``POST /_sim/callbacks/{MaThamChieu}``: post a paid payment's callback now (a lost one arriving late).
* ``POST /_sim/faults``: ``latency_ms``, ``fail_next`` (next N partner calls answer 503), ``down``,
  ``duplicate_callbacks`` (every callback is sent twice), ``lose_callbacks_next`` (the next N
  payments post no callback), ``lose_callbacks_rate`` (each payment's callback lost with this
  probability), ``late_callbacks_ms`` (every callback posted this late), ``drop_init_answers_next`` (the
  next N INITs take effect but are answered 503: the hub never learns the page, and sends again).
* ``GET /_sim/state``, ``GET /_sim/transactions/{MaThamChieu}``, ``POST /_sim/reset``.

Run it with ``lienthong simulator payment --port 8102`` (``MaDoiTac`` and the secret from the
hub's settings and vault; ``make run`` seeds a random secret there). The hub believes a callback
only for a payment it opened itself (INIT with ``PaymentClient.for_hub``, which records it).
"""

from __future__ import annotations

import asyncio
import random
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
    REFERENCE_EXISTS,
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
    bank_code: str | None = None
    callbacks: int = 0
    callbacks_lost: int = 0
    receipt: dict[str, str] | None = None  #: SoBienLai, KyHieuBienLai, NgayBienLai once paid


@dataclass
class Faults:
    latency_ms: float = 0.0
    fail_next: int = 0
    down: bool = False
    duplicate_callbacks: bool = False
    lose_callbacks_next: int = 0
    lose_callbacks_rate: float = 0.0
    late_callbacks_ms: float = 0.0
    drop_init_answers_next: int = 0


class FaultsPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latency_ms: float | None = Field(None, ge=0)
    fail_next: int | None = Field(None, ge=0)
    down: bool | None = None
    duplicate_callbacks: bool | None = None
    lose_callbacks_next: int | None = Field(None, ge=0)
    lose_callbacks_rate: float | None = Field(None, ge=0, le=1)
    late_callbacks_ms: float | None = Field(None, ge=0, le=600_000)
    drop_init_answers_next: int | None = Field(None, ge=0)


class Pay(BaseModel):
    """Body of ``POST /_sim/pay``."""

    model_config = ConfigDict(extra="forbid")

    MaThamChieu: str
    outcome: Literal["paid", "failed"] = "paid"
    checksum: Literal["valid", "wrong"] = "valid"
    callback_url: str | None = None
    MaNganHang: str = "NCB"
    callback: Literal["send", "lose", "late"] = "send"
    delay_ms: float = Field(2000, ge=0, le=600_000)  #: how late a "late" callback is posted


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
                                         "callbacks_sent": 0, "callbacks_lost": 0, "answers_dropped": 0}
        self.receipts = 0
        self.random = random.Random(17)  # a rate of lost callbacks, the same from one run to the next

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
        if known is not None and known.state != PENDING:
            return answer(REFERENCE_EXISTS, f"MaThamChieu {reference} đã {'thanh toán' if known.state == PAID else 'thất bại'}",
                          MaThamChieu=reference)
        if known is None:
            self.transactions[reference] = Transaction(init=dict(body))
        return answer(OK, MaThamChieu=reference, UrlThanhToan=f"{self.public_url}/pay/{reference}")

    def query(self, body: Any) -> dict[str, Any]:
        found = self._lookup(QueryRequest, "QUERY", body)
        if isinstance(found, dict):
            return found
        extra: dict[str, Any] = ({"MaGiaoDich": found.transaction_id, "ThoiGianGD": found.paid_at,
                                  "MaNganHang": found.bank_code} if found.state == PAID else {})
        return answer(OK, MaThamChieu=body["MaThamChieu"], TrangThaiGD=found.state, SoTien=found.init["SoTien"],
                      **extra)

    def bill(self, body: Any) -> dict[str, Any]:
        found = self._lookup(GetBillRequest, "GET_BILL", body)
        if isinstance(found, dict):
            return found
        if found.state != PAID or found.receipt is None:
            return answer(INVALID, f"MaThamChieu {body['MaThamChieu']} chưa được thanh toán", MaThamChieu=body["MaThamChieu"])
        return answer(OK, MaThamChieu=body["MaThamChieu"], MaGiaoDich=found.transaction_id, SoTien=found.init["SoTien"],
                      **found.receipt, ThongTinBienLai=found.init["ThongTinBienLai"])

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
                found.bank_code = order.MaNganHang
                self.receipts += 1
                found.receipt = {"SoBienLai": f"{self.receipts:07d}", "KyHieuBienLai": "BLP/26E", "NgayBienLai": now}
            ma_loi, transaction_id, at = OK, found.transaction_id, found.paid_at
        else:
            found.state = FAILED
            ma_loi, transaction_id, at = PAYMENT_FAILED, f"GD{secrets.token_hex(6).upper()}", now
        init = found.init
        callback = {"LoaiBanTin": CALLBACK_TYPE, "MaLoi": ma_loi, "MaDoiTac": init["MaDoiTac"],
                    "MaThamChieu": order.MaThamChieu, "SoTien": init["SoTien"], "MaTienTe": init["MaTienTe"],
                    "MaGiaoDich": transaction_id, "MaNganHang": found.bank_code if ma_loi == OK else order.MaNganHang,
                    "ThoiGianGD": at,
                    "ThongTinGiaoDich": init["ThongTinGiaoDich"], "ThongTinBienLai": init["ThongTinBienLai"]}
        checksum.sign("CALLBACK", callback, self.secret)
        if order.checksum == "wrong":
            callback["MaXacThuc"] = checksum.compute("CALLBACK", callback, self.secret + "-wrong")
        found.callbacks += 1
        return callback

    def loses(self, order: Pay) -> bool:
        """Whether this payment's callback is lost (the order says so, or a fault)."""
        if order.callback == "lose":
            return True
        if self.faults.lose_callbacks_next > 0:
            self.faults.lose_callbacks_next -= 1
            return True
        return self.random.random() < self.faults.lose_callbacks_rate

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
        if endpoint == "init" and platform.faults.drop_init_answers_next > 0:  # done, but the answer is lost
            platform.faults.drop_init_answers_next -= 1
            platform.counters["answers_dropped"] += 1
            return json_response({"message": "Service Unavailable (simulated, after the call took effect)"}, 503)
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

    late: set[asyncio.Task[Any]] = set()  # callbacks posted later (kept referenced until they are sent)

    async def send(url: str, callback: dict[str, Any]) -> list[dict[str, Any]]:
        times = 2 if platform.faults.duplicate_callbacks else 1
        replies = []
        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(times):
                platform.counters["callbacks_sent"] += 1
                try:
                    sent = await http.post(url, json=callback)
                    try:
                        body: Any = sent.json()
                    except ValueError:
                        body = sent.text[:500]
                    replies.append({"status": sent.status_code, "body": body})
                except httpx.HTTPError as exc:
                    replies.append({"status": None, "body": f"{type(exc).__name__}: {exc}"})
        return replies

    async def send_later(delay_ms: float, url: str, callback: dict[str, Any]) -> None:
        await asyncio.sleep(delay_ms / 1000)
        await send(url, callback)

    @app.post("/_sim/pay")
    async def pay(order: Pay) -> Response:
        callback = platform.pay(order)
        if callback is None:
            return json_response({"detail": f"no payment {order.MaThamChieu}; INIT it first"}, 404)
        url = order.callback_url or platform.callback_url
        if platform.loses(order):
            platform.counters["callbacks_lost"] += 1
            platform.transactions[order.MaThamChieu].callbacks_lost += 1
            return json_response({"callback": callback, "replies": [], "lost": True})
        delay = order.delay_ms if order.callback == "late" else platform.faults.late_callbacks_ms
        if delay > 0:
            task = asyncio.create_task(send_later(delay, url, callback))
            late.add(task)
            task.add_done_callback(late.discard)
            return json_response({"callback": callback, "replies": [], "late_ms": delay})
        return json_response({"callback": callback, "replies": await send(url, callback)})

    @app.post("/_sim/callbacks/{reference}")
    async def resend(reference: str) -> Response:
        found = platform.transactions.get(reference)
        if found is None or found.state != PAID:
            return json_response({"detail": f"no paid payment {reference}"}, 404)
        callback = platform.pay(Pay(MaThamChieu=reference))
        assert callback is not None
        return json_response({"callback": callback, "replies": await send(platform.callback_url, callback)})

    @app.get("/_sim/state")
    async def state() -> Response:
        return json_response(platform.state())

    @app.get("/_sim/transactions/{reference}")
    async def transaction(reference: str) -> Response:
        found = platform.transactions.get(reference)
        return json_response(asdict(found)) if found else json_response({"detail": f"no payment {reference}"}, 404)

    add_controls(app, platform, FaultsPatch)
    return app

