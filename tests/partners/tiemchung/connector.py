"""Outbound: each canonical message is one ``POST {url}/inbox`` of its JSON, with the registry's bearer token.

2xx ok; 409 ok (the registry already has that ``message_id``); other 4xx permanent; 5xx, timeouts and
refused connections transient, and nothing later of the same call is sent (a dossier's messages
never overtake each other).
"""

from __future__ import annotations

from typing import ClassVar, Sequence

import httpx

from hub.seam import Context, Envelope, Outcome


class TiemchungConnector:
    """The registry, one message per POST."""

    max_batch: ClassVar[int] = 20

    def __init__(self, url: str, token: str, timeout: float) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout,
                                  headers={"Authorization": f"Bearer {token}"})

    @classmethod
    def from_context(cls, ctx: Context) -> "TiemchungConnector":
        s = ctx.settings
        return cls(s.url, ctx.credential("token", s.token) or "", s.timeout)

    def deliver(self, messages: Sequence[Envelope]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for message in messages:
            if outcomes and outcomes[-1].kind == "transient":
                outcomes.append(Outcome.transient("not sent: an earlier message failed"))
                continue
            try:
                answer = self._http.post("/inbox", json=message.model_dump(mode="json"))
            except httpx.HTTPError as exc:
                outcomes.append(Outcome.transient(type(exc).__name__))
                continue
            if answer.status_code < 300 or answer.status_code == 409:
                outcomes.append(Outcome.ok(f"HTTP {answer.status_code}"))
            elif answer.status_code >= 500 or answer.status_code in (408, 429):
                outcomes.append(Outcome.transient(f"HTTP {answer.status_code}"))
            else:
                outcomes.append(Outcome.permanent(f"HTTP {answer.status_code}: {answer.text[:200]}"))
        return outcomes

    def close(self) -> None:
        self._http.close()
