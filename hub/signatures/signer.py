"""Signing requests (RFC 9421) as an ``httpx.Auth``: the hub's outbound calls, and partners' clients.

Each request gets a signature over ``@method``, ``@target-uri``, ``content-digest`` (sha-256 of the
body, RFC 9530; added when absent) and ``content-type`` (when the request has one), with
``created``, ``expires``, ``keyid``, a fresh ``nonce`` and ``alg``. The signature base and the
signing are the ``http-message-signatures`` library's.

    # the hub, towards a partner that expects signatures:
    client = httpx.Client(auth=HubSigner(HubKeyRing.for_settings(settings), lifetime_seconds=300))
    # a partner's system, towards the hub (docs/SIGNATURES.md):
    client = httpx.Client(auth=MessageSigner("ed25519", "motcua-2026-01", private_key))
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Generator

import httpx
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver

from hub.config import Settings
from hub.signatures.hub_keys import HubKeyRing
from hub.signatures.jwk import ALGORITHMS

COVERED = ("@method", "@target-uri", "content-digest", "content-type")


@dataclass
class OutgoingRequest:
    """An ``httpx.Request`` as the library reads and writes it (its headers are written through)."""

    method: str
    url: str
    headers: httpx.Headers


class _Key(HTTPSignatureKeyResolver):
    def __init__(self, key: Any) -> None:
        self.key = key

    def resolve_private_key(self, key_id: str) -> Any:
        return self.key

    def resolve_public_key(self, key_id: str) -> None:
        return None


class MessageSigner(httpx.Auth):
    """Signs every request the client sends with ``key`` (a ``cryptography`` private key, or the
    secret bytes for ``hmac-sha256``) under ``keyid``; signatures expire after ``lifetime_seconds``."""

    requires_request_body = True

    def __init__(self, alg: str, keyid: str, key: Any, lifetime_seconds: int = 300, label: str = "sig") -> None:
        self.alg, self.keyid, self.key, self.lifetime, self.label = alg, keyid, key, lifetime_seconds, label

    def current_key(self) -> tuple[str, Any]:
        """The keyid and key that sign now."""
        return self.keyid, self.key

    def sign(self, request: httpx.Request, *, created: datetime | None = None, nonce: str | None = None,
             covered: tuple[str, ...] = COVERED) -> None:
        """Add Content-Digest (if absent, and only for a request with a body), Signature-Input and
        Signature to ``request`` in place. A request without a body signs without ``content-digest``."""
        keyid, key = self.current_key()
        created = created or datetime.now(timezone.utc).replace(microsecond=0)
        body = request.content or None
        components = [c for c in covered if c.startswith("@") or (c == "content-digest" and body is not None)
                      or (c != "content-digest" and c in request.headers)]
        signer = HTTPMessageSigner(signature_algorithm=ALGORITHMS[self.alg], key_resolver=_Key(key))
        signer.sign(OutgoingRequest(request.method, str(request.url), request.headers), key_id=keyid,
                    created=created, expires=created + timedelta(seconds=self.lifetime),
                    nonce=nonce or secrets.token_urlsafe(16), label=self.label, covered_component_ids=components,
                    body=body, use_existing_digest="content-digest" in request.headers)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request


class HubSigner(MessageSigner):
    """Signs with the hub's active Ed25519 key (``hub.signatures.hub_keys``), re-read as it rotates."""

    def __init__(self, ring: HubKeyRing, lifetime_seconds: int) -> None:
        super().__init__("ed25519", "", None, lifetime_seconds, label="lienthong")
        self.ring = ring

    def current_key(self) -> tuple[str, Any]:
        return self.ring.active()


def hub_signer(settings: Settings) -> HubSigner:
    """The signer of the hub's outbound calls, on the key ring under ``keys/hub-signing/``."""
    return HubSigner(HubKeyRing.for_settings(settings), settings.signing_signature_lifetime_seconds)
