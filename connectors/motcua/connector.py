"""``MotcuaConnector``: delivers canonical messages to the one-stop system's endpoint.

Each message is one ``POST {LIENTHONG_MOTCUA_CALLBACK_URL}`` of its canonical JSON (the same document the
hub's API takes, ``/schemas/messages/message.json``), with ``X-Message-Id`` for the receiver's
deduplication, and signed with the hub's key (RFC 9421) when ``LIENTHONG_MOTCUA_SIGN_REQUESTS``.

Answers: 2xx ok; 409 ok (the system already has that ``message_id``); other 4xx permanent; 5xx,
408, 429, timeouts and connection failures transient. Messages are sent in the order given; after
a transient failure the rest of the call is not sent (transient too), so a dossier's messages never
overtake each other.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import httpx

from connectors.http import post_json
from hub.seam import Context, Envelope, Outcome, in_order

DUPLICATE = 409


class DeliveryError(Exception):
    def __init__(self, reason: str, *, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.http_status = reason, http_status


class TransientError(DeliveryError):
    """Worth retrying later."""


class PermanentError(DeliveryError):
    """The one-stop system refused the message."""


class MotcuaConnector:
    """The one-stop system, one message per POST."""

    max_batch: ClassVar[int] = 20

    def __init__(self, url: str, timeout: float = 5.0, *, auth: httpx.Auth | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        self._http = httpx.Client(timeout=timeout, auth=auth, transport=transport,
                                  headers={"Accept": "application/json"})

    @classmethod
    def from_context(cls, ctx: Context) -> "MotcuaConnector":
        s = ctx.settings
        return cls(s.callback_url, s.timeout, auth=ctx.signer() if s.sign_requests else None)

    def deliver(self, messages: Sequence[Envelope]) -> list[Outcome]:
        """Post ``messages`` in order; one outcome per message, same order."""
        return in_order(messages, lambda message: self._send(message.model_dump(mode="json"), message.message_id))

    def _send(self, document: dict[str, Any], message_id: str) -> Outcome:
        try:
            response = post_json(self._http, self.url, document, transient=TransientError, permanent=PermanentError,
                                 accept=frozenset({DUPLICATE}), headers={"X-Message-Id": message_id})
        except TransientError as exc:
            return Outcome.transient(exc.reason)
        except PermanentError as exc:
            return Outcome.permanent(exc.reason)
        if response.status_code == DUPLICATE:
            return Outcome.ok("already received (409)")
        return Outcome.ok(f"HTTP {response.status_code}")

    def close(self) -> None:
        self._http.close()
