"""The simulators' check of the hub's HTTP message signatures (RFC 9421), as a partner that
requires them would do it (the portal's and the one-stop system's simulators, with ``--jwks-url``):
keys from the hub's JWKS URL (re-fetched for an unknown ``kid``), ``@method``, ``@target-uri`` and
``content-digest`` covered, the digest matching the body, ``created`` within five minutes,
``expires`` not passed, each nonce once.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver, InvalidSignature
from http_message_signatures.algorithms import ED25519
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from starlette.requests import Request

REQUIRED = ("@method", "@target-uri", "content-digest")
JWKS_HELP = ("Require the hub's HTTP message signatures, verified with the keys at this URL "
             "(e.g. http://127.0.0.1:8000/.well-known/jwks.json).")


@dataclass(frozen=True)
class ReceivedRequest:
    """The request as the signature library reads it: method, absolute URL, header field lines."""

    method: str
    url: str
    headers: Any


def public_key(jwk: dict[str, Any]) -> Ed25519PublicKey:
    """An Ed25519 JWK's public key (the simulators check the hub's signatures on their own, as a partner would)."""
    x = jwk["x"]
    return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))


class KeysUnavailable(Exception):
    """The JWKS could not be fetched: the signature can be neither trusted nor refused now."""


UNVERIFIABLE = "unverifiable: "  #: how a refusal that is no verdict (the keys are unreadable) starts


class JwksKeys(HTTPSignatureKeyResolver):
    """Public keys by ``kid`` from a JWKS URL, cached; an unknown kid fetches the set again (a
    simulator's simplicity: a real partner would also limit how often)."""

    def __init__(self, url: str) -> None:
        self.url, self.keys = url, {}  # type: ignore[var-annotated]

    async def refresh(self, kid: str) -> None:
        """Fetch the set again for an unknown ``kid``; :class:`KeysUnavailable` when it cannot be read now
        (the hub is still starting)."""
        if kid in self.keys:
            return
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                doc = (await http.get(self.url)).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise KeysUnavailable(f"the hub's keys cannot be read now ({type(exc).__name__})") from None
        self.keys = {k["kid"]: public_key(k) for k in doc.get("keys", []) if k.get("kty") == "OKP" and k.get("crv") == "Ed25519"}

    def resolve_public_key(self, key_id: str) -> Any:
        return self.keys.get(key_id)

    def resolve_private_key(self, key_id: str) -> Any:
        raise HTTPMessageSignaturesException("verification only")


class SignatureCheck:
    """``await check(request, body)``: None if the request is signed as required, else the reason."""

    def __init__(self, jwks_url: str) -> None:
        self.keys = JwksKeys(jwks_url)
        self.nonces: dict[str, float] = {}

    async def check(self, request: Request, body: bytes) -> str | None:
        inputs = request.headers.get("signature-input", "")
        if not inputs or "signature" not in request.headers:
            return "the request is not signed"
        kid = inputs.partition('keyid="')[2].partition('"')[0]
        await self.keys.refresh(kid)
        verifier = HTTPMessageVerifier(signature_algorithm=ED25519, key_resolver=self.keys)
        verifier.max_clock_skew = timedelta(seconds=300)
        try:
            [result] = verifier.verify(ReceivedRequest(request.method, str(request.url), request.headers),
                                       max_age=timedelta(seconds=300), require_components=REQUIRED, body=body)
        except (InvalidSignature, HTTPMessageSignaturesException, ValueError) as exc:
            return f"the signature does not verify: {exc}"
        now = time.monotonic()
        self.nonces = {n: t for n, t in self.nonces.items() if t > now}
        nonce = f"{kid}:{result.nonce}"
        if result.nonce is None or nonce in self.nonces:
            return "no nonce, or a nonce already used"
        self.nonces[nonce] = now + 600
        return None


class SignatureGate:
    """A simulator's use of :class:`SignatureCheck`: ``await refusal(request, counters)`` is None when
    the request passes (or no JWKS URL was given), else the reason; counted in ``counters``
    (``verified`` / ``refused``)."""

    def __init__(self, jwks_url: str | None) -> None:
        self.check = SignatureCheck(jwks_url) if jwks_url else None

    async def refusal(self, request: Request, counters: dict[str, int]) -> str | None:
        if self.check is None:
            return None
        try:
            reason = await self.check.check(request, await request.body())
        except KeysUnavailable as exc:
            return f"{UNVERIFIABLE}{exc}"
        counters["refused" if reason else "verified"] += 1
        return reason

    @staticmethod
    def status(reason: str) -> int:
        """The HTTP status of a refusal: 503 when the keys could not be read (try again), else 401."""
        return 503 if reason.startswith(UNVERIFIABLE) else 401
