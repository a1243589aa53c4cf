"""SOAP client of the population database: zeep over ``requests``, an OAuth token, typed errors.

* The WSDL is read from ``schemas/population_db/`` once per process (:func:`wsdl_document`; zeep's
  parsing takes a good part of a second) and the service address is the configured URL, whatever
  the WSDL says.
* Every call carries ``Authorization: Bearer <token>``. The token comes from the token URL
  (``client_credentials``, HTTP Basic auth), is cached until shortly before it expires, and is
  fetched again once when the database answers 401.
* ``MaDVC``, ``MaTichHop`` and the OAuth account come from the credential vault (names
  ``population_db.*``; fallback: the sandbox values of its settings), never from the caller.
* WS-Security (``LIENTHONG_POPULATION_DB_WSSE``): ``sign`` signs each request with the hub's key;
  ``sign_and_verify`` also refuses an answer without the database's valid signature.
* Errors (:mod:`.errors`): SOAP Fault -> :class:`PopulationFault`; no answer in time ->
  :class:`PopulationTimeout`; refused connection, HTTP 5xx, token refused, unreadable or badly
  signed answer -> :class:`PopulationUnavailable`.

Logs name the operation, ``MaYeuCau`` and the outcome only; never an ID number, a name or an answer.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urljoin

import requests
import zeep
import zeep.exceptions
from lxml.etree import XMLSyntaxError
from zeep.helpers import serialize_object
from zeep.transports import Transport
from zeep.wsdl import Document

from connectors.population_db.errors import (
    PopulationFault,
    PopulationSignatureInvalid,
    PopulationTimeout,
    PopulationUnavailable,
)
from connectors.population_db.interface import (
    NAMESPACE,
    WSDL_PATH,
    CitizenQuery,
    CitizenRequest,
    CongdanCollection,
    Operation,
    VerifyResult,
)
from connectors.population_db.wsse import (
    HUB_IDENTITY,
    SIM_IDENTITY,
    SignatureInvalid,
    WsseSigner,
    dev_identity,
    identity_paths,
)
from hub.seam import Context, MissingKey

log = logging.getLogger(__name__)
# zeep's transport logs whole envelopes (citizen data) at DEBUG: keep that logger above DEBUG.
logging.getLogger("zeep.transports").setLevel(logging.INFO)

BINDING = f"{{{NAMESPACE}}}DanCuQuocGiaBinding"
ZEEP_SETTINGS = zeep.Settings(strict=True, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)

#: MaLoi -> what the hub says about it (safe to show; the partner's own text is not passed on).
FAULT_MESSAGES = {
    "MA_DVC_KHONG_HOP_LE": "Cơ sở dữ liệu dân cư không chấp nhận mã dịch vụ (MaDVC) của cổng liên thông",
    "MA_TICH_HOP_KHONG_HOP_LE": "Cơ sở dữ liệu dân cư không chấp nhận mã tích hợp (MaTichHop) của cổng liên thông",
    "CHU_KY_KHONG_HOP_LE": "Cơ sở dữ liệu dân cư không chấp nhận chữ ký số của yêu cầu",
    "THIEU_THONG_TIN": "Yêu cầu tra cứu thiếu thông tin bắt buộc",
    "SO_DINH_DANH_KHONG_HOP_LE": "Số định danh cá nhân không hợp lệ",
    "LOI_HE_THONG": "Cơ sở dữ liệu dân cư đang gặp lỗi, vui lòng thử lại sau",
}


@lru_cache(maxsize=4)
def wsdl_document(path: str = str(WSDL_PATH)) -> Document:
    """The parsed WSDL, once per process and path (clients share it; it is read-only after parsing)."""
    # zeep annotates ``transport`` as ``Type[Transport]`` but uses (and its own Client passes) an instance.
    return Document(path, Transport(), settings=ZEEP_SETTINGS)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Credentials:
    """The hub's account at the database and its integration codes (never printed)."""

    client_id: str
    client_secret: str = field(repr=False)
    ma_dvc: str = field(repr=False)
    ma_tich_hop: str = field(repr=False)


def vault_credentials(ctx: Context) -> Credentials:
    """The four ``population_db.*`` credentials from the vault; the settings' sandbox values where unset."""
    s = ctx.settings

    def get(name: str) -> str:
        fallback = getattr(s, name)
        return ctx.credential(name, fallback) or fallback

    return Credentials(get("client_id"), get("client_secret"), get("ma_dvc"), get("ma_tich_hop"))


def signer_from_settings(ctx: Context) -> WsseSigner | None:
    """The WS-Security plugin ``LIENTHONG_POPULATION_DB_WSSE`` asks for, or None when off."""
    s = ctx.settings
    if s.wsse == "off":
        return None
    directory = ctx.hub.keys_dir / "wsse"
    if s.wsse_key_file and s.wsse_cert_file:
        key_pem = Path(s.wsse_key_file).read_bytes()
        cert_pem = Path(s.wsse_cert_file).read_bytes()
    elif ctx.hub.profile == "production":  # the self-signed development identity is never made in production
        raise MissingKey("LIENTHONG_POPULATION_DB_WSSE_KEY_FILE and LIENTHONG_POPULATION_DB_WSSE_CERT_FILE must name "
                         "the province's WS-Security key and certificate in production")
    else:
        key_pem, cert_pem = dev_identity(directory, HUB_IDENTITY)
    partner: Path | None = None
    if s.wsse == "sign_and_verify":
        partner = Path(s.wsse_partner_cert or identity_paths(directory, SIM_IDENTITY)[1])
    return WsseSigner(key_pem, cert_pem, partner)


class TokenSource:
    """An OAuth ``client_credentials`` token, cached until ``margin`` before it expires. Thread-safe."""

    def __init__(self, session: requests.Session, token_url: str, client_id: str, client_secret: str,
                 timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.session, self.token_url, self.timeout, self.clock = session, token_url, timeout, clock
        self._auth = (client_id, client_secret)
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._token is None or self.clock() >= self._expires:
                self._token, self._expires = self._fetch()
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (the database refused it); the next :meth:`get` fetches a new one."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> tuple[str, float]:
        started = self.clock()
        try:
            response = self.session.post(self.token_url, data={"grant_type": "client_credentials"}, auth=self._auth,
                                         headers={"Accept": "application/json"}, timeout=self.timeout)
        except requests.Timeout:
            raise PopulationTimeout("Không lấy được mã truy cập (token) kịp thời") from None
        except requests.RequestException as exc:
            raise PopulationUnavailable(f"Không kết nối được máy chủ cấp token ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise PopulationUnavailable(f"Máy chủ cấp token từ chối (HTTP {response.status_code})")
        try:
            body = response.json()
            token, lifetime = str(body["access_token"]), float(body.get("expires_in", 300))
        except (ValueError, KeyError, TypeError):
            raise PopulationUnavailable("Máy chủ cấp token trả lời không đọc được") from None
        log.info("population_db: new access token, valid %.0f s", lifetime)
        margin = min(30.0, lifetime / 10)
        return token, started + lifetime - margin


class BearerTransport(Transport):
    """zeep's transport with the bearer token on every POST; a 401 gets a fresh token and one retry."""

    def __init__(self, tokens: TokenSource, timeout: float, session: requests.Session) -> None:
        super().__init__(timeout=timeout, operation_timeout=timeout, session=session)  # type: ignore[no-untyped-call]  # zeep: unannotated
        self.tokens = tokens

    def post(self, address: str, message: Any, headers: dict[str, str]) -> requests.Response:
        token = self.tokens.get()
        response: requests.Response = super().post(  # type: ignore[no-untyped-call]  # zeep: unannotated
            address, message, {**headers, "Authorization": f"Bearer {token}"})
        if response.status_code == 401:
            log.info("population_db: token refused; fetching a new one")
            self.tokens.invalidate(token)
            response = super().post(  # type: ignore[no-untyped-call]  # zeep: unannotated
                address, message, {**headers, "Authorization": f"Bearer {self.tokens.get()}"})
        return response


def fault_code(fault: zeep.exceptions.Fault) -> str:
    """``Loi/MaLoi`` of a fault's detail, else the SOAP faultcode's local part."""
    detail = fault.detail
    found = detail.findtext(f".//{{{NAMESPACE}}}MaLoi") if detail is not None else None
    code = (found or str(fault.code or "Fault").rpartition(":")[2]).strip()
    return "".join(ch for ch in code if ch.isalnum() or ch in "_-.")[:64] or "Fault"


class SoapPopulationClient:
    """The hub's client of the population database (implements ``PopulationDbClient``)."""

    def __init__(self, url: str, token_url: str, credentials: Credentials, timeout: float = 5.0, *,
                 signer: WsseSigner | None = None, wsdl: str = str(WSDL_PATH)) -> None:
        self.url, self.credentials = url, credentials
        session = requests.Session()
        self.tokens = TokenSource(session, token_url, credentials.client_id, credentials.client_secret, timeout)
        self.transport = BearerTransport(self.tokens, timeout, session)
        self.zeep = zeep.Client(wsdl_document(wsdl), transport=self.transport, wsse=signer, settings=ZEEP_SETTINGS)
        self.service = self.zeep.create_service(BINDING, url)

    @classmethod
    def from_context(cls, ctx: Context) -> "SoapPopulationClient":
        """A client for ``LIENTHONG_POPULATION_DB_*``, its account and codes from the vault."""
        s = ctx.settings
        token_url = s.token_url or urljoin(s.url, "/oauth/token")
        return cls(s.url, token_url, vault_credentials(ctx), s.timeout, signer=signer_from_settings(ctx))

    def __repr__(self) -> str:
        return f"SoapPopulationClient({self.url!r}, client_id={self.credentials.client_id!r})"

    # -- the four operations -------------------------------------------------------------------

    def lookup(self, query: CitizenQuery) -> CongdanCollection:
        """``TraCuuThongTinCongDan``."""
        return self.call(Operation.LOOKUP, query)

    def verify(self, query: CitizenQuery) -> VerifyResult:
        """``XacThucThongTinCongDan``; ``ValueError`` without ``full_name`` and ``birth_date``."""
        if not query.full_name or not query.birth_date:
            raise ValueError("verify needs full_name and birth_date")
        result = self.call(Operation.VERIFY, query)
        assert isinstance(result, VerifyResult)
        return result

    def household_head(self, query: CitizenQuery) -> CongdanCollection:
        """``XacMinhThongTinChuHo``."""
        return self.call(Operation.HOUSEHOLD_HEAD, query)

    def current_residence(self, query: CitizenQuery) -> CongdanCollection:
        """``XacMinhThongTinNoiOHienTai``."""
        return self.call(Operation.CURRENT_RESIDENCE, query)

    def close(self) -> None:
        self.transport.session.close()

    # -- one call ------------------------------------------------------------------------------

    def request(self, query: CitizenQuery) -> CitizenRequest:
        """The body of an operation: the caller's query plus the configured integration codes."""
        return CitizenRequest(MaYeuCau=query.request_id, MaDVC=self.credentials.ma_dvc,
                              MaTichHop=self.credentials.ma_tich_hop, MaCanBo=query.officer_id,
                              SoDinhDanh=query.id_number, HoVaTen=query.full_name, NgayThangNamSinh=query.birth_date)

    def call(self, operation: Operation, query: CitizenQuery) -> CongdanCollection:
        """Call ``operation`` for ``query``; the answer as a model, or one of the errors of :mod:`.errors`."""
        body = self.request(query).model_dump(exclude_none=True)
        started = time.perf_counter()
        try:
            result = self._send(operation, body)
        except Exception as exc:
            log.warning("population_db %s %s failed after %.0f ms: %s", operation.value, query.request_id,
                        (time.perf_counter() - started) * 1000, exc)
            raise
        log.info("population_db %s %s: %d citizen(s) in %.0f ms", operation.value, query.request_id,
                 len(result.CongDan), (time.perf_counter() - started) * 1000)
        return result

    def _send(self, operation: Operation, body: dict[str, Any]) -> CongdanCollection:
        try:
            answer = getattr(self.service, operation.value)(**body)
        except zeep.exceptions.Fault as fault:
            code = fault_code(fault)
            raise PopulationFault(code, FAULT_MESSAGES.get(code, f"Cơ sở dữ liệu dân cư từ chối yêu cầu (mã {code})")) from None
        except SignatureInvalid as refused:
            raise PopulationSignatureInvalid(f"Chữ ký số của câu trả lời không hợp lệ: {refused.reason}") from None
        except requests.Timeout:
            raise PopulationTimeout("Cơ sở dữ liệu dân cư không trả lời kịp thời") from None
        except requests.RequestException as exc:
            raise PopulationUnavailable(f"Không kết nối được cơ sở dữ liệu dân cư ({type(exc).__name__})") from None
        except zeep.exceptions.TransportError as exc:
            raise PopulationUnavailable(f"Cơ sở dữ liệu dân cư trả lời HTTP {exc.status_code}") from None
        except (zeep.exceptions.Error, XMLSyntaxError, ValueError):
            raise PopulationUnavailable("Câu trả lời của cơ sở dữ liệu dân cư không đọc được") from None
        return self._model(operation, answer)

    @staticmethod
    def _model(operation: Operation, answer: Any) -> CongdanCollection:
        """zeep unwraps one-child elements: ``CongdanCollection`` arrives as its list of ``CongDan``."""
        data = serialize_object(answer, dict)

        def citizens(value: Any) -> list[Any]:
            if isinstance(value, dict):
                value = value.get("CongDan")
            return list(value or [])

        try:
            if operation is Operation.VERIFY:
                return VerifyResult(KetQuaXacThuc=bool(data["KetQuaXacThuc"]), CongDan=citizens(data["CongdanCollection"]))
            return CongdanCollection(CongDan=citizens(data))
        except (ValueError, KeyError, TypeError):
            raise PopulationUnavailable("Câu trả lời của cơ sở dữ liệu dân cư không đọc được") from None
