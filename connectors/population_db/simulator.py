"""A simulator of the population database, as a real HTTP server with fault injection.

Partner endpoints:

* ``POST /oauth/token``: OAuth ``client_credentials`` with HTTP Basic auth -> ``{access_token,
  token_type: "Bearer", expires_in}``.
* ``GET /dancuquocgia?wsdl``: the WSDL (``schemas/population_db/dancuquocgia.wsdl``), its address
  set to this server.
* ``POST /dancuquocgia``: SOAP 1.1 envelopes, ``Authorization: Bearer <token>`` (401 without a valid
  one). The body element names the operation; answers come from :mod:`.population` (the same
  ``seed`` and ``size`` give the same citizens). Refusals are SOAP Faults (HTTP 500) whose detail is
  ``Loi{MaLoi, MoTa}``; see :data:`FAULTS`.

Optionally it requires a valid WS-Security signature on requests (by the hub's certificate) and
signs its answers (its own development identity under ``<keys_dir>/wsse/``).

Inspection and faults under ``/_sim/``: ``GET /_sim/state`` (counters, faults, the last requests'
MaYeuCau and operation: never citizen data), ``POST /_sim/faults``, ``POST /_sim/reset``. Run it
with ``lienthong simulator population-db`` (``cli.py``).
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import time
import unicodedata
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from connectors.population_db import population
from connectors.population_db.interface import NAMESPACE, WSDL_PATH, Citizen, Operation
from connectors.population_db.settings import PopulationDbSettings
from connectors.population_db.wsse import (
    SIM_IDENTITY,
    SOAP_ENV,
    SignatureInvalid,
    dev_identity,
    sign_envelope,
    verify_envelope,
)
from connectors.sim_controls import add_controls

SERVICE_PATH = "/dancuquocgia"
XML = "text/xml; charset=utf-8"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)  # blanks kept: signatures cover them

#: MaLoi -> (SOAP faultcode, MoTa) of every refusal the simulator answers.
FAULTS = {
    "YEU_CAU_KHONG_HOP_LE": ("soap:Client", "Yêu cầu không phải là một thông điệp SOAP hợp lệ"),
    "THAO_TAC_KHONG_HO_TRO": ("soap:Client", "Thao tác không được hỗ trợ"),
    "CHU_KY_KHONG_HOP_LE": ("soap:Client", "Chữ ký số của yêu cầu không hợp lệ"),
    "MA_DVC_KHONG_HOP_LE": ("soap:Client", "MaDVC không hợp lệ hoặc không được cấp quyền"),
    "MA_TICH_HOP_KHONG_HOP_LE": ("soap:Client", "MaTichHop không hợp lệ hoặc không được cấp quyền"),
    "THIEU_THONG_TIN": ("soap:Client", "Thiếu thông tin bắt buộc"),
    "SO_DINH_DANH_KHONG_HOP_LE": ("soap:Client", "Số định danh cá nhân phải gồm 12 chữ số"),
    "LOI_HE_THONG": ("soap:Server", "Lỗi hệ thống, vui lòng thử lại sau"),
}
REQUIRED = ("MaYeuCau", "MaCanBo", "SoDinhDanh")
#: What each verification answers about a citizen (data minimisation); the look-up answers everything.
ANSWER_FIELDS: dict[Operation, tuple[str, ...] | None] = {
    Operation.LOOKUP: None,
    Operation.VERIFY: ("SoDinhDanh", "HoVaTen", "GioiTinh", "NgayThangNamSinh"),
    Operation.HOUSEHOLD_HEAD: ("SoDinhDanh", "HoVaTen", "ChuHo"),
    Operation.CURRENT_RESIDENCE: ("SoDinhDanh", "HoVaTen", "NoiOHienTai"),
}


def q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


class SoapFault(Exception):
    """A refusal, answered as a SOAP Fault with ``Loi{MaLoi, MoTa}``."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.faultcode, text = FAULTS[code]
        self.text = f"{text}: {detail}" if detail else text
        super().__init__(self.text)


# -- XML in and out ------------------------------------------------------------------------------


def envelope(body_child: etree._Element) -> etree._Element:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "dc": NAMESPACE})
    etree.SubElement(env, f"{{{SOAP_ENV}}}Body").append(body_child)
    return env


def fault_element(fault: SoapFault) -> etree._Element:
    element = etree.Element(f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(element, "faultcode").text = fault.faultcode
    etree.SubElement(element, "faultstring").text = fault.text
    loi = etree.SubElement(etree.SubElement(element, "detail"), q("Loi"))
    etree.SubElement(loi, q("MaLoi")).text = fault.code
    etree.SubElement(loi, q("MoTa")).text = fault.text
    return element


def append_model(parent: etree._Element, name: str, value: Any) -> None:
    """Write a pydantic answer model as elements in the WSDL's order (the models declare that order)."""
    if value is None:
        return
    if isinstance(value, BaseModel):
        child = etree.SubElement(parent, q(name))
        for field in type(value).model_fields:
            append_model(child, field, getattr(value, field))
    elif isinstance(value, list):
        for item in value:
            append_model(parent, name, item)
    else:
        etree.SubElement(parent, q(name)).text = str(value).lower() if isinstance(value, bool) else str(value)


def read_request(body: bytes) -> tuple[etree._Element, Operation, dict[str, str]]:
    """The envelope, the operation and its fields (by local name, namespace-tolerant); or a fault."""
    try:
        env = etree.fromstring(body, PARSER)
    except etree.XMLSyntaxError:
        raise SoapFault("YEU_CAU_KHONG_HOP_LE") from None
    soap_body = env.find(f"{{{SOAP_ENV}}}Body")
    if env.tag != f"{{{SOAP_ENV}}}Envelope" or soap_body is None or len(soap_body) == 0:
        raise SoapFault("YEU_CAU_KHONG_HOP_LE", "không có soap:Envelope/soap:Body")
    element = soap_body[0]
    name = etree.QName(element)
    try:
        operation = Operation(name.localname)
    except ValueError:
        raise SoapFault("THAO_TAC_KHONG_HO_TRO", name.localname[:80]) from None
    if name.namespace != NAMESPACE:
        raise SoapFault("YEU_CAU_KHONG_HOP_LE", f"không gian tên phải là {NAMESPACE}")
    fields = {etree.QName(child).localname: (child.text or "").strip() for child in element if isinstance(child.tag, str)}
    return env, operation, fields


# -- matching ------------------------------------------------------------------------------------


def same_name(given: str, citizen: Citizen) -> bool:
    """Names compare in NFC, case-insensitively, with runs of spaces as one."""
    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).casefold().split())

    return norm(given) == norm(population.full_name(citizen.HoVaTen))


def same_birth(given: str, citizen: Citizen) -> bool:
    """``yyyyMMdd``, ``dd/MM/yyyy`` or ``yyyy``; a citizen with only a registered year matches on the year."""
    born = citizen.NgayThangNamSinh
    if born is None:
        return False
    text = given.strip()
    if m := re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text):
        text = f"{m[3]}{m[2]}{m[1]}"
    if re.fullmatch(r"\d{4}", text) or (re.fullmatch(r"\d{8}", text) and not born.NgayThangNam):
        return text[:4] == born.Nam
    return re.fullmatch(r"\d{8}", text) is not None and text == born.NgayThangNam


def project(citizen: Citizen, fields: tuple[str, ...] | None) -> Citizen:
    return citizen if fields is None else Citizen(**{f: getattr(citizen, f) for f in fields})


# -- the simulated database ------------------------------------------------------------------------


@dataclass
class Faults:
    """Injected misbehaviour; see ``POST /_sim/faults``."""

    latency_ms: float = 0.0
    fault_next: int = 0  # SOAP Fault LOI_HE_THONG
    fail_next: int = 0  # HTTP 500, not SOAP
    hang_next: int = 0  # no answer for hang_seconds
    hang_seconds: float = 30.0
    tamper_next: int = 0  # change the answer after signing it
    token_down: bool = False  # the token endpoint answers 503


class FaultsPatch(BaseModel):
    """Body of ``POST /_sim/faults``: only the fields given change; ``expire_tokens`` forgets every token."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: float | None = Field(None, ge=0)
    fault_next: int | None = Field(None, ge=0)
    fail_next: int | None = Field(None, ge=0)
    hang_next: int | None = Field(None, ge=0)
    hang_seconds: float | None = Field(None, ge=0)
    tamper_next: int | None = Field(None, ge=0)
    token_down: bool | None = None
    expire_tokens: bool = False


@dataclass(frozen=True)
class Account:
    """What the database expects of the hub: the OAuth client and the integration codes."""

    client_id: str
    client_secret: str
    ma_dvc: str
    ma_tich_hop: str


class Database:
    """The simulated database: tokens, citizens, faults and counters. Run on one event loop."""

    def __init__(self, citizens: Iterable[Citizen], account: Account, token_ttl: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.citizens = {c.SoDinhDanh: c for c in citizens}
        self.account, self.token_ttl, self.clock = account, token_ttl, clock
        self.reset()

    def reset(self) -> None:
        self.tokens: dict[str, float] = {}
        self.faults = Faults()
        self.recent: deque[dict[str, Any]] = deque(maxlen=50)
        self.counters: dict[str, Any] = {
            "calls": {op.value: 0 for op in Operation},
            "tokens_issued": 0, "unauthorized": 0, "faults": 0, "injected": 0, "answers": 0,
            "signatures_verified": 0, "signatures_refused": 0, "answers_signed": 0,
        }

    # -- OAuth -------------------------------------------------------------------------------

    def issue_token(self, authorization: str, grant_type: str) -> tuple[int, dict[str, Any]]:
        scheme, _, encoded = authorization.partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            client_id, secret = "", ""
        if scheme.lower() != "basic" or not (secrets.compare_digest(client_id, self.account.client_id)
                                            and secrets.compare_digest(secret, self.account.client_secret)):
            return 401, {"error": "invalid_client"}
        if grant_type != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        token = secrets.token_urlsafe(32)
        self.tokens[token] = self.clock() + self.token_ttl
        self.counters["tokens_issued"] += 1
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": int(self.token_ttl)}

    def token_valid(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        expires = self.tokens.get(token) if scheme.lower() == "bearer" else None
        return expires is not None and expires > self.clock()

    # -- SOAP ----------------------------------------------------------------------------------

    def check(self, operation: Operation, fields: dict[str, str]) -> None:
        """Integration codes first (they are the authorisation), then the request's own fields."""
        if not secrets.compare_digest(fields.get("MaDVC", ""), self.account.ma_dvc):
            raise SoapFault("MA_DVC_KHONG_HOP_LE")
        if not secrets.compare_digest(fields.get("MaTichHop", ""), self.account.ma_tich_hop):
            raise SoapFault("MA_TICH_HOP_KHONG_HOP_LE")
        needed = REQUIRED + (("HoVaTen", "NgayThangNamSinh") if operation is Operation.VERIFY else ())
        missing = [name for name in needed if not fields.get(name)]
        if missing:
            raise SoapFault("THIEU_THONG_TIN", ", ".join(missing))
        if not re.fullmatch(r"\d{12}", fields["SoDinhDanh"]):
            raise SoapFault("SO_DINH_DANH_KHONG_HOP_LE")

    def answer(self, operation: Operation, fields: dict[str, str]) -> etree._Element:
        """The ``<Operation>Response`` element for a checked request."""
        citizen = self.citizens.get(fields["SoDinhDanh"])
        name, born = fields.get("HoVaTen"), fields.get("NgayThangNamSinh")
        matches = citizen is not None and (not name or same_name(name, citizen)) and (not born or same_birth(born, citizen))
        response = etree.Element(q(f"{operation.value}Response"))
        if operation is Operation.VERIFY:
            append_model(response, "KetQuaXacThuc", matches)
        collection = etree.SubElement(response, q("CongdanCollection"))
        if matches and citizen is not None:
            append_model(collection, "CongDan", project(citizen, ANSWER_FIELDS[operation]))
        return response

    def expire_tokens(self) -> None:
        """Forget every token (``POST /_sim/faults {"expire_tokens": true}``)."""
        self.tokens.clear()

    def state(self) -> dict[str, Any]:
        now = self.clock()
        return {"counters": self.counters, "faults": asdict(self.faults), "citizens": len(self.citizens),
                "tokens": sum(1 for expiry in self.tokens.values() if expiry > now), "recent": list(self.recent)}


def sandbox_account(settings: PopulationDbSettings | None = None) -> Account:
    """The account the sandbox hub uses: its settings' fallbacks of the vault credentials."""
    s = settings or PopulationDbSettings()
    return Account(s.client_id, s.client_secret, s.ma_dvc, s.ma_tich_hop)


def create_app(
    account: Account | None = None,
    *,
    seed: int = population.DEFAULT_SEED,
    size: int = population.DEFAULT_SIZE,
    token_ttl: float = 3600.0,
    keys_dir: Path | None = None,
    sign_answers: bool = False,
    client_cert: Path | None = None,
) -> FastAPI:
    """The simulator as an ASGI app; state in ``app.state.db``.

    ``client_cert``: when given, every request must carry a valid WS-Security signature by that
    certificate's key. ``sign_answers``: sign every answer (faults too) with the simulator's identity
    under ``keys_dir/wsse/`` (created on first use)."""
    db = Database(population.shared(size, seed), account or sandbox_account(), token_ttl)
    trusted = client_cert.read_bytes() if client_cert else None
    if sign_answers and keys_dir is None:
        raise ValueError("sign_answers needs keys_dir (where the simulator's wsse/ identity lives)")
    identity = dev_identity(keys_dir / "wsse", SIM_IDENTITY) if sign_answers and keys_dir else None
    wsdl = WSDL_PATH.read_text(encoding="utf-8")
    app = FastAPI(title="Population database simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.db = db

    def soap(element: etree._Element, status: int = 200) -> Response:
        env = envelope(element)
        if identity is not None:
            sign_envelope(env, *identity)
            db.counters["answers_signed"] += 1
            if db.faults.tamper_next > 0:
                db.faults.tamper_next -= 1
                for text in env.iter(q("ChiTiet"), q("Ten"), "faultstring"):
                    text.text = f"{text.text or ''} (đã sửa)"
        return Response(etree.tostring(env, xml_declaration=True, encoding="utf-8"), status, media_type=XML)

    def fault(refusal: SoapFault) -> Response:
        db.counters["faults"] += 1
        return soap(fault_element(refusal), 500)

    @app.post("/oauth/token")
    async def token(request: Request) -> Response:
        if db.faults.token_down:
            return JSONResponse({"error": "temporarily_unavailable"}, 503)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        status, body = db.issue_token(request.headers.get("authorization", ""), (form.get("grant_type") or [""])[0])
        headers = {"WWW-Authenticate": 'Basic realm="dancuquocgia"'} if status == 401 else None
        return JSONResponse(body, status, headers=headers)

    @app.get(SERVICE_PATH)
    async def service_wsdl(request: Request) -> Response:
        if "wsdl" not in {k.lower() for k in request.query_params}:
            return Response("Dùng ?wsdl để lấy mô tả dịch vụ", 404, media_type="text/plain; charset=utf-8")
        here = str(request.url.replace(query="")).rstrip("/")
        text = re.sub(r'(<soap:address location=")[^"]*(")', rf"\g<1>{here}\g<2>", wsdl)
        return Response(text, media_type=XML)

    @app.post(SERVICE_PATH)
    async def service(request: Request) -> Response:
        faults = db.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.hang_next > 0:
            faults.hang_next -= 1
            db.counters["injected"] += 1
            await asyncio.sleep(faults.hang_seconds)
            return Response("Gateway Timeout (simulated hang)", 504, media_type="text/plain")
        if faults.fail_next > 0:
            faults.fail_next -= 1
            db.counters["injected"] += 1
            return Response("Internal Server Error (simulated)", 500, media_type="text/plain")
        if not db.token_valid(request.headers.get("authorization", "")):
            db.counters["unauthorized"] += 1
            return JSONResponse({"error": "invalid_token"}, 401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        try:
            env, operation, fields = read_request(await request.body())
            db.counters["calls"][operation.value] += 1
            db.recent.append({"MaYeuCau": fields.get("MaYeuCau", "")[:64], "operation": operation.value,
                              "signed": env.find(f"{{{SOAP_ENV}}}Header") is not None})
            if trusted is not None:
                try:
                    verify_envelope(env, trusted)
                except SignatureInvalid as refused:
                    db.counters["signatures_refused"] += 1
                    raise SoapFault("CHU_KY_KHONG_HOP_LE", refused.reason) from None
                db.counters["signatures_verified"] += 1
            db.check(operation, fields)
            if faults.fault_next > 0:
                faults.fault_next -= 1
                db.counters["injected"] += 1
                raise SoapFault("LOI_HE_THONG")
            answer = db.answer(operation, fields)
        except SoapFault as refusal:
            return fault(refusal)
        db.counters["answers"] += 1
        return soap(answer)

    @app.get("/_sim/state")
    async def state() -> Response:
        return JSONResponse(db.state())

    add_controls(app, db, FaultsPatch)
    return app


