"""HTTP client of VNPost: an OAuth ``client_credentials`` token, orders, cancellation, the tracking feed, prices.

One keep-alive ``httpx.Client``. The token comes from ``POST <token_url>`` (form
``grant_type=client_credentials``, ``Authorization: Basic base64(client_id:client_secret)``), is
cached and renewed ``margin`` seconds before it expires; a call answered HTTP 401 gets a fresh token
and is sent once more.

Errors, each carrying a reason that names no secret and no personal data:

* :class:`TransientError`: timeout, connection error, HTTP 5xx/408/429, an unreadable answer, a
  refused token request, a 401 that a fresh token did not cure;
* :class:`PermanentError`: an order or cancellation answered with a ``Status`` other than ``100``
  (``101``, "already exists", counts as success for an order), with VNPost's ``Message`` as the
  reason; any other HTTP 4xx.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from connectors.postal_vnpost.interface import (
    EXISTS_STATUS,
    FIRST_LAST_ID,
    SUCCESS_STATUS,
    Order,
    OrderAnswer,
    PriceAnswer,
    PriceQuery,
    TokenAnswer,
    TrackingPage,
)
from hub.seam import Context

log = logging.getLogger(__name__)

TRANSIENT_HTTP = frozenset({408, 429})
MAX_PAGE_SIZE = 1000
_M = TypeVar("_M", bound=BaseModel)


class VnpostError(Exception):
    """A call VNPost did not carry out; ``reason`` says why (VNPost's ``Message`` when it gave one)."""

    def __init__(self, reason: str, *, status: str | None = None, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.status, self.http_status = reason, status, http_status


class TransientError(VnpostError):
    """Worth trying later: VNPost or the path to it is unwell, not the content."""


class PermanentError(VnpostError):
    """VNPost refused the content; sending the same again cannot help."""


class VnpostClient:
    """The hub's VNPost account over HTTP: the Protocol ``interface.VnpostClient``, implemented. Thread-safe."""

    def __init__(self, *, token_url: str, order_url: str, cancel_url: str, tracking_url: str, price_url: str,
                 customer_code: str, client_id: str, client_secret: str, timeout: float = 5.0,
                 feed_page_size: int = 200, margin: float = 30.0, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.token_url, self.order_url, self.cancel_url = token_url, order_url, cancel_url
        self.tracking_url, self.price_url = tracking_url, price_url
        self.customer_code, self.feed_page_size, self.margin, self.clock = customer_code, feed_page_size, margin, clock
        self._basic = httpx.BasicAuth(client_id, client_secret)
        self._client_id = client_id
        self._http = httpx.Client(timeout=timeout, transport=transport, headers={"Accept": "application/json"})
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"VnpostClient({self.order_url!r}, client_id={self._client_id!r})"

    @classmethod
    def from_context(cls, ctx: Context) -> VnpostClient:
        s = ctx.settings
        return cls(token_url=s.token_url, order_url=s.order_url, cancel_url=s.cancel_url, tracking_url=s.tracking_url,
                   price_url=s.price_url, customer_code=s.customer_code, client_id=s.client_id,
                   client_secret=ctx.credential("client_secret", s.client_secret) or "", timeout=s.timeout,
                   feed_page_size=s.feed_page_size)

    # -- operations ----------------------------------------------------------------------------

    def create_order(self, order: Order) -> OrderAnswer:
        """Book ``order``; ``100`` and ``101`` (VNPost already has it) are success, any other status raises
        :class:`PermanentError` with VNPost's message."""
        body = order.model_dump(mode="json", exclude_none=True)
        answer = self._answer("order", self._call("POST", self.order_url, "order", json=body), OrderAnswer)
        if answer.Status == EXISTS_STATUS:
            log.info("vnpost: order already booked (status 101), counted as booked")
        return self._accepted("order", answer, (SUCCESS_STATUS, EXISTS_STATUS))

    def cancel(self, order_number: str) -> OrderAnswer:
        """Cancel order ``order_number``; a status other than ``100`` raises :class:`PermanentError`."""
        params = {"CustomerCode": self.customer_code, "OrderNumber": order_number}
        answer = self._answer("cancel", self._call("GET", self.cancel_url, "cancel", params=params), OrderAnswer)
        return self._accepted("cancel", answer, (SUCCESS_STATUS,))

    def track(self, last_id: str | None, page_size: int | None = None) -> TrackingPage:
        """The page of tracking events after ``last_id`` (the first page when None), as VNPost serves it."""
        size = min(MAX_PAGE_SIZE, max(1, page_size or self.feed_page_size))
        params = {"pagesize": str(size), "lastId": last_id or FIRST_LAST_ID}
        return self._answer("tracking", self._call("GET", self.tracking_url, "tracking", params=params), TrackingPage)

    def quote_price(self, query: PriceQuery) -> PriceAnswer:
        """VNPost's price for the parcel ``query`` describes, as it answers it."""
        body = query.model_dump(mode="json")
        return self._answer("price", self._call("POST", self.price_url, "price", json=body), PriceAnswer)

    def close(self) -> None:
        self._http.close()

    # -- token ---------------------------------------------------------------------------------

    def token(self) -> str:
        """The cached token, fetched when there is none or it is within ``margin`` of expiring."""
        with self._lock:
            if self._token is None or self.clock() >= self._expires:
                self._token, self._expires = self._fetch_token()
            return self._token

    def _forget(self, token: str) -> None:
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch_token(self) -> tuple[str, float]:
        started = self.clock()
        try:
            response = self._http.post(self.token_url, data={"grant_type": "client_credentials"}, auth=self._basic)
        except httpx.TimeoutException:
            raise TransientError("token: timed out") from None
        except httpx.TransportError as exc:
            raise TransientError(f"token: connection failed ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise TransientError(f"token: refused (HTTP {response.status_code})", http_status=response.status_code)
        try:
            answer = TokenAnswer.model_validate_json(response.content)
        except ValidationError:
            raise TransientError("token: unreadable answer") from None
        lifetime = float(answer.expires_in if answer.expires_in is not None else 300)
        log.info("vnpost: new access token, valid %.0f s", lifetime)
        return answer.access_token, started + max(0.0, lifetime - self.margin)

    # -- HTTP ----------------------------------------------------------------------------------

    def _call(self, method: str, url: str, name: str, **kwargs: Any) -> httpx.Response:
        token = self.token()
        response = self._send(method, url, name, token, **kwargs)
        if response.status_code == 401:
            log.info("vnpost: token refused by %s; fetching a new one", name)
            self._forget(token)
            response = self._send(method, url, name, self.token(), **kwargs)
            if response.status_code == 401:
                raise TransientError(f"{name}: token still refused after a fresh one (HTTP 401)", http_status=401)
        status = response.status_code
        if status < 400:
            return response
        reason = f"{name}: HTTP {status}{_message(response)}"
        if status >= 500 or status in TRANSIENT_HTTP:
            raise TransientError(reason, http_status=status)
        raise PermanentError(reason, http_status=status)

    def _send(self, method: str, url: str, name: str, token: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        for attempt in (1, 2):
            try:
                return self._http.request(method, url, headers=headers, **kwargs)
            except httpx.TimeoutException:
                raise TransientError(f"{name}: timed out") from None
            except (httpx.ConnectError, httpx.RemoteProtocolError) as exc:
                if attempt == 2:
                    raise TransientError(f"{name}: connection failed ({type(exc).__name__})") from None
                time.sleep(0.1)  # a dropped keep-alive socket or a refused connection: once more at once
            except httpx.TransportError as exc:
                raise TransientError(f"{name}: connection failed ({type(exc).__name__})") from None
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _answer(name: str, response: httpx.Response, model: type[_M]) -> _M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            raise TransientError(f"{name}: unreadable answer (HTTP {response.status_code})",
                                 http_status=response.status_code) from None

    @staticmethod
    def _accepted(name: str, answer: OrderAnswer, accepted: tuple[str, ...]) -> OrderAnswer:
        if answer.Status in accepted:
            return answer
        raise PermanentError(f"{name}: VNPost status {answer.Status}: {answer.Message}".rstrip(": "), status=answer.Status)


def _message(response: httpx.Response) -> str:
    """``: <Message>`` of a JSON error answer (VNPost's own words), else nothing: a body may echo personal data."""
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("Message") if isinstance(body, dict) else None
    return f": {str(message)[:200]}" if message else ""
