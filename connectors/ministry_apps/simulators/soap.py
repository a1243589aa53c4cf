"""A SOAP test ministry (HoSoService), as a real HTTP server; mounted at ``/soap``.

* ``GET /hoso?wsdl``: ``wire/hoso.wsdl``, its soap:address set to this server (``{base}/soap/hoso``).
* ``POST /hoso``: SOAP 1.1 document/literal, namespace ``urn:lienthong:test:hoso``. ``NhanHoSo`` ->
  ``NhanHoSoResponse{ketQua: OK|DA_TON_TAI, maBienNhan}``; ``LayTrangThai{maHoSo}`` ->
  ``LayTrangThaiResponse{maHoSo, trangThai, moTa, thoiGian}`` (1 at once, then 2 and 9 on the pace).

Every request needs a WS-Security 1.0 UsernameToken (PasswordText, or PasswordDigest =
base64(sha1(nonce + created + password))); missing, wrong, Created more than 5 minutes away, or a
nonce seen before: Fault ``wsse:FailedAuthentication``. Refusals: Fault ``soap:Client`` with a
Vietnamese faultstring (a non-XML body too); ``busy_next``: Fault ``soap:Server``; all HTTP 500. The
shared faults answer 503 in plain text. Controls under ``/_sim/``: ``state`` (counters and the
received maHoSo), ``pace``, ``faults``, ``reset``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import time
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from connectors.ministry_apps.simulators.civil_status import VN, WIRE, nfc
from connectors.sim_controls import add_controls, add_pace, json_response, outage

NS = "urn:lienthong:test:hoso"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
XML = "text/xml; charset=utf-8"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
WSDL_TEXT = (WIRE / "hoso.wsdl").read_text(encoding="utf-8")
XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
FRESHNESS = 300.0  # seconds a UsernameToken's Created may be away from now
STATES = {1: "Đã tiếp nhận hồ sơ", 2: "Đang xử lý", 9: "Đã hoàn thành"}
REQUIRED = {"maHoSo": "Thiếu mã hồ sơ", "maThuTuc": "Thiếu mã thủ tục", "tenThuTuc": "Thiếu tên thủ tục",
            "hoTenNguoiNop": "Thiếu họ tên người nộp", "ngayNhan": "Thiếu ngày nhận hồ sơ"}


def wsdl_schema() -> etree.XMLSchema:
    """The schema of the request and answer elements: the one inside the WSDL."""
    schema = etree.fromstring(WSDL_TEXT.encode(), PARSER).find(f"{{{WSDL}}}types/{{{XS}}}schema")
    if schema is None:
        raise RuntimeError("hoso.wsdl has no wsdl:types/xs:schema")
    return etree.XMLSchema(deepcopy(schema))


SCHEMA = wsdl_schema()
COUNTED = {"wsse:FailedAuthentication": "auth_failed", "soap:Client": "refused"}  # soap:Server: counted as busy


class SoapFault(Exception):
    """A refusal, answered as a SOAP 1.1 Fault (HTTP 500)."""

    def __init__(self, faultcode: str, text: str) -> None:
        self.faultcode, self.text = faultcode, text
        super().__init__(text)


def client_fault(text: str) -> SoapFault:
    return SoapFault("soap:Client", text)


def auth_fault(text: str) -> SoapFault:
    return SoapFault("wsse:FailedAuthentication", f"Xác thực thất bại: {text}")


@dataclass
class Faults:
    """Injected misbehaviour (``POST /_sim/faults``)."""

    latency_ms: int = 0
    down: bool = False
    fail_next: int = 0  # HTTP 503, plain text
    busy_next: int = 0  # Fault soap:Server


class FaultsPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latency_ms: int | None = Field(None, ge=0)
    down: bool | None = None
    fail_next: int | None = Field(None, ge=0)
    busy_next: int | None = Field(None, ge=0)



@dataclass
class Dossier:
    receipt: str
    state: int
    changed_at: float
    script: list[int] = field(default_factory=lambda: [2, 9])


def q(name: str) -> str:
    return f"{{{NS}}}{name}"


def text_of(element: etree._Element, name: str, ns: str = NS) -> str:
    """The stripped NFC text of ``element``'s first child ``{ns}name`` (``""`` when absent)."""
    child = element.find(f"{{{ns}}}{name}")
    return str(nfc((child.text or "").strip())) if child is not None else ""


def envelope(child: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "tns": NS, "wsse": WSSE})
    etree.SubElement(env, f"{{{SOAP_ENV}}}Body").append(child)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def fault_response(fault: SoapFault) -> Response:
    element = etree.Element(f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(element, "faultcode").text = fault.faultcode
    etree.SubElement(element, "faultstring").text = fault.text
    return Response(envelope(element), 500, media_type=XML)


def parse_instant(text: str) -> datetime | None:
    """An xs:dateTime (a missing offset: Vietnam time), or None."""
    if not re.fullmatch(r"-?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?", text):
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=VN)


class SoapMinistry:
    """The simulated ministry: its WS-Security account, the nonces seen, dossiers, faults and counters."""

    def __init__(self, user: str, password: str, pace: float, clock: Callable[[], float] = time.time) -> None:
        self.user, self.password, self.initial_pace, self.clock = user, password, pace, clock
        self.reset()

    def reset(self) -> None:
        self.faults = Faults()
        self.pace = self.initial_pace
        self.nonces: dict[str, float] = {}
        self.dossiers: dict[str, Dossier] = {}
        self.counters: dict[str, Any] = {"received": 0, "duplicates": 0, "refused": 0, "auth_failed": 0, "replays": 0,
                                         "busy": 0, "faults": 0, "status_calls": 0}

    def authenticate(self, env: etree._Element) -> None:
        """Check the UsernameToken of the envelope's header; raise ``wsse:FailedAuthentication`` if wrong."""
        token = env.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
        if token is None:
            raise auth_fault("thiếu wsse:Security/wsse:UsernameToken")
        password_element = token.find(f"{{{WSSE}}}Password")
        given = (password_element.text or "").strip() if password_element is not None else ""
        kind = password_element.get("Type", "#PasswordText") if password_element is not None else ""
        nonce, created = text_of(token, "Nonce", WSSE), text_of(token, "Created", WSU)
        if created:
            instant = parse_instant(created)
            if instant is None or abs(self.clock() - instant.timestamp()) > FRESHNESS:
                raise auth_fault("thời điểm tạo (Created) không hợp lệ hoặc lệch quá 5 phút")
        if kind.endswith("#PasswordDigest"):
            if not nonce or not created:
                raise auth_fault("PasswordDigest cần Nonce và Created")
            try:
                raw = base64.b64decode(nonce, validate=True)
            except (binascii.Error, ValueError):
                raise auth_fault("Nonce không phải base64") from None
            expected = base64.b64encode(hashlib.sha1(raw + created.encode() + self.password.encode()).digest()).decode()
        elif kind.endswith("#PasswordText"):
            expected = self.password
        else:
            raise auth_fault("kiểu mật khẩu không được hỗ trợ")
        if not (secrets.compare_digest(text_of(token, "Username", WSSE).encode(), self.user.encode())
                and secrets.compare_digest(given.encode(), expected.encode())):
            raise auth_fault("sai tên đăng nhập hoặc mật khẩu")
        if nonce:
            now = self.clock()
            self.nonces = {n: at for n, at in self.nonces.items() if now - at < 2 * FRESHNESS}
            if nonce in self.nonces:
                self.counters["replays"] += 1
                raise auth_fault("Nonce đã được dùng (yêu cầu bị phát lại)")
            self.nonces[nonce] = now

    def catch_up(self, dossier: Dossier) -> None:
        while dossier.script and self.pace > 0 and self.clock() >= dossier.changed_at + self.pace:
            dossier.state, dossier.changed_at = dossier.script.pop(0), dossier.changed_at + self.pace

    def nhan_ho_so(self, element: etree._Element) -> etree._Element:
        for name, missing in REQUIRED.items():
            if not text_of(element, name):
                raise client_fault(missing)
        if parse_instant(text_of(element, "ngayNhan")) is None:
            raise client_fault("Ngày nhận hồ sơ không đúng định dạng xs:dateTime")
        for i, attachment in enumerate(element.iterfind(q("tepDinhKem")), 1):
            if not text_of(attachment, "tenTep"):
                raise client_fault(f"Thiếu tên tệp đính kèm thứ {i}")
            try:
                base64.b64decode("".join(text_of(attachment, "noiDung").split()), validate=True)
            except (binascii.Error, ValueError):
                raise client_fault(f"Nội dung tệp đính kèm thứ {i} không phải base64 hợp lệ") from None
        if not SCHEMA.validate(etree.ElementTree(deepcopy(element))):
            error = SCHEMA.error_log.last_error
            raise client_fault(f"Yêu cầu không đúng lược đồ dịch vụ: {error.message if error else ''}")
        code = text_of(element, "maHoSo")
        known = self.dossiers.get(code)
        if known is None:
            known = self.dossiers[code] = Dossier(f"BN-{len(self.dossiers) + 1:06d}", 1, self.clock())
            self.counters["received"] += 1
            result = "OK"
        else:
            self.counters["duplicates"] += 1
            result = "DA_TON_TAI"
        answer = etree.Element(q("NhanHoSoResponse"))
        etree.SubElement(answer, q("ketQua")).text = result
        etree.SubElement(answer, q("maBienNhan")).text = known.receipt
        return answer

    def lay_trang_thai(self, element: etree._Element) -> etree._Element:
        self.counters["status_calls"] += 1
        code = text_of(element, "maHoSo")
        if not code:
            raise client_fault("Thiếu mã hồ sơ")
        dossier = self.dossiers.get(code)
        if dossier is None:
            raise client_fault(f"Không tìm thấy hồ sơ {code[:100]}")
        self.catch_up(dossier)
        answer = etree.Element(q("LayTrangThaiResponse"))
        for name, value in (("maHoSo", code), ("trangThai", str(dossier.state)), ("moTa", STATES[dossier.state]),
                            ("thoiGian", datetime.fromtimestamp(dossier.changed_at, timezone.utc).astimezone(VN)
                             .isoformat(timespec="seconds"))):
            etree.SubElement(answer, q(name)).text = value
        return answer

    def handle(self, body: bytes) -> etree._Element:
        """The answer element of one SOAP request, or a raised :class:`SoapFault`."""
        try:
            env = etree.fromstring(body, PARSER)
        except etree.XMLSyntaxError:
            raise client_fault("Yêu cầu không phải là XML hợp lệ") from None
        soap_body = env.find(f"{{{SOAP_ENV}}}Body")
        if env.tag != f"{{{SOAP_ENV}}}Envelope" or soap_body is None or len(soap_body) == 0:
            raise client_fault("Yêu cầu không phải là thông điệp SOAP 1.1 (soap:Envelope/soap:Body)")
        self.authenticate(env)
        if self.faults.busy_next > 0:
            self.faults.busy_next -= 1
            self.counters["busy"] += 1
            raise SoapFault("soap:Server", "Hệ thống tạm thời không phục vụ")
        element = soap_body[0]
        name = etree.QName(element)
        if name.namespace != NS:
            raise client_fault(f"Không gian tên phải là {NS}")
        if name.localname == "NhanHoSo":
            return self.nhan_ho_so(element)
        if name.localname == "LayTrangThai":
            return self.lay_trang_thai(element)
        raise client_fault(f"Thao tác không được hỗ trợ: {name.localname[:80]}")

    def state(self) -> dict[str, Any]:
        for dossier in self.dossiers.values():
            self.catch_up(dossier)
        return {"counters": self.counters, "pace": self.pace, "received": list(self.dossiers),
                "dossiers": {code: {"trangThai": d.state} for code, d in self.dossiers.items()}}


def create_app(user: str = "lienthong", password: str = "sandbox-soap-password", pace: float = 2.0) -> FastAPI:
    """The SOAP ministry as an ASGI app (its :class:`SoapMinistry` is ``app.state.sim``)."""
    ministry = SoapMinistry(user, password, pace)
    app = FastAPI(title="SOAP test ministry simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sim = ministry

    @app.get("/hoso")
    async def wsdl(request: Request) -> Response:
        if "wsdl" not in {key.lower() for key in request.query_params}:
            return Response("Dùng ?wsdl để lấy mô tả dịch vụ", 404, media_type="text/plain; charset=utf-8")
        here = str(request.url.replace(query="")).rstrip("/")
        return Response(re.sub(r'(<soap:address location=")[^"]*(")', rf"\g<1>{here}\g<2>", WSDL_TEXT), media_type=XML)

    @app.post("/hoso")
    async def service(request: Request) -> Response:
        if await outage(ministry.faults, ministry.counters, {}) is not None:
            return Response("Service Unavailable (simulated)", 503, media_type="text/plain; charset=utf-8")
        try:
            answer = ministry.handle(await request.body())
        except SoapFault as fault:
            if fault.faultcode in COUNTED:
                ministry.counters[COUNTED[fault.faultcode]] += 1
            return fault_response(fault)
        return Response(envelope(answer), media_type=XML)

    @app.get("/_sim/state")
    async def state() -> Response:
        return json_response(ministry.state())

    add_pace(app, ministry)
    add_controls(app, ministry, FaultsPatch)
    return app
