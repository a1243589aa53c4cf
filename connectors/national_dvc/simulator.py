"""A faithful simulator of the DVCQG adapter, as a real HTTP server with fault injection.

Partner endpoints: ``POST /login`` and ``POST /{service}`` (``DongBoHoSoMC``,
``CapNhatTienDoHoSoMC``). Every call is validated with ``jsonschema`` against
``schemas/national_dvc/*.json`` and answered in the wire format:

* ``"00"`` success; ``"01"`` session invalid or expired (also: login refused);
* ``"02"`` validation failed, naming the record's MaHoSo, the field path and the rule;
* ``"03"`` "Hồ sơ <MaHoSo> đã tồn tại" for an add of a dossier it already has;
* ``"04"`` dossier not found, for an update or a progress entry; ``"99"`` internal error.

A call is atomic: every record is checked before any is applied. Progress entries are deduped on
(MaHoSo, ThoiDiemXuLy, TrangThai, NoiDungXuLy), each counting how many times it was received.

Inspection and faults under ``/_sim/``: ``GET /_sim/state``, ``GET /_sim/dossiers/{MaHoSo}``,
``POST /_sim/faults``, ``POST /_sim/reset``. With ``--jwks-url`` it requires the hub's HTTP message
signatures (``connectors/sim_signatures.py``). Run it with::

    python -m connectors.national_dvc.simulator --host 127.0.0.1 --port 8101
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from pydantic import BaseModel, ConfigDict, Field

from connectors.national_dvc.sim_parts import Part, Service, answer, describe
from connectors.national_dvc.wire import SCHEMA_DIR
from connectors.sim_controls import add_controls, json_response
from connectors.sim_signatures import SignatureGate

SERVICES = ("DongBoHoSoMC", "CapNhatTienDoHoSoMC")


def inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    """Replace each local ``{"$ref": "#/$defs/X"}`` by X itself (the wire schemas are not recursive).

    Same meaning, about a quarter faster to validate: jsonschema resolves no reference per record."""
    if isinstance(node, dict):
        if "$ref" in node:
            return inline_refs(defs[node["$ref"].removeprefix("#/$defs/")], defs)
        return {key: inline_refs(value, defs) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [inline_refs(value, defs) for value in node]
    return node


def load_validators(directory: Path = SCHEMA_DIR) -> dict[str, Draft202012Validator]:
    """One validator per schema file, by file stem, built once at start-up."""
    validators = {}
    for path in sorted(directory.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        validators[path.stem] = Draft202012Validator(inline_refs(schema, schema.get("$defs", {})))
    return validators


@dataclass
class Faults:
    """Injected misbehaviour; see ``POST /_sim/faults``."""

    latency_ms: float = 0.0
    fail_next: int = 0
    error_rate: float = 0.0
    hang_next: int = 0
    hang_seconds: float = 30.0
    down: bool = False
    reject_dossiers: list[str] = field(default_factory=list)


class FaultsPatch(BaseModel):
    """Body of ``POST /_sim/faults``: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: float | None = Field(None, ge=0)
    fail_next: int | None = Field(None, ge=0)
    error_rate: float | None = Field(None, ge=0, le=1)
    hang_next: int | None = Field(None, ge=0)
    hang_seconds: float | None = Field(None, ge=0)
    expire_sessions: bool = False
    reject_dossiers: list[str] | None = None
    down: bool | None = None


#: The parts, each made from the adapter (its validators, its clock). Issue 17 adds one per module.
def _questions(adapter: "Adapter") -> Part:
    from connectors.national_dvc.questions.simulator import make

    return make(adapter)


def _ratings(adapter: "Adapter") -> Part:
    from connectors.national_dvc.ratings.simulator import make

    return make(adapter)


def _statistics(adapter: "Adapter") -> Part:
    from connectors.national_dvc.statistics.simulator import part

    return part(adapter)


def _catalogue(adapter: "Adapter") -> Part:
    from connectors.national_dvc.catalogue.simulator import CataloguePart

    return CataloguePart(adapter, describe)


PARTS: tuple[Callable[["Adapter"], Part], ...] = (_catalogue, _questions, _ratings, _statistics)


class Adapter:
    """The simulated portal: sessions, dossiers, progress entries, counters. Not thread-safe:
    run it on one event loop (handlers never await between checking and applying a call)."""

    def __init__(
        self,
        username: str,
        password: str,
        session_ttl: float,
        validators: dict[str, Draft202012Validator],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.username, self.password, self.session_ttl = username, password, session_ttl
        self.validators = validators
        self.clock = clock
        self.parts: dict[str, Part] = {}
        self.reset()
        self.parts = {part.name: part for part in (make(self) for make in PARTS)}

    def reset(self) -> None:
        for part in self.parts.values():
            part.reset()
        self.sessions: dict[str, float] = {}
        self.dossiers: dict[str, dict[str, Any]] = {}
        self.updates: dict[str, int] = {}
        self.progress: dict[str, list[dict[str, Any]]] = {}
        self.progress_index: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.faults = Faults()
        self.counters: dict[str, Any] = {
            "calls": {"login": 0, **{s: 0 for s in SERVICES}},
            "records": 0,
            "duplicates": 0,
            "rejected": 0,
            "faults": 0,
            "signatures": {"verified": 0, "refused": 0},
        }

    # -- partner calls -------------------------------------------------------------------------

    def login(self, body: Any) -> dict[str, Any]:
        error = best_match(self.validators["login"].iter_errors(body))
        if error is not None:
            return {"session": None, **answer("02", describe(error, {}))}
        if body["username"] != self.username or body["password"] != self.password:
            return {"session": None, **answer("01", "Sai tên đăng nhập hoặc mật khẩu")}
        token = secrets.token_urlsafe(24)
        self.sessions[token] = self.clock() + self.session_ttl
        return {"session": token, "error_code": 0}

    def services(self) -> dict[str, Service]:
        """Every service a part adds, by name."""
        return {name: handler for part in self.parts.values() for name, handler in part.services.items()}

    def handle(self, service: str, body: Any) -> dict[str, Any]:
        """Check a whole call, then apply it; return the wire answer."""
        if not isinstance(body, dict):
            return answer("02", "Yêu cầu phải là một đối tượng JSON")
        expires = self.sessions.get(str(body.get("session")))
        if expires is None or expires <= self.clock():
            return answer("01", "Phiên làm việc không hợp lệ hoặc đã hết hạn")
        if service not in SERVICES:
            return self.services()[service](body)
        if service == "DongBoHoSoMC":
            schema = "DongBoHoSoMC_update" if body.get("isUpdating") == "True" else "DongBoHoSoMC_add"
        else:
            schema = service
        error = best_match(self.validators[schema].iter_errors(body))
        if error is not None:
            return answer("02", describe(error, body))
        records: list[dict[str, Any]] = body["data"]
        for index, record in enumerate(records):
            if record["MaHoSo"] in self.faults.reject_dossiers:
                return answer(
                    "02",
                    f"Hồ sơ {record['MaHoSo']} (data[{index}]): trường MaHoSo không hợp lệ "
                    "(quy tắc reject_dossiers: hồ sơ bị từ chối)",
                )
        refusal = self._check_existence(schema, records)
        if refusal is not None:
            return refusal
        self._apply(schema, records)
        self.counters["records"] += len(records)
        return answer("00", f"Đã tiếp nhận {len(records)} bản ghi")

    def _check_existence(self, schema: str, records: list[dict[str, Any]]) -> dict[str, str] | None:
        staged: set[str] = set()
        for record in records:
            ma = record["MaHoSo"]
            if schema == "DongBoHoSoMC_add":
                if ma in self.dossiers or ma in staged:
                    return answer("03", f"Hồ sơ {ma} đã tồn tại")
                staged.add(ma)
            elif ma not in self.dossiers:
                return answer("04", f"Không tìm thấy hồ sơ {ma}")
        return None

    def _apply(self, schema: str, records: list[dict[str, Any]]) -> None:
        for record in records:
            ma = record["MaHoSo"]
            if schema == "DongBoHoSoMC_add":
                self.dossiers[ma] = dict(record)
                self.updates[ma] = 0
            elif schema == "DongBoHoSoMC_update":
                self.dossiers[ma].update(record)
                self.updates[ma] += 1
            else:
                self._add_progress(record)

    def _add_progress(self, item: dict[str, Any]) -> None:
        key = (item["MaHoSo"], item["ThoiDiemXuLy"], item["TrangThai"], item["NoiDungXuLy"])
        seen = self.progress_index.get(key)
        if seen is not None:
            seen["received"] += 1
            self.counters["duplicates"] += 1
            return
        entry = {**item, "received": 1}
        self.progress_index[key] = entry
        self.progress.setdefault(item["MaHoSo"], []).append(entry)

    # -- faults and inspection -----------------------------------------------------------------

    def expire_sessions(self) -> None:
        """Forget every session (``POST /_sim/faults {"expire_sessions": true}``)."""
        self.sessions.clear()

    def dossier(self, ma: str) -> dict[str, Any] | None:
        if ma not in self.dossiers:
            return None
        return {"dossier": self.dossiers[ma], "progress": self.progress.get(ma, []), "updates": self.updates[ma]}

    def state(self) -> dict[str, Any]:
        now = self.clock()
        return {
            "dossiers": self.dossiers,
            "progress": self.progress,
            "counters": self.counters,
            "faults": asdict(self.faults),
            "sessions": sum(1 for expiry in self.sessions.values() if expiry > now),
            **{name: part.state() for name, part in self.parts.items()},
        }


def create_app(username: str = "lienthong", password: str = "sandbox-password", session_ttl: float = 3600.0,
               jwks_url: str | None = None) -> FastAPI:
    """The simulator as an ASGI app; state lives in ``app.state.adapter``. With ``jwks_url``, every
    partner call must carry the hub's HTTP message signature (checked against that JWKS); an
    unsigned or badly signed call is answered 401."""
    adapter = Adapter(username, password, session_ttl, load_validators())
    signatures = SignatureGate(jwks_url)
    app = FastAPI(title="DVCQG adapter simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.adapter = adapter

    async def injected_fault(endpoint: str, request: Request) -> Response | None:
        """Apply latency, faults and the signature check to a partner call; a response means the call stops here."""
        adapter.counters["calls"][endpoint] = adapter.counters["calls"].get(endpoint, 0) + 1
        refusal = await signatures.refusal(request, adapter.counters["signatures"])
        if refusal:
            return json_response({"message": f"Chữ ký không hợp lệ: {refusal}"}, signatures.status(refusal))
        faults = adapter.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.hang_next > 0:
            faults.hang_next -= 1
            adapter.counters["faults"] += 1
            await asyncio.sleep(faults.hang_seconds)
            return json_response({"message": "Gateway Timeout (simulated hang)"}, 504)
        failing = faults.down or faults.fail_next > 0 or (faults.error_rate and random.random() < faults.error_rate)
        if failing:
            faults.fail_next = max(0, faults.fail_next - 1)
            adapter.counters["faults"] += 1
            return json_response({"message": "Service Unavailable (simulated)"}, 503)
        return None

    async def read_json(request: Request) -> Any:
        try:
            return orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None

    @app.post("/login")
    async def login(request: Request) -> Response:
        fault = await injected_fault("login", request)
        if fault is not None:
            return fault
        return json_response(adapter.login(await read_json(request)))

    @app.post("/{service}")
    async def service_call(service: str, request: Request) -> Response:
        if service not in SERVICES and service not in adapter.services():
            return json_response(answer("02", f"Dịch vụ {service} không được hỗ trợ"), 404)
        fault = await injected_fault(service, request)
        if fault is not None:
            return fault
        body = await read_json(request)
        try:
            result = adapter.handle(service, body)
        except Exception as exc:  # the simulated portal's own bug: answer like the real one
            result = answer("99", f"Lỗi hệ thống: {type(exc).__name__}")
        if result["error_code"] != "00":
            adapter.counters["rejected"] += 1
        return json_response(result)

    @app.get("/_sim/state")
    async def state() -> Response:
        return json_response(adapter.state())

    @app.get("/_sim/dossiers/{ma_ho_so}")
    async def dossier(ma_ho_so: str) -> Response:
        found = adapter.dossier(ma_ho_so)
        if found is None:
            return json_response({"detail": f"no dossier {ma_ho_so}"}, 404)
        return json_response(found)

    for part in adapter.parts.values():
        part.routes(app)
    add_controls(app, adapter, FaultsPatch)
    return app

