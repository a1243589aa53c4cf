"""One JSON POST to a REST partner, with the failures every connector classifies the same way.

* timeout, connection error, HTTP 5xx, 408 and 429: the ``transient`` error (worth retrying later);
* any other HTTP 4xx (unless listed in ``accept``): the ``permanent`` error (the content is refused).

A refused connection or a keep-alive socket the server dropped is tried once more in the call
(tenacity, 0.1 s): the commonest blip, cured at once. Anything else is left to the worker's backoff.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_fixed

TRANSIENT_HTTP = frozenset({408, 429})


class ErrorClass(Protocol):
    def __call__(self, reason: str, *, http_status: int | None = None) -> Exception: ...


@retry(retry=retry_if_exception_type((httpx.ConnectError, httpx.RemoteProtocolError)),
       stop=stop_after_attempt(2), wait=wait_fixed(0.1), reraise=True)
def _send(http: httpx.Client, path: str, body: Any, headers: dict[str, str] | None) -> httpx.Response:
    return http.post(path, json=body, headers=headers)


def post_json(http: httpx.Client, path: str, body: Any, *, transient: ErrorClass, permanent: ErrorClass,
              accept: frozenset[int] = frozenset(), headers: dict[str, str] | None = None) -> httpx.Response:
    """POST ``body`` as JSON to ``path``; the response if it is 2xx or in ``accept``, else raise."""
    name = path.lstrip("/") or "/"
    try:
        response = _send(http, path, body, headers)
    except httpx.TimeoutException as exc:
        raise transient(f"{name}: timed out ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise transient(f"{name}: connection failed ({type(exc).__name__})") from None
    status = response.status_code
    if status in accept or status < 400:
        return response
    reason = f"{name}: HTTP {status} {response.text[:200]}".rstrip()
    if status >= 500 or status in TRANSIENT_HTTP:
        raise transient(reason, http_status=status)
    raise permanent(reason, http_status=status)


def json_answer(response: httpx.Response, path: str, transient: ErrorClass) -> Any:
    """The decoded JSON body; an answer that is not JSON is the ``transient`` error."""
    try:
        return response.json()
    except ValueError:
        name = path.lstrip("/") or "/"
        raise transient(f"{name}: HTTP {response.status_code} answer is not JSON",
                        http_status=response.status_code) from None
