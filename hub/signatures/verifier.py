"""Inbound HTTP Message Signatures (RFC 9421): the checks the edge runs on a signing partner's request.

The signature base, the algorithms and the cryptographic check are the ``http-message-signatures``
library's (``HTTPMessageVerifier``); the Content-Digest check (RFC 9530, sha-256 and sha-512) is
its ``ContentDigest``. This module only decides policy, in this order, and names the check that
failed (the problem's ``rule``, and ``signature:<rule>`` in the access record):

==================  ===========================================================================
rule                refused when
==================  ===========================================================================
missing             the partner's policy is ``required`` and the request has no signature
malformed           Signature / Signature-Input unreadable, not exactly one signature, or no
                    ``keyid``, ``created`` or ``nonce``
unknown_key         no registered key has that ``keyid`` for this partner
revoked_key         the key is revoked or past its ``not_after``
alg_mismatch        the signature's ``alg`` is not the registered key's algorithm
components_missing  it does not cover ``@method``, ``@target-uri``, ``content-type`` and, with a
                    body, ``content-digest``
created_skew        ``created`` is more than ``signature_max_skew_seconds`` from the hub's clock
expired             ``expires`` has passed
bad_signature       the signature does not verify over the request as received
digest_mismatch     the body does not match the signed ``Content-Digest``
replay              the same ``keyid`` and ``nonce`` were accepted within the window
==================  ===========================================================================

A partner whose policy is ``off`` is never checked; ``optional`` checks a signature when one is sent.

A refusal is raised as :class:`SignatureRefused` (the rule, the header at fault, why); a check that
cannot be made now (``nonce_store_down``: Redis down under the ``deny`` policy) as
:class:`SignatureUnverifiable`. Neither knows HTTP: the edge (``hub/edge/guard.py``) notes the
refusal for the access record, charges it to the client address and answers the problem
(``signature_problem`` there: 401 ``signature-rejected``, 503 ``signature-unverifiable``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import http_sf
from http_message_signatures import ContentDigest, HTTPMessageVerifier, HTTPSignatureKeyResolver, InvalidSignature
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from hub.access.cache import MISS, CredentialCache
from hub.access.forwarded import ForwardedReader
from hub.access.principal import Principal
from hub.config import Settings
from hub.signatures.jwk import ALGORITHMS, PublicKey
from hub.signatures.nonces import NonceBook, NonceStoreDown
from hub.signatures.registry import SigningKey, load_key
from hub.signatures.target import target_uri

PARAMETERS = frozenset({"alg", "created", "expires", "keyid", "nonce", "tag"})
ALWAYS_COVERED = ("@method", "@target-uri")
WITH_BODY = ("content-type", "content-digest")  # what a request with a body must cover besides
# The time checks are this module's (with their own rules); the library's, widened, never decide.
LIBRARY_SKEW = timedelta(days=3650)


@dataclass
class ReceivedRequest:
    """The request as the library reads it: method, absolute URL, header field lines."""

    method: str
    url: str
    headers: Any


class _OneKey(HTTPSignatureKeyResolver):
    def __init__(self, keyid: str, key: PublicKey) -> None:
        self.keyid, self.key = keyid, key

    def resolve_public_key(self, key_id: str) -> PublicKey | None:
        return self.key if key_id == self.keyid else None

    def resolve_private_key(self, key_id: str) -> PublicKey:
        raise HTTPMessageSignaturesException("verification only")


class SignatureError(Exception):
    """The request's signature was not accepted; ``rule`` names the check (``signature:<rule>`` in
    the access record) and ``message`` says why, for the partner."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = rule, message


class SignatureRefused(SignatureError):
    """The signature breaks ``rule`` (the table above); ``field`` is the header at fault."""

    def __init__(self, rule: str, field: str, message: str) -> None:
        super().__init__(rule, message)
        self.field = field


class SignatureUnverifiable(SignatureError):
    """The signature cannot be checked now (``nonce_store_down``); send again after ``retry_after`` s."""

    def __init__(self, rule: str, message: str, retry_after: int = 1) -> None:
        super().__init__(rule, message)
        self.retry_after = retry_after


class Verifier:
    """One per hub process: the partners' keys (cached like API keys) and the nonce book."""

    def __init__(self, settings: Settings, engine: Engine, forwarded: ForwardedReader) -> None:
        self.skew = settings.signature_max_skew_seconds
        self.forwarded = forwarded
        self.keys: CredentialCache[SigningKey | None] = CredentialCache(
            lambda keyid: load_key(engine, settings, keyid), settings.credential_cache_seconds)
        self.nonces = NonceBook(settings.redis_url, 2 * self.skew + 1, settings.signature_nonce_on_redis_down)

    async def check(self, request: Request, principal: Principal, body: bytes) -> str | None:
        """Check ``request`` (whose body is ``body``) against ``principal``'s signing policy: the
        accepted signature's ``keyid``, or None when the request need not be and was not signed.
        Raises :class:`SignatureRefused` or :class:`SignatureUnverifiable`."""
        policy = principal.signatures
        if policy == "off":
            return None
        headers = request.headers
        inputs, signatures = headers.get("signature-input"), headers.get("signature")
        if inputs is None and signatures is None:
            if policy == "required":
                raise SignatureRefused("missing", "Signature", "this partner must sign its requests "
                                       "(RFC 9421 Signature and Signature-Input headers)")
            return None
        label, covered, params, signature = _parse(inputs, signatures)
        keyid: str = params["keyid"]
        key = await self._key(keyid)
        if key is None or key.partner_code != principal.partner_code or key.key is None:
            raise SignatureRefused("unknown_key", "Signature-Input",
                                   f"no signing key {keyid!r} is registered for this partner")
        now = time.time()
        if key.revoked or (key.not_after is not None and key.not_after <= now):
            raise SignatureRefused("revoked_key", "Signature-Input", f"signing key {keyid!r} is revoked")
        if "alg" in params and params["alg"] != key.alg:
            raise SignatureRefused("alg_mismatch", "Signature-Input",
                                   f"alg {params['alg']!r} is not the algorithm of key {keyid!r} ({key.alg})")
        required = ALWAYS_COVERED + (WITH_BODY if body else ())
        missing = [c for c in required if c not in covered]
        if missing:
            raise SignatureRefused("components_missing", "Signature-Input",
                                   f"the signature must cover {', '.join(required)}; missing: {', '.join(missing)}")
        if abs(now - params["created"]) > self.skew:
            raise SignatureRefused("created_skew", "Signature-Input", f"created is {int(now - params['created'])} s "
                                   f"from the hub's clock; at most {self.skew} allowed")
        if "expires" in params and params["expires"] <= now:
            raise SignatureRefused("expired", "Signature-Input", "the signature's expires time has passed")
        verifier = HTTPMessageVerifier(signature_algorithm=ALGORITHMS[key.alg], key_resolver=_OneKey(keyid, key.key))
        verifier.max_clock_skew = LIBRARY_SKEW
        message = ReceivedRequest(request.method, target_uri(request, self.forwarded), headers)
        try:
            [result] = verifier.verify(message, max_age=None)
        except (InvalidSignature, HTTPMessageSignaturesException) as exc:
            raise SignatureRefused("bad_signature", "Signature",
                                   f"the signature does not verify over this request: {_reason(exc)}") from exc
        if body or "content-digest" in headers:
            try:
                ContentDigest.verify(result.covered_components['"content-digest"'], body)
            except (InvalidSignature, HTTPMessageSignaturesException, KeyError) as exc:
                raise SignatureRefused("digest_mismatch", "Content-Digest",
                                       f"the body does not match Content-Digest: {_reason(exc)}") from exc
        try:
            first = await self.nonces.first_use(keyid, params["nonce"])
        except NonceStoreDown:
            raise SignatureUnverifiable("nonce_store_down", "the hub cannot check nonces now; send the request again",
                                        retry_after=1) from None
        if not first:
            raise SignatureRefused("replay", "Signature-Input",
                                   "this nonce was already used; sign each request with a new nonce")
        return keyid

    async def _key(self, keyid: str) -> SigningKey | None:
        found = self.keys.cached(keyid)
        if found is MISS:
            return await run_in_threadpool(self.keys.reload, keyid)
        return found

    def close(self) -> None:
        self.nonces.close()


def _parse(inputs: str | None, signatures: str | None) -> tuple[str, set[str], dict[str, Any], bytes]:
    """(label, covered component names, parameters, signature bytes); refuses ``malformed``."""
    def bad(message: str, field: str = "Signature-Input") -> SignatureRefused:
        return SignatureRefused("malformed", field, message)

    if not inputs or not signatures:
        raise bad("send both Signature-Input and Signature", "Signature" if inputs else "Signature-Input")
    try:
        parsed_inputs = _dictionary(inputs)
        parsed_signatures = _dictionary(signatures)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise bad(f"not a Structured Field dictionary: {exc}") from exc
    if len(parsed_inputs) != 1 or parsed_inputs.keys() != parsed_signatures.keys():
        raise bad("send exactly one signature, with the same label in Signature-Input and Signature")
    # A dictionary member is parsed as (value or inner list, parameters); http_sf's types also allow
    # the bare value, which only a caller building a structure by hand would write.
    [(label, member)] = parsed_inputs.items()
    signed = parsed_signatures[label]
    if not isinstance(member, tuple) or not isinstance(signed, tuple):
        raise bad("Signature-Input must be an inner list and Signature a byte sequence")
    members, params = member
    signature = signed[0]
    if not isinstance(members, list) or not isinstance(signature, bytes):
        raise bad("Signature-Input must be an inner list and Signature a byte sequence")
    covered = {item[0] for item in members if isinstance(item, tuple) and isinstance(item[0], str) and not item[1]}
    for name, kind in (("keyid", str), ("created", int), ("nonce", str)):
        if type(params.get(name)) is not kind:
            raise bad(f"the signature needs a {name} parameter ({'integer' if kind is int else 'string'})")
    unknown = set(params) - PARAMETERS
    if unknown:
        raise bad(f"unknown signature parameters: {', '.join(sorted(unknown))}")
    return label, covered, dict(params), signature


def _dictionary(field: str) -> http_sf.DictionaryType:
    """``field`` parsed as a Structured Field dictionary (raises ValueError, TypeError or
    UnicodeEncodeError when it is not one)."""
    parsed = http_sf.parse(field.encode("latin-1"), tltype="dictionary")
    if not isinstance(parsed, dict):  # http_sf.parse is annotated with every top-level type
        raise TypeError(f"a dictionary was parsed as {type(parsed).__name__}")
    return parsed


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text[:200]
