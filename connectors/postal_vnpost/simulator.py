"""A simulator of VNPost's NGSP API, as a real HTTP server with fault injection.

Partner endpoints (paths of the settings' defaults):

* ``POST /oauth/token``: form ``grant_type=client_credentials``, HTTP Basic auth checked against its
  one account; a token lives ``token_ttl`` seconds. Every other call needs ``Authorization: Bearer``,
  else HTTP 401.
* ``POST /api/orders``: the body is validated against ``schemas/postal_vnpost/order.json``;
  answers ``{Status, Message}``: ``100`` booked, ``101`` an ``OrderNumber`` it already holds,
  ``102`` refused by the schema (the message names the field and the rule), ``103`` another
  customer's code.
* ``GET /api/orders/cancel?CustomerCode=&OrderNumber=``: ``100`` cancelled (before pickup: event
  ``9``), ``104`` unknown order, ``105`` too late (already picked up).
* ``GET /api/tracking?pagesize=N&lastId=ID``: the feed, ``{_size, _total_pages, _returned,
  _embedded: {"rh:doc": [...]}}`` after ``lastId``; ``_id`` is ``{$oid}``, 24 hex digits, increasing.
* ``POST /api/price``: a made-up tariff by weight.

``POST /_sim/load {"orders": N, "events_per_order": K, "code_prefix"?, "leg"?}`` puts N x K events
straight into the feed (no order is booked): order ``i`` is dossier ``<code_prefix>-YYMMDD-NNNN``
(``-KQ`` after it for leg ``result``), its events the codes of the stages after the booking in turn (6, 7, 10, 14). It is for benches and
tests that need a large feed.

Each order walks through ``STAGES`` (1 created, 6 picked up, 7 at the post office, 10 in transit,
14 delivered) as simulated time passes: ``speed`` simulated seconds per real second, plus whatever
``POST /_sim/advance {"seconds": S}`` adds. An event enters the feed once its time has come.

Inspection and faults under ``/_sim/``: ``GET /_sim/state``, ``POST /_sim/advance``,
``POST /_sim/faults`` (latency, down, fail_next, ``expire_tokens``, ``duplicate_events``,
``out_of_order``, ``repeat_page``, ``stall``, ``unknown_code``), ``POST /_sim/load``, ``POST /_sim/reset``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from pydantic import BaseModel, ConfigDict, Field

from connectors.postal_vnpost.interface import EXISTS_STATUS, FIRST_LAST_ID, SUCCESS_STATUS
from connectors.postal_vnpost.settings import SANDBOX_SECRET
from connectors.postal_vnpost.wire import SCHEMA_DIR
from connectors.sim_controls import add_controls, json_response, outage

#: (simulated seconds after booking, StatusCode, StatusMessage): the commercial VNPost codes.
STAGES: tuple[tuple[float, str, str], ...] = (
    (0.0, "1", "Đã tạo đơn hàng"),
    (1800.0, "6", "Đã nhận hàng (bưu tá đã lấy hàng)"),
    (3600.0, "7", "Đã đến bưu cục"),
    (7200.0, "10", "Đang vận chuyển"),
    (14400.0, "14", "Phát thành công"),
)
PICKED_UP = "6"
PICKUP_CANCELLED = (("9", "Hủy lấy hàng"),)
INVALID = "102"
WRONG_CUSTOMER = "103"
UNKNOWN_ORDER = "104"
TOO_LATE = "105"
POS_ID = "200000"
#: The StatusCode events carry under the ``unknown_code`` fault: in no table.
UNKNOWN_CODE = ("99", "Trạng thái thử nghiệm (không có trong bảng mã)")
LOAD_FIRST_DAY = date(2026, 1, 1)  #: the date in the dossier codes of loaded orders' first 9999


def status(code: str, message: str) -> dict[str, str]:
    return {"Status": code, "Message": message}


def load_order_validator(directory: Path = SCHEMA_DIR) -> Draft202012Validator:
    schema = json.loads((directory / "order.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@dataclass
class Faults:
    """Injected misbehaviour; see ``POST /_sim/faults``."""

    latency_ms: float = 0.0
    fail_next: int = 0
    down: bool = False
    duplicate_events: bool = False  #: every event of a page served twice, one after the other
    out_of_order: bool = False  #: a page's events served newest first
    repeat_page: int = 0  #: the next N feed reads get the previous page again
    stall: bool = False  #: the feed answers empty pages
    unknown_code: bool = False  #: events entering the feed carry a StatusCode no table knows


class FaultsPatch(BaseModel):
    """Body of ``POST /_sim/faults``: only the fields given change; ``expire_tokens`` forgets every token."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: float | None = Field(None, ge=0)
    fail_next: int | None = Field(None, ge=0)
    down: bool | None = None
    duplicate_events: bool | None = None
    out_of_order: bool | None = None
    repeat_page: int | None = Field(None, ge=0)
    stall: bool | None = None
    unknown_code: bool | None = None
    expire_tokens: bool = False


class Advance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(ge=0)


class Load(BaseModel):
    """Body of ``POST /_sim/load``: ``orders`` x ``events_per_order`` events straight into the feed."""

    model_config = ConfigDict(extra="forbid")

    orders: int = Field(ge=1, le=200_000)
    events_per_order: int = Field(1, ge=1, le=20)
    code_prefix: str = Field("000.00.00.H49", pattern=r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$",
                             description="The agency identifier the dossier codes start with")
    leg: str = Field("pickup", pattern=r"^(pickup|result)$")


class Postal:
    """The simulated operator: tokens, orders, their scheduled events, the published feed. Run it on one
    event loop (handlers never await between checking and applying a call)."""

    def __init__(self, client_id: str, client_secret: str, customer_code: str, token_ttl: float, speed: float,
                 validator: Draft202012Validator, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.client_id, self.client_secret, self.customer_code = client_id, client_secret, customer_code
        self.token_ttl, self.speed, self.validator, self.clock, self.wall = token_ttl, speed, validator, clock, wall
        self.reset()

    def reset(self) -> None:
        self.tokens: dict[str, float] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.pending: list[tuple[float, int, dict[str, Any]]] = []  #: (due sim time, sequence, event)
        self.feed: list[dict[str, Any]] = []
        self._ids: list[str] = []  #: the feed's ids, increasing (for bisect)
        self.faults = Faults()
        self.counters: dict[str, Any] = {"calls": {}, "booked": 0, "duplicates": 0, "refused": 0, "cancelled": 0,
                                         "faults": 0, "pages": 0}
        self.started, self.epoch_ms, self.offset = self.clock(), int(self.wall() * 1000), 0.0
        self._sequence = 0
        self._last_page: list[dict[str, Any]] = []
        self._last_ts = 0

    # -- time ----------------------------------------------------------------------------------

    def now(self) -> float:
        """Simulated seconds since the start (or the last reset)."""
        return (self.clock() - self.started) * self.speed + self.offset

    def advance(self, seconds: float) -> float:
        self.offset += seconds
        self.publish()
        return self.now()

    def publish(self) -> None:
        """Move every scheduled event whose time has come into the feed, in time order, with a new id."""
        now = self.now()
        due = sorted(entry for entry in self.pending if entry[0] <= now)
        if not due:
            return
        self.pending = [entry for entry in self.pending if entry[0] > now]
        for at, _, event in due:
            self._append(event, self.epoch_ms + int(at * 1000))

    def _append(self, event: dict[str, Any], event_ms: int) -> None:
        """Put ``event`` in the feed with the next id (ids increase with time, then sequence)."""
        self._last_ts = max(self._last_ts, event_ms // 1000)
        self._sequence += 1
        oid = f"{self._last_ts:08x}{self._sequence:016x}"
        if self.faults.unknown_code:
            event = {**event, "StatusCode": UNKNOWN_CODE[0], "StatusMessage": UNKNOWN_CODE[1]}
        self.feed.append({"_id": {"$oid": oid}, **event, "EventTime": event_ms})
        self._ids.append(oid)

    def load(self, spec: Load) -> dict[str, Any]:
        """``spec.orders`` x ``spec.events_per_order`` events into the feed at once, a second apart: the
        journey's stages after the booking (6 picked up, 7, 10, 14...), as for orders booked before."""
        suffix = "-KQ" if spec.leg == "result" else ""
        start = self.epoch_ms + int(self.now() * 1000)
        for i in range(spec.orders):
            day = (LOAD_FIRST_DAY + timedelta(days=i // 9999)).strftime("%y%m%d")
            number = f"{spec.code_prefix}-{day}-{i % 9999 + 1:04d}{suffix}"
            item = f"EL{i + 1:09d}VN"
            for k in range(spec.events_per_order):
                _, code, message = STAGES[1 + k % (len(STAGES) - 1)]
                self._append({"CustomerCode": self.customer_code, "OrderNumber": number, "ItemCode": item,
                              "POSID": POS_ID, "StatusCode": code, "StatusMessage": message, "Notes": None},
                             start + (i * spec.events_per_order + k) * 1000)
        return {"loaded": spec.orders * spec.events_per_order, "events": len(self.feed),
                "last_id": self._ids[-1] if self._ids else FIRST_LAST_ID}

    def _schedule(self, at: float, order: dict[str, Any], code: str, message: str) -> None:
        self._sequence += 1
        event = {"CustomerCode": order["CustomerCode"], "OrderNumber": order["OrderNumber"],
                 "ItemCode": order["ItemCode"], "POSID": POS_ID, "StatusCode": code, "StatusMessage": message,
                 "Notes": None}
        self.pending.append((at, self._sequence, event))

    # -- partner calls -------------------------------------------------------------------------

    def issue_token(self, authorization: str) -> tuple[int, dict[str, Any]]:
        scheme, _, encoded = authorization.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        if scheme.lower() != "basic" or not secrets.compare_digest(f"{user}:{password}".encode(),
                                                                  f"{self.client_id}:{self.client_secret}".encode()):
            return 401, {"error": "invalid_client"}
        token = secrets.token_urlsafe(24)
        self.tokens[token] = self.clock() + self.token_ttl
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": int(self.token_ttl)}

    def authorised(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        expires = self.tokens.get(token)
        return scheme.lower() == "bearer" and expires is not None and expires > self.clock()

    def book(self, body: Any) -> dict[str, str]:
        error = best_match(self.validator.iter_errors(body))
        if error is not None:
            self.counters["refused"] += 1
            where = ".".join(str(p) for p in error.absolute_path) or "(gốc)"
            return status(INVALID, f"Dữ liệu không hợp lệ: trường {where} (quy tắc {error.validator})")
        if body["CustomerCode"] != self.customer_code:
            self.counters["refused"] += 1
            return status(WRONG_CUSTOMER, "Mã khách hàng không hợp lệ")
        number = body["OrderNumber"]
        if number in self.orders:
            self.counters["duplicates"] += 1
            return status(EXISTS_STATUS, f"Đơn hàng {number} đã tồn tại")
        self.publish()
        item = body.get("ItemCode") or f"EE{len(self.orders) + 1:09d}VN"
        order = {**body, "ItemCode": item, "booked_at": self.now(), "cancelled": False}
        self.orders[number] = order
        for after, code, message in STAGES:
            self._schedule(order["booked_at"] + after, order, code, message)
        self.counters["booked"] += 1
        self.publish()
        return status(SUCCESS_STATUS, f"Tạo đơn hàng thành công, số hiệu {item}")

    def cancel(self, customer_code: str, number: str) -> dict[str, str]:
        self.publish()
        order = self.orders.get(number)
        if order is None or customer_code != self.customer_code:
            return status(UNKNOWN_ORDER, f"Không tìm thấy đơn hàng {number}")
        if order["cancelled"]:
            return status(SUCCESS_STATUS, f"Đơn hàng {number} đã được hủy")
        if any(e["OrderNumber"] == number and e["StatusCode"] == PICKED_UP for e in self.feed):
            return status(TOO_LATE, f"Đơn hàng {number} đã được lấy, không thể hủy")
        order["cancelled"] = True
        self.pending = [entry for entry in self.pending if entry[2]["OrderNumber"] != number]
        for code, message in PICKUP_CANCELLED:
            self._schedule(self.now(), order, code, message)
        self.counters["cancelled"] += 1
        self.publish()
        return status(SUCCESS_STATUS, f"Hủy đơn hàng {number} thành công")

    def page(self, page_size: int, last_id: str) -> dict[str, Any]:
        self.publish()
        self.counters["pages"] += 1
        faults = self.faults
        if faults.repeat_page > 0 and self._last_page:
            faults.repeat_page -= 1
            self.counters["faults"] += 1
            docs = list(self._last_page)
        elif faults.stall:
            docs = []
        else:
            start = bisect.bisect_right(self._ids, last_id)
            docs = self.feed[start:start + page_size]
            self._last_page = list(docs)
            if faults.out_of_order:
                docs.reverse()
            if faults.duplicate_events:
                docs = [doc for doc in docs for _ in (1, 2)]
        size = len(self.feed)
        return {"_size": size, "_total_pages": math.ceil(size / page_size), "_returned": len(docs),
                "_embedded": {"rh:doc": docs}}

    # -- faults and inspection -----------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Forget every token (``POST /_sim/faults {"expire_tokens": true}``)."""
        self.tokens.clear()

    def state(self) -> dict[str, Any]:
        self.publish()
        now = self.clock()
        return {
            "now": self.now(),
            "speed": self.speed,
            "orders": {n: {"ItemCode": o["ItemCode"], "cancelled": o["cancelled"],
                           "statuses": [e["StatusCode"] for e in self.feed if e["OrderNumber"] == n]}
                       for n, o in self.orders.items()},
            "events": len(self.feed),
            "pending": len(self.pending),
            "last_id": self.feed[-1]["_id"]["$oid"] if self.feed else FIRST_LAST_ID,
            "tokens": sum(1 for expiry in self.tokens.values() if expiry > now),
            "counters": self.counters,
            "faults": asdict(self.faults),
        }


def create_app(client_id: str = "lienthong", client_secret: str = SANDBOX_SECRET, customer_code: str = "LIENTHONG-SBX",
               token_ttl: float = 3600.0, speed: float = 1.0) -> FastAPI:
    """The simulator as an ASGI app; its state lives in ``app.state.postal``. ``speed``: simulated
    seconds per real second (0: time moves only with ``POST /_sim/advance``)."""
    postal = Postal(client_id, client_secret, customer_code, token_ttl, speed, load_order_validator())
    app = FastAPI(title="VNPost simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.postal = postal

    async def refused(endpoint: str, request: Request) -> Response | None:
        """Count the call, apply latency and outages, check the token; a response means it stops here."""
        postal.counters["calls"][endpoint] = postal.counters["calls"].get(endpoint, 0) + 1
        fault = await outage(postal.faults, postal.counters, {"Status": "500", "Message": "Service Unavailable (simulated)"})
        if fault is not None:
            return fault
        if endpoint != "token" and not postal.authorised(request.headers.get("authorization", "")):
            return json_response({"Status": "401", "Message": "Token không hợp lệ hoặc đã hết hạn"}, 401)
        return None

    @app.post("/oauth/token")
    async def token(request: Request) -> Response:
        stop = await refused("token", request)
        if stop is not None:
            return stop
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        if form.get("grant_type") != ["client_credentials"]:
            return json_response({"error": "unsupported_grant_type"}, 400)
        code, body = postal.issue_token(request.headers.get("authorization", ""))
        return json_response(body, code)

    @app.post("/api/orders")
    async def order(request: Request) -> Response:
        raw = await request.body()  # received before the latency: a slow answer still books (a caller that gave up)
        stop = await refused("order", request)
        if stop is not None:
            return stop
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return json_response(status(INVALID, "Dữ liệu không phải JSON"))
        return json_response(postal.book(body))

    @app.get("/api/orders/cancel")
    async def cancel(request: Request, CustomerCode: str = "", OrderNumber: str = "") -> Response:  # noqa: N803
        stop = await refused("cancel", request)
        if stop is not None:
            return stop
        return json_response(postal.cancel(CustomerCode, OrderNumber))

    @app.get("/api/tracking")
    async def tracking(request: Request, pagesize: int = 100, lastId: str = FIRST_LAST_ID) -> Response:  # noqa: N803
        stop = await refused("tracking", request)
        if stop is not None:
            return stop
        if not 1 <= pagesize <= 1000:
            return json_response({"Status": "400", "Message": "pagesize phải từ 1 đến 1000"}, 400)
        return json_response(postal.page(pagesize, lastId))

    @app.post("/api/price")
    async def price(request: Request) -> Response:
        stop = await refused("price", request)
        if stop is not None:
            return stop
        try:
            body = orjson.loads(await request.body())
            weight = int(body["weight"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return json_response({"Status": "400", "Message": "Thiếu khối lượng (weight)"}, 400)
        fee = 12000 + 2500 * max(0, math.ceil(weight / 500) - 1)
        total = fee * 2 if body.get("isreturn") else fee
        return json_response({"mainSrv": body.get("mainSrv", "HCC"), "weight": weight, "fee": fee, "total": total})

    @app.get("/_sim/state")
    async def state() -> Response:
        return json_response(postal.state())

    @app.post("/_sim/load")
    async def load(request: Request) -> Response:
        try:
            spec = Load.model_validate_json(await request.body())
        except ValueError as exc:
            return json_response({"detail": str(exc)[:500]}, 422)
        return json_response(postal.load(spec))

    @app.post("/_sim/advance")
    async def advance(request: Request) -> Response:
        step = Advance.model_validate_json(await request.body() or b"{}")
        return json_response({"now": postal.advance(step.seconds)})

    add_controls(app, postal, FaultsPatch)
    return app
