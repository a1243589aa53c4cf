"""JSON Web Keys (RFC 7517/7518) as the signature library needs them, and the other way round.

Hand-written: the signing library (``http-message-signatures``) takes ``cryptography`` key
objects, and ``cryptography`` reads PEM/DER but not JWK; the four key types below are a few lines
each, so no JOSE library is added for them.

A partner registers a *public* JWK; the algorithm follows from the key type:

====================  ============================  =====================
JWK                   RFC 9421 algorithm            notes
====================  ============================  =====================
OKP, crv Ed25519      ``ed25519``
EC, crv P-256         ``ecdsa-p256-sha256``
RSA                   ``rsa-pss-sha512``            modulus >= 2048 bits
oct                   ``hmac-sha256``               ``k`` is the shared secret (>= 32 bytes), kept in the vault
====================  ============================  =====================
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from http_message_signatures.algorithms import (
    ECDSA_P256_SHA256,
    ED25519,
    HMAC_SHA256,
    RSA_PSS_SHA512,
    HTTPSignatureAlgorithm,
)

ALGORITHMS: dict[str, type[HTTPSignatureAlgorithm]] = {
    "ed25519": ED25519, "ecdsa-p256-sha256": ECDSA_P256_SHA256, "rsa-pss-sha512": RSA_PSS_SHA512,
    "hmac-sha256": HMAC_SHA256,
}
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth")
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey | bytes


def b64url_decode(text: str) -> bytes:
    """Base64url without padding (RFC 7515 §2), as JWK members are written; ValueError if not."""
    if not isinstance(text, str) or not text.replace("-", "").replace("_", "").isalnum():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def algorithm_of(jwk: dict[str, Any]) -> str:
    """The RFC 9421 algorithm a JWK's type means; ValueError for a type the hub does not take."""
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        return "ed25519"
    if kty == "EC" and crv == "P-256":
        return "ecdsa-p256-sha256"
    if kty == "RSA":
        return "rsa-pss-sha512"
    if kty == "oct":
        return "hmac-sha256"
    raise ValueError(f"jwk: key type {kty!r}{'/' + str(crv) if crv else ''} is not one of OKP/Ed25519, EC/P-256, RSA, oct")


def public_key(jwk: dict[str, Any]) -> PublicKey:
    """The verification key of a JWK (for ``oct``, the secret bytes); ValueError naming what is wrong."""
    alg = algorithm_of(jwk)
    try:
        if alg == "ed25519":
            return ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
        if alg == "ecdsa-p256-sha256":
            x, y = (int.from_bytes(b64url_decode(jwk[m]), "big") for m in ("x", "y"))
            return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        if alg == "rsa-pss-sha512":
            n, e = (int.from_bytes(b64url_decode(jwk[m]), "big") for m in ("n", "e"))
            if n.bit_length() < 2048:
                raise ValueError("jwk: an RSA modulus of at least 2048 bits")
            return rsa.RSAPublicNumbers(e, n).public_key()
        secret = b64url_decode(jwk["k"])
    except KeyError as missing:
        raise ValueError(f"jwk: member {missing.args[0]!r} is missing") from None
    except (ValueError, TypeError) as exc:
        raise ValueError(f"jwk: {exc}" if not str(exc).startswith("jwk:") else str(exc)) from None
    if len(secret) < 32:
        raise ValueError("jwk: an HMAC secret (k) of at least 32 bytes")
    return secret


def public_members(jwk: dict[str, Any]) -> dict[str, Any]:
    """The JWK as stored and shown: for ``oct`` without its secret ``k``; ValueError if a private
    asymmetric key was sent (only public keys are registered)."""
    if jwk.get("kty") != "oct" and any(m in jwk for m in PRIVATE_MEMBERS):
        raise ValueError("jwk: send the public key only (no 'd' or other private members)")
    keep = {"oct": ("kty", "kid", "alg", "use")}.get(jwk.get("kty", ""), ("kty", "crv", "x", "y", "n", "e", "kid", "alg", "use"))
    return {m: jwk[m] for m in keep if m in jwk}


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): the default keyid of a key sent without ``kid``."""
    required = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "oct": ("k", "kty")}
    members = required.get(jwk.get("kty", ""))
    if members is None or any(m not in jwk for m in members):
        raise ValueError("jwk: cannot compute a thumbprint; give a kid")
    canonical = orjson.dumps({m: jwk[m] for m in members}, option=orjson.OPT_SORT_KEYS)
    return b64url(hashlib.sha256(canonical).digest())


def public_jwk(key: Any, kid: str) -> dict[str, Any]:
    """The public JWK of a ``cryptography`` key (private or public; Ed25519, EC P-256 or RSA)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    pub = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(pub, ed25519.Ed25519PublicKey):
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(pub.public_bytes(Encoding.Raw, PublicFormat.Raw)), "kid": kid}
    if isinstance(pub, ec.EllipticCurvePublicKey) and isinstance(pub.curve, ec.SECP256R1):
        point = pub.public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": b64url(point.x.to_bytes(32, "big")),
                "y": b64url(point.y.to_bytes(32, "big")), "kid": kid}
    if isinstance(pub, rsa.RSAPublicKey):
        numbers = pub.public_numbers()
        return {"kty": "RSA", "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")), "kid": kid}
    raise ValueError("key: an Ed25519, EC P-256 or RSA key")


def hub_jwk(key: ed25519.Ed25519PublicKey, kid: str) -> dict[str, Any]:
    """One of the hub's Ed25519 keys as ``/.well-known/jwks.json`` lists it."""
    return {**public_jwk(key, kid), "alg": "EdDSA", "use": "sig"}
