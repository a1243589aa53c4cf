"""HTTP client of the DVCQG adapter: login, session reuse, and typed errors.

Endpoints: ``POST {adapter_url}/login`` and ``POST {adapter_url}/{service}`` (e.g.
``/DongBoHoSoMC``), JSON in and out, over one keep-alive ``httpx.Client``.

Errors, each carrying the partner's reason (never the password or the session value):

* :class:`TransientError`: timeout, connection error, HTTP 5xx/408/429, ``error_code`` "99", an
  unreadable answer, a refused login, a session still invalid after a fresh login.
* :class:`PermanentError`: ``error_code`` "02" (validation), "04" (unknown dossier), any other
  unknown code, HTTP 4xx other than 408/429. :class:`AlreadyExistsError` ("03", "đã tồn tại") is
  a permanent error that :meth:`DvcClient.sync_dossiers` cures for a one-record add by re-sending
  it as an update.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from typing import TYPE_CHECKING, Any, Sequence

import httpx
from pydantic import BaseModel, ValidationError

from connectors.http import json_answer, post_json
from connectors.national_dvc.wire import LoginAnswer, LoginRequest, dump
from connectors.national_dvc.wire_types import OK, ServiceAnswer

if TYPE_CHECKING:
    from hub.seam import Context

log = logging.getLogger(__name__)

SESSION_INVALID = "01"
VALIDATION_FAILED = "02"
ALREADY_EXISTS = "03"
NOT_FOUND = "04"
INTERNAL_ERROR = "99"
ALREADY_EXISTS_TEXT = "đã tồn tại"


class DvcError(Exception):
    """A call the portal did not accept; ``reason`` is the partner's own explanation."""

    def __init__(self, reason: str, *, error_code: str | None = None, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error_code = error_code
        self.http_status = http_status


class TransientError(DvcError):
    """Worth retrying later: the portal or the path to it is unwell, not the content."""


class PermanentError(DvcError):
    """The portal refused the content; re-sending the same records cannot help."""


class AlreadyExistsError(PermanentError):
    """An add of a dossier the portal already has ("03" / "đã tồn tại")."""


def says_already_exists(answer: ServiceAnswer) -> bool:
    """True when an answer means "this dossier already exists"."""
    text = unicodedata.normalize("NFC", answer.message).casefold()
    return answer.error_code == ALREADY_EXISTS or ALREADY_EXISTS_TEXT in text


def classify(service: str, answer: ServiceAnswer) -> ServiceAnswer:
    """Return a successful answer; raise the typed error a failed one stands for."""
    if answer.ok:
        return answer
    reason = f"{service} error_code {answer.error_code}: {answer.message}"
    if says_already_exists(answer):
        raise AlreadyExistsError(reason, error_code=answer.error_code)
    if answer.error_code in (INTERNAL_ERROR, SESSION_INVALID):
        raise TransientError(reason, error_code=answer.error_code)
    raise PermanentError(reason, error_code=answer.error_code)


class DvcClient:
    """One adapter account: logs in lazily, caches the session, re-logs in once when it expires."""

    def __init__(
        self,
        adapter_url: str,
        username: str,
        password: str,
        madonvi: str,
        timeout: float = 5.0,
        *,
        transport: httpx.BaseTransport | None = None,
        auth: httpx.Auth | None = None,
    ) -> None:
        """``auth``: e.g. ``hub.signatures.signer.HubSigner`` to sign every call (``dvc_sign_requests``)."""
        self.madonvi = madonvi
        self._credentials = LoginRequest(username=username, password=password)
        self._http = httpx.Client(
            base_url=adapter_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            auth=auth,
            headers={"Accept": "application/json"},
        )
        self._session: str | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_context(cls, ctx: "Context") -> "DvcClient":
        """The hub's account at the adapter: ``LIENTHONG_NATIONAL_DVC_ADAPTER_URL``, ``_USERNAME``, the password
        from the vault (``national_dvc.password``), else ``LIENTHONG_NATIONAL_DVC_PASSWORD`` (the sandbox's),
        ``_MADONVI``, ``_TIMEOUT``; signed with the hub's key when ``_SIGN_REQUESTS``."""
        s = ctx.settings
        return cls(s.adapter_url, s.username, ctx.credential("password", s.password) or "", s.madonvi, s.timeout,
                   auth=ctx.signer() if s.sign_requests else None)

    def __repr__(self) -> str:
        return f"DvcClient({str(self._http.base_url)!r}, user={self._credentials.username!r})"

    # -- public calls --------------------------------------------------------------------------

    def sync_dossiers(self, records: Sequence[BaseModel], *, updating: bool) -> ServiceAnswer:
        """``DongBoHoSoMC``. A one-record add answered "đã tồn tại" is re-sent as an update."""
        body = {"isUpdating": "True" if updating else "False", "data": [dump(r) for r in records]}
        try:
            return self.call("DongBoHoSoMC", body)
        except AlreadyExistsError as exists:
            if updating or len(records) != 1:
                raise
            log.info("dvc: add answered 'đã tồn tại'; re-sending as an update")
            answer = self.sync_dossiers(records, updating=True)
            return ServiceAnswer(error_code=OK, message=f"{exists.reason}; re-sent as update: {answer.message}")

    def update_progress(self, items: Sequence[BaseModel]) -> ServiceAnswer:
        """``CapNhatTienDoHoSoMC``: progress steps, at most 10 per call by the portal's habit."""
        return self.call("CapNhatTienDoHoSoMC", {"data": [dump(i) for i in items]})

    def call(self, service: str, fields: dict[str, Any]) -> ServiceAnswer:
        """Post ``{session, madonvi, service, **fields}`` to ``/{service}``; return the "00" answer or raise."""
        return self.read(service, fields)[0]

    def read(self, service: str, fields: dict[str, Any]) -> tuple[ServiceAnswer, dict[str, Any]]:
        """:meth:`call` for a service that answers data too (``LayThuTuc``, ``LayDanhSachHoiDap...``):
        the "00" answer and the whole decoded answer object; raises as :meth:`call` does."""
        session = self._current_session()
        answer, data = self._post_service(service, session, fields)
        if answer.error_code == SESSION_INVALID:
            log.info("dvc: session refused by %s; logging in again", service)
            self._forget(session)
            answer, data = self._post_service(service, self._current_session(), fields)
            if answer.error_code == SESSION_INVALID:
                raise TransientError(
                    f"{service}: session still invalid after a fresh login: {answer.message}", error_code=SESSION_INVALID
                )
        return classify(service, answer), data

    def login(self) -> None:
        """Log in now, replacing any cached session."""
        with self._lock:
            self._session = self._login()

    def close(self) -> None:
        self._http.close()

    # -- internals -----------------------------------------------------------------------------

    def _current_session(self) -> str:
        with self._lock:
            if self._session is None:
                self._session = self._login()
            return self._session

    def _forget(self, session: str) -> None:
        with self._lock:
            if self._session == session:
                self._session = None

    def _login(self) -> str:
        data = self._post("login", dump(self._credentials))
        try:
            answer = LoginAnswer.model_validate(data)
        except ValidationError:
            raise TransientError("login: unreadable answer") from None
        if answer.error_code != OK or not answer.session:
            raise TransientError(f"login refused: error_code {answer.error_code}: {answer.message or ''}".rstrip(": "))
        log.info("dvc: logged in")
        return answer.session

    def _post_service(self, service: str, session: str, fields: dict[str, Any]) -> tuple[ServiceAnswer, dict[str, Any]]:
        body = {"session": session, "madonvi": self.madonvi, "service": service, **fields}
        data = self._post(service, body)
        try:
            return ServiceAnswer.model_validate(data), data
        except ValidationError:
            raise TransientError(f"{service}: unreadable answer") from None

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        """POST JSON; map transport failures and HTTP errors to typed errors; return decoded JSON."""
        response = post_json(self._http, f"/{path}", body, transient=TransientError, permanent=PermanentError)
        return json_answer(response, path, TransientError)
