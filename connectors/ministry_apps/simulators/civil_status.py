"""The Ministry of Justice civil-status registry (hộ tịch), as a real HTTP server; mounted at ``/hotich``.

Partner endpoints (JSON; answers always HTTP 200 with ``{status, errorDescription}`` except auth and outages):

* ``POST /api/token`` ``{userName, password}`` -> ``{token, expiresIn: 1800}``; 401 on wrong credentials.
* ``POST /api/NhanDKHT`` (``Authorization: Bearer``): a dossier, checked against ``wire/NhanDKHT.schema.json``
  and its ``data`` against ``$defs/<module>`` -> status ``"1"`` (again: "Hồ sơ đã được tiếp nhận trước
  đó"), ``"0"`` with a reason naming the field, ``"-1"`` when busy.
* ``POST /api/LayKetQua`` ``{maDinhDanhHoSo[], maTinh, module}`` -> one item per known dossier; those with
  trangThai 4 carry ``soDangKy`` and ``fileKetQua`` (served at ``GET /files/<id>``, sha256 = ``maBam``).

A received dossier starts at trangThai 1 and moves on every ``pace`` seconds: 3, then 4 (or 6 after
``reject_next``, or 2 and stays after ``supplement_next``). Controls under ``/_sim/``: ``state``
(counters, per dossier {module, trangThai}: never ``data``), ``advance``, ``pace``, ``faults``, ``reset``.

This module also holds what the ministry simulators share (the first section): the wire schemas and
their Vietnamese refusals, Vietnam time, NFC bodies, HTTP Basic and bearer headers, fake PDF results.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Literal

from fastapi import FastAPI, Request
from fastapi.responses import Response
from jsonschema import Draft202012Validator
from jsonschema import ValidationError as SchemaViolation
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.sim_controls import add_controls, add_pace, json_response, outage

WIRE = Path(__file__).resolve().parent.parent / "adapters" / "wire"  # one copy: the adapters validate against it too
#: Vietnam's time zone (UTC+7, no daylight saving): the ministries' clocks.
VN = timezone(timedelta(hours=7))


# -- what the ministry simulators share: wire schemas -----------------------------------------------


def wire_schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``wire/<name>.schema.json``."""
    schema: dict[str, Any] = json.loads((WIRE / f"{name}.schema.json").read_text(encoding="utf-8"))
    return schema


def validator(name: str, definition: str | None = None) -> Draft202012Validator:
    """A validator of ``wire/<name>.schema.json``, or of its ``$defs/<definition>`` (refs inside it resolve)."""
    schema = wire_schema(name)
    if definition is not None:
        schema = {"$schema": schema["$schema"], "$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]}
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


JSON_TYPES = {"string": "chuỗi", "integer": "số nguyên", "number": "số", "array": "mảng", "object": "đối tượng",
              "boolean": "true/false", "null": "null"}


def field_path(path: Any, prefix: str = "") -> str:
    """``("fileDinhKem", 0, "noiDung")`` -> ``fileDinhKem[0].noiDung`` (after ``prefix.`` if given)."""
    text = prefix
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def refusal(error: SchemaViolation, prefix: str = "") -> str:
    """A Vietnamese reason for a schema violation that names the field (``prefix`` before its path)."""
    where = field_path(error.absolute_path, prefix)
    schema = error.schema if isinstance(error.schema, dict) else {}
    value: Any = error.validator_value
    instance, kind = error.instance, error.validator
    if kind == "required":
        missing = [name for name in value if isinstance(instance, dict) and name not in instance]
        return "Thiếu trường bắt buộc: " + ", ".join(field_path([*error.absolute_path, m], prefix) for m in missing)
    if kind == "anyOf" and all(isinstance(s, dict) and "required" in s for s in value):
        names = [field_path([*error.absolute_path, r], prefix) for s in value for r in s["required"]]
        return "Thiếu trường bắt buộc: " + " hoặc ".join(names)
    if kind == "additionalProperties" and isinstance(instance, dict):
        extra = sorted(set(instance) - set(schema.get("properties", {})))
        return "Trường không được chấp nhận: " + ", ".join(field_path([*error.absolute_path, e], prefix) for e in extra)
    if not where:
        return "Nội dung yêu cầu phải là một đối tượng JSON"
    if kind == "type":
        wanted = [JSON_TYPES.get(str(t), str(t)) for t in (value if isinstance(value, list) else [value])]
        return f"Trường {where} sai kiểu dữ liệu (cần {' hoặc '.join(wanted)})"
    if kind == "pattern" and schema.get("contentEncoding") == "base64":
        return f"Trường {where} không phải dữ liệu base64 hợp lệ"
    if kind == "pattern":
        expected = schema.get("description")
        return f"Trường {where} sai định dạng" + (f" ({expected})" if expected else "")
    if kind in ("enum", "const"):
        allowed = value if isinstance(value, list) else [value]
        return f"Trường {where} có giá trị không hợp lệ (chấp nhận: {', '.join(map(str, allowed))})"
    if kind == "minLength":
        return f"Trường {where} không được để trống" if value == 1 else f"Trường {where} phải có ít nhất {value} ký tự"
    if kind == "maxLength":
        return f"Trường {where} dài quá {value} ký tự"
    if kind == "minItems":
        return f"Trường {where} phải có ít nhất {value} phần tử"
    if kind == "maxItems":
        return f"Trường {where} có nhiều nhất {value} phần tử"
    return f"Trường {where} không hợp lệ"


def first_refusal(check: Draft202012Validator, instance: Any, prefix: str = "") -> str | None:
    """The reason of the shallowest violation of ``check`` by ``instance`` (schema order), or None."""
    errors = list(check.iter_errors(instance))
    if not errors:
        return None
    return refusal(min(errors, key=lambda e: len(e.absolute_path)), prefix)


def undecodable(files: list[dict[str, Any]], content: str, field: str) -> str | None:
    """The reason naming the first ``files[i][content]`` that is not strict base64, or None."""
    for i, item in enumerate(files):
        try:
            base64.b64decode(item.get(content, ""), validate=True)
        except (binascii.Error, ValueError):
            return f"Trường {field}[{i}].{content} không phải dữ liệu base64 hợp lệ"
    return None


def bad_date(value: str, layout: str, where: str) -> str | None:
    """The reason when ``value`` (already of the right shape) is no real date in ``layout``, or None."""
    try:
        datetime.strptime(value, layout)
    except ValueError:
        return f"Trường {where} không phải ngày giờ hợp lệ"
    return None


# -- what the ministry simulators share: small pieces -----------------------------------------------


def vn_time(at: float, layout: str) -> str:
    """The wall-clock instant ``at`` (epoch seconds) in Vietnam time, as ``layout`` (strftime)."""
    return datetime.fromtimestamp(at, VN).strftime(layout)


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """``(user, secret)`` of an ``Authorization: Basic ...`` header, or None."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, colon, secret = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, ValueError):
        return None
    return (user, secret) if colon else None


def bearer_token(authorization: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or ``""``."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def fake_pdf(label: str) -> bytes:
    """A few bytes that look like a PDF (a result document), distinct per ``label``."""
    return f"%PDF-1.4\n% lienthong ministry simulator: {label}\n%%EOF\n".encode()


def nfc(value: Any) -> Any:
    """``value`` with every string in it (keys too) normalised to NFC."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [nfc(item) for item in value]
    if isinstance(value, dict):
        return {nfc(key): nfc(item) for key, item in value.items()}
    return value


async def read_json(request: Request) -> Any:
    """The body as JSON with its strings in NFC, or None when it is not JSON."""
    try:
        return nfc(json.loads(await request.body()))
    except ValueError:
        return None


def base_url(request: Request) -> str:
    """This sub-app's absolute URL as the caller reached it (scheme, host, mount prefix)."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


# -- the registry -----------------------------------------------------------------------------------

TIME = "%d/%m/%Y %H:%M:%S"
TOKEN_TTL = 1800
MODULES = {"LTKS": "khai sinh", "LTKT": "khai tử", "LTKH": "kết hôn"}
#: The record's dates (field -> strptime layout) by module, checked beyond the schema's shape.
DATES = {"LTKS": {"ngaySinh": "%d/%m/%Y"}, "LTKT": {"ngayChet": "%d/%m/%Y"}, "LTKH": {}}
ALREADY = "Hồ sơ đã được tiếp nhận trước đó"
BUSY = "Hệ thống đang bận, vui lòng thử lại sau"
BAD_LOGIN = "Sai tên đăng nhập hoặc mật khẩu"
BAD_TOKEN = "Token không hợp lệ hoặc đã hết hạn"


@dataclass
class Faults:
    """Injected misbehaviour (``POST /_sim/faults``): the shared ones, then the registry's own."""

    latency_ms: int = 0
    down: bool = False
    fail_next: int = 0  # HTTP 503
    busy_next: int = 0  # HTTP 200, status "-1"
    reject_next: int = 0  # the next received dossiers go 1 -> 6
    supplement_next: int = 0  # the next received dossiers go 1 -> 2 and stay


class FaultsPatch(BaseModel):
    """Only the given fields change; ``expire_tokens: true`` forgets every token."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: int | None = Field(None, ge=0)
    down: bool | None = None
    fail_next: int | None = Field(None, ge=0)
    busy_next: int | None = Field(None, ge=0)
    reject_next: int | None = Field(None, ge=0)
    supplement_next: int | None = Field(None, ge=0)
    expire_tokens: bool = False


class Advance(BaseModel):
    """Body of ``POST /_sim/advance``: set a dossier's state now (its scripted steps are dropped)."""

    model_config = ConfigDict(extra="forbid")

    maHoSoMCDT: str
    trangThai: Literal[1, 2, 3, 4, 6]
    noiDungXuLy: str | None = None
    ghiChu: str | None = None



@dataclass
class Step:
    """One state of a dossier, as LayKetQua reports it."""

    trangThai: int
    noiDungXuLy: str
    ghiChu: str = ""


@dataclass
class Dossier:
    code: str
    module: str
    step: Step
    changed_at: float  # epoch seconds of the last change
    script: list[Step] = field(default_factory=list)  # the steps still to come, one per pace
    soDangKy: str = ""
    file_id: str = ""


def default_text(module: str, state: int) -> Step:
    """The registry's wording of each state."""
    kind = MODULES[module]
    return {
        1: Step(1, "Đã tiếp nhận hồ sơ", "Chờ cán bộ tư pháp tiếp nhận"),
        2: Step(2, "Yêu cầu bổ sung hồ sơ", "Đề nghị bổ sung bản sao giấy tờ tùy thân của người đi đăng ký"),
        3: Step(3, "Đang xử lý", f"Cán bộ tư pháp đang thẩm định hồ sơ đăng ký {kind}"),
        4: Step(4, f"Đã có kết quả đăng ký {kind}", "Mời công dân nhận kết quả"),
        6: Step(6, "Từ chối: hồ sơ không đủ điều kiện đăng ký", f"Thông tin đăng ký {kind} không khớp với giấy tờ kèm theo"),
    }[state]


class Registry:
    """The simulated registry: accounts, tokens, dossiers, result files, faults, counters (one event loop)."""

    def __init__(self, user: str, password: str, pace: float, clock: Callable[[], float] = time.time) -> None:
        self.user, self.password, self.initial_pace, self.clock = user, password, pace, clock
        self.record_checks = {module: validator("NhanDKHT", module) for module in MODULES}
        self.body_check, self.query_check = validator("NhanDKHT"), validator("LayKetQua")
        self.reset()

    def reset(self) -> None:
        self.faults = Faults()
        self.pace = self.initial_pace
        self.tokens: dict[str, float] = {}
        self.dossiers: dict[str, Dossier] = {}
        self.files: dict[str, bytes] = {}
        self.counters: dict[str, Any] = {
            "received": 0, "duplicates": 0, "refused": 0, "unauthorized": 0, "faults": 0, "busy": 0,
            "token_issued": 0, "lay_ket_qua_calls": 0,
        }

    def expire_tokens(self) -> None:
        """Forget every token (``POST /_sim/faults {"expire_tokens": true}``)."""
        self.tokens.clear()

    # -- auth ------------------------------------------------------------------------------------

    def issue(self, body: Any) -> str | None:
        """A new token for the right ``{userName, password}``, else None."""
        if not isinstance(body, dict) or not isinstance(body.get("userName"), str) or not isinstance(body.get("password"), str):
            return None
        if not (secrets.compare_digest(body["userName"].encode(), self.user.encode())
                and secrets.compare_digest(body["password"].encode(), self.password.encode())):
            return None
        token = secrets.token_urlsafe(32)
        self.tokens[token] = self.clock() + TOKEN_TTL
        self.counters["token_issued"] += 1
        return token

    def authorized(self, authorization: str) -> bool:
        expires = self.tokens.get(bearer_token(authorization))
        return expires is not None and expires > self.clock()

    # -- dossiers -----------------------------------------------------------------------------------

    def check(self, body: Any) -> str | None:
        """The reason to refuse a NhanDKHT body (naming the field), or None."""
        reason = first_refusal(self.body_check, body)
        if reason is not None:
            return reason
        reason = bad_date(body["ngayTiepNhan"], TIME, "ngayTiepNhan") or undecodable(body["fileDinhKem"], "noiDung", "fileDinhKem")
        if reason is not None:
            return reason
        try:
            record = nfc(json.loads(body["data"]))
        except ValueError:
            record = None
        if not isinstance(record, dict):
            return "Trường data phải là chuỗi JSON của một đối tượng"
        module = body["module"]
        reason = first_refusal(self.record_checks[module], record, "data")
        for name, layout in DATES[module].items():
            reason = reason or bad_date(record[name], layout, f"data.{name}")
        return reason

    def receive(self, body: dict[str, Any]) -> str:
        """Take a checked dossier (once per maHoSoMCDT); the errorDescription of the answer."""
        code = body["maHoSoMCDT"]
        if code in self.dossiers:
            self.counters["duplicates"] += 1
            return ALREADY
        module = body["module"]
        if self.faults.reject_next > 0:
            self.faults.reject_next -= 1
            script = [default_text(module, 6)]
        elif self.faults.supplement_next > 0:
            self.faults.supplement_next -= 1
            script = [default_text(module, 2)]
        else:
            script = [default_text(module, 3), default_text(module, 4)]
        self.dossiers[code] = Dossier(code, module, default_text(module, 1), self.clock(), script)
        self.counters["received"] += 1
        return ""

    def catch_up(self, dossier: Dossier) -> None:
        """Apply the scripted steps that are due on the pace (none while the pace is 0)."""
        while dossier.script and self.pace > 0 and self.clock() >= dossier.changed_at + self.pace:
            self.change(dossier, dossier.script.pop(0), dossier.changed_at + self.pace)

    def change(self, dossier: Dossier, step: Step, at: float) -> None:
        dossier.step, dossier.changed_at = step, at
        if step.trangThai == 4 and not dossier.file_id:
            number = sum(1 for d in self.dossiers.values() if d.soDangKy) + 1
            dossier.soDangKy = f"{number:03d}/{vn_time(at, '%Y')}/{dossier.module}"
            dossier.file_id = secrets.token_hex(12)
            self.files[dossier.file_id] = fake_pdf(f"{dossier.module} {dossier.soDangKy}")

    def advance(self, order: Advance) -> Dossier | None:
        dossier = self.dossiers.get(unicodedata.normalize("NFC", order.maHoSoMCDT))
        if dossier is None:
            return None
        step = default_text(dossier.module, order.trangThai)
        step = Step(step.trangThai, order.noiDungXuLy if order.noiDungXuLy is not None else step.noiDungXuLy,
                    order.ghiChu if order.ghiChu is not None else step.ghiChu)
        dossier.script = []
        self.change(dossier, step, self.clock())
        return dossier

    def item(self, dossier: Dossier, base: str) -> dict[str, Any]:
        """The dossier as one LayKetQua item (result files as absolute URLs under ``base``)."""
        self.catch_up(dossier)
        step = dossier.step
        item: dict[str, Any] = {"maDinhDanhHoSo": dossier.code, "trangThai": step.trangThai,
                                "thoiGianThucHien": vn_time(dossier.changed_at, TIME), "noiDungXuLy": step.noiDungXuLy,
                                "ghiChu": step.ghiChu}
        if step.trangThai == 4:
            item["soDangKy"] = dossier.soDangKy
            item["fileKetQua"] = [{"tenFile": f"ket-qua-{dossier.module.lower()}-{dossier.file_id[:8]}.pdf",
                                   "duongDan": f"{base}/files/{dossier.file_id}",
                                   "maBam": hashlib.sha256(self.files[dossier.file_id]).hexdigest()}]
        return item

    def state(self) -> dict[str, Any]:
        for dossier in self.dossiers.values():
            self.catch_up(dossier)
        return {"counters": self.counters, "pace": self.pace, "tokens": len(self.tokens),
                "dossiers": {code: {"module": d.module, "trangThai": d.step.trangThai} for code, d in self.dossiers.items()}}


def answer(status: str, description: str = "") -> Response:
    return json_response({"status": status, "errorDescription": description})


def create_app(user: str = "lienthong", password: str = "sandbox-civil-password", pace: float = 2.0) -> FastAPI:
    """The registry as an ASGI app (its :class:`Registry` is ``app.state.sim``)."""
    registry = Registry(user, password, pace)
    app = FastAPI(title="Civil-status registry simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sim = registry
    unavailable = {"status": "-1", "errorDescription": "Dịch vụ tạm thời không khả dụng"}

    async def gate(request: Request) -> Response | None:
        """Shared faults, then the bearer token, then ``busy_next``: the answer that stops the call, or None."""
        down = await outage(registry.faults, registry.counters, unavailable)
        if down is not None:
            return down
        if not registry.authorized(request.headers.get("authorization", "")):
            registry.counters["unauthorized"] += 1
            return json_response({"status": "0", "errorDescription": BAD_TOKEN}, 401)
        if registry.faults.busy_next > 0:
            registry.faults.busy_next -= 1
            registry.counters["busy"] += 1
            return answer("-1", BUSY)
        return None

    @app.post("/api/token")
    async def token(request: Request) -> Response:
        down = await outage(registry.faults, registry.counters, unavailable)
        if down is not None:
            return down
        issued = registry.issue(await read_json(request))
        if issued is None:
            registry.counters["unauthorized"] += 1
            return json_response({"status": "0", "errorDescription": BAD_LOGIN}, 401)
        return json_response({"token": issued, "expiresIn": TOKEN_TTL})

    @app.post("/api/NhanDKHT")
    async def nhan_dkht(request: Request) -> Response:
        stop = await gate(request)
        if stop is not None:
            return stop
        body = await read_json(request)
        reason = registry.check(body) if body is not None else "Nội dung yêu cầu không phải JSON hợp lệ"
        if reason is not None:
            registry.counters["refused"] += 1
            return answer("0", reason)
        return answer("1", registry.receive(body))

    @app.post("/api/LayKetQua")
    async def lay_ket_qua(request: Request) -> Response:
        stop = await gate(request)
        if stop is not None:
            return stop
        registry.counters["lay_ket_qua_calls"] += 1
        body = await read_json(request)
        reason = first_refusal(registry.query_check, body) if body is not None else "Nội dung yêu cầu không phải JSON hợp lệ"
        if reason is not None:
            registry.counters["refused"] += 1
            return answer("0", reason)
        base = base_url(request)
        asked = dict.fromkeys(body["maDinhDanhHoSo"])
        return json_response([registry.item(registry.dossiers[code], base) for code in asked if code in registry.dossiers])

    @app.get("/files/{file_id}")
    async def result_file(file_id: str) -> Response:
        content = registry.files.get(file_id)
        if content is None:
            return json_response({"status": "0", "errorDescription": "Không tìm thấy tệp"}, 404)
        return Response(content, media_type="application/pdf")

    @app.get("/_sim/state")
    async def state() -> Response:
        return json_response(registry.state())

    @app.post("/_sim/advance")
    async def advance(request: Request) -> Response:
        try:
            order = Advance.model_validate_json(await request.body())
        except ValidationError as exc:
            return json_response({"detail": exc.errors(include_url=False, include_context=False)}, 422)
        dossier = registry.advance(order)
        if dossier is None:
            return json_response({"error": "unknown dossier"}, 404)
        return json_response(registry.item(dossier, base_url(request)))

    add_pace(app, registry)
    add_controls(app, registry, FaultsPatch)
    return app
