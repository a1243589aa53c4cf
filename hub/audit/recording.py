"""One access record per HTTP request, built from the request's ASGI scope once the answer is out.

What the handling left in ``scope["state"]`` says who called and what happened:

- ``principal``: the admitted caller (partner key or person), set by the gate;
- ``attempt``: who a refused credential claimed to be (``partner_code``, ``key_id``, ``account``);
- ``outcome``: ``ok``, the gate's refusal reason (``unknown_key``, ``expired``, ``rate_limited``...)
  or the problem type of an error answer (``validation``, ``no-route``...);
- ``message_ids``, ``summary``: what the request carried and did (never personal data);
- ``citizen``: ``(citizen ID, content dict)`` of a population-database look-up: stored as a blind
  index and as encrypted content, never in clear;
- ``officer_context``: the look-up's officer as the one-stop system reports them
  (:class:`hub.citizens.answers.OfficerContext`): the ``officer_*`` columns, beside the calling
  server's ``client_ip``, ``device``, ``os`` and ``browser``;
- ``kind``: ``request`` unless the handler says otherwise (``decrypt``);
- ``request_id`` (the hub's own) and ``caller_request_id`` (the caller's ``X-Request-Id``), set
  when the request arrives (``hub/edge/fast_path.py``).

A record is *kept* through a database outage (spilled to disk, ``hub/audit/log.py``) when a
principal was admitted, the route is people's (``/v1/admin``, ``/v1/audit``, ``/v1/auth``), it is a
look-up or its kind is not ``request``; the rest (no admitted caller: unknown keys, no credential,
unknown paths) is anonymous noise the log may shed under pressure.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from typing import Any, Callable

from starlette.types import Message, Receive, Scope, Send

from hub.audit.agents import describe
from hub.audit.crypto import CitizenData
from hub.audit.log import AccessLog
from hub.audit.records import OFFICER_COLUMNS

_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]")
CALLER_REQUEST_ID_MAX = 100
ClientOf = Callable[[Scope], tuple[str, list[str]]]
#: Routes of people's work (sign-in, administration, audit): their records are never shed.
PEOPLE_PREFIXES = ("/v1/admin", "/v1/audit", "/v1/auth", "/console/login", "/console/logout")


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower case) in an ASGI scope, without building a Headers
    object (this runs for every request)."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def request_id() -> str:
    """A new request id of the hub's own (32 hex digits): never taken from the caller, so no caller can
    make two records share an id or point an auditor at another request."""
    return os.urandom(16).hex()


def caller_request_id(scope: Scope) -> str | None:
    """The caller's ``X-Request-Id`` as it is stored beside the hub's: every character outside printable
    ASCII replaced by ``?``, cut to 100 characters; None when absent or blank."""
    given = header(scope, b"x-request-id")
    if given is None:
        return None
    cleaned = _NOT_PRINTABLE.sub("?", given.strip()[:CALLER_REQUEST_ID_MAX])
    return cleaned or None


class Meter:
    """Wraps one request's receive/send: counts bytes, keeps the status, and adds the response headers
    the handling left in ``scope["state"]["response_headers"]`` (rate-limit fields) plus ``X-Request-Id``
    (the hub's id; the caller's own is stored in the record, not echoed)."""

    __slots__ = ("scope", "status", "received", "sent")

    def __init__(self, scope: Scope) -> None:
        self.scope, self.status, self.received, self.sent = scope, 0, 0, 0

    def receive(self, receive: Receive) -> Receive:
        async def receiving() -> Message:
            message = await receive()
            self.received += len(message.get("body", b""))
            return message
        return receiving

    def send(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                state = self.scope["state"]
                headers = [*message.get("headers", ()), (b"x-request-id", state["request_id"].encode())]
                extra = state.get("response_headers")
                if extra:
                    headers.extend((k.lower().encode(), v.encode()) for k, v in extra.items())
                message["headers"] = headers
            elif message["type"] == "http.response.body":
                self.sent += len(message.get("body", b""))
            await send(message)
        return sending


class Recorder:
    """Turns finished requests into access records for the :class:`AccessLog`."""

    def __init__(self, log: AccessLog, client: ClientOf, citizen: CitizenData) -> None:
        self.log, self.client, self.citizen = log, client, citizen

    def request(self, scope: Scope, meter: Meter, latency_ns: int) -> None:
        """Queue the record of the request ``scope`` that ``meter`` watched."""
        state = scope["state"]
        who = state.get("principal")
        attempt = state.get("attempt") or {}
        ip, chain = self.client(scope)
        agent = (header(scope, b"user-agent") or "")[:300]
        device, os_name, browser = describe(agent)
        route = scope.get("route")
        status = meter.status
        citizen = state.get("citizen")
        path = state.get("path") or scope["path"]  # a handler may have concealed a secret segment (hub.seam.Inbound)
        keep = (who is not None or path.startswith(PEOPLE_PREFIXES) or citizen is not None
                or state.get("kind", "request") != "request")
        self.log.add({
            "at": datetime.now(timezone.utc),
            "request_id": state["request_id"],
            "caller_request_id": state.get("caller_request_id"),
            "kind": state.get("kind", "request"),
            "outcome": state.get("outcome") or ("ok" if 0 < status < 400 else f"http-{status}"),
            "partner_code": who.partner_code if who is not None else attempt.get("partner_code"),
            "key_id": who.key_id if who is not None else attempt.get("key_id"),
            "account": state.get("officer") or (who.account if who is not None else attempt.get("account")),
            "client_ip": ip,
            "forwarded_for": ",".join(chain)[:300],
            "user_agent": agent,
            "device": device,
            "os": os_name,
            "browser": browser,
            "method": scope["method"][:8],
            "route": (getattr(route, "path", None) or state.get("route") or "")[:200],
            "path": path[:300],
            "status": status,
            "latency_us": latency_ns // 1000,
            "request_bytes": meter.received,
            "response_bytes": meter.sent,
            "message_ids": ",".join(state.get("message_ids", ())),
            "summary": state.get("summary", "")[:300],
            "citizen_index": self.citizen.blind_index(citizen[0]) if citizen else None,
            "content": self.citizen.seal_content(citizen[1]) if citizen else None,
            **_officer_columns(state.get("officer_context")),
        }, keep=keep)


_NO_OFFICER = dict.fromkeys(OFFICER_COLUMNS)


def _officer_columns(context: Any) -> dict[str, str | None]:
    """The ``officer_*`` columns of an officer context (every one None without it: the record's
    writers need every column)."""
    if context is None:
        return _NO_OFFICER
    return {"officer_ip": context.ip, "officer_device": context.device, "officer_os": context.os,
            "officer_browser": context.browser, "officer_mac": context.mac}

