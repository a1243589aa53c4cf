"""Partners' signing keys and signing policy: register, list, revoke, set the policy; look a key up.

A key is registered as a public JWK (``hub.signatures.jwk``); its ``keyid`` is the JWK's ``kid``
(or its RFC 7638 thumbprint) and is unique across partners. An HMAC-SHA256 key's secret is written
to the credential vault as ``signing.hmac.<keyid>`` and never shown again. A revoked key stays
listed (``state`` revoked) so its keyid can never be reused. Every change is an admin action.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson
from sqlalchemy import Engine, insert, select, update

from hub.access import actions
from hub.config import Settings
from hub.signatures.jwk import PublicKey, algorithm_of, public_key, public_members, thumbprint
from hub.store.engine import reading
from hub.store.tables import partner_signing_keys, partners

POLICIES = ("off", "optional", "required")
KEYID = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A registered key as the verifier needs it."""

    keyid: str
    partner_code: str
    alg: str
    key: PublicKey | None  # None: an HMAC key whose secret is missing from the vault
    revoked: bool
    not_after: float | None  # epoch seconds


def hmac_secret_name(keyid: str) -> str:
    return f"signing.hmac.{keyid}"


def _view(r: Any) -> dict[str, Any]:
    return {"keyid": r.keyid, "partner": r.partner_code, "alg": r.alg, "jwk": orjson.loads(r.public_jwk),
            "state": r.state, "created_at": r.created_at.isoformat(),
            "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
            "not_after": r.not_after.isoformat() if r.not_after else None}


def _vault(engine: Engine, settings: Settings) -> Any:
    from hub.vault.store import Vault  # the vault helper's module; imported where a secret is needed

    return Vault(engine, settings)


def add_key(engine: Engine, settings: Settings, partner_code: str, jwk: dict[str, Any], *, not_after: datetime | None = None,
            actor: str, client_ip: str = "") -> dict[str, Any]:
    """Register ``jwk`` for ``partner_code``; its view (for ``oct``, without the secret).

    ValueError for a bad key, keyid or date; LookupError for an unknown partner; AlreadyExists when
    the keyid is taken (also by a revoked key)."""
    if not isinstance(jwk, dict):
        raise ValueError("jwk: a JSON object")
    alg = algorithm_of(jwk)
    if "alg" in jwk and jwk["alg"] not in (alg, {"ed25519": "EdDSA", "ecdsa-p256-sha256": "ES256",
                                                 "rsa-pss-sha512": "PS512", "hmac-sha256": "HS256"}[alg]):
        raise ValueError(f"jwk: alg {jwk['alg']!r} does not match the key type, which signs with {alg}")
    public_key(jwk)  # validates the key material
    stored = public_members(jwk)
    keyid = str(jwk.get("kid") or thumbprint(jwk))
    if not KEYID.match(keyid):
        raise ValueError("kid: letters, digits and . _ : - only, at most 200 characters")
    stored["kid"] = keyid
    if not_after is not None and not_after <= datetime.now(timezone.utc):
        raise ValueError("not_after: must be in the future")
    with engine.begin() as conn:
        if conn.execute(select(partners.c.id).where(partners.c.code == partner_code)).first() is None:
            raise LookupError(f"no partner {partner_code!r}")
        if conn.execute(select(partner_signing_keys.c.id).where(partner_signing_keys.c.keyid == keyid)).first():
            raise actions.AlreadyExists(f"signing key {keyid!r} already exists (keyids are never reused)")
        conn.execute(insert(partner_signing_keys).values(
            partner_code=partner_code, keyid=keyid, alg=alg, public_jwk=orjson.dumps(stored).decode(), state="active",
            created_at=datetime.now(timezone.utc), not_after=not_after))
        view = _view(conn.execute(select(partner_signing_keys).where(partner_signing_keys.c.keyid == keyid)).one())
        actions.record(conn, actor, "signing_key.add", f"signing_key:{keyid}@{partner_code}", None, view, client_ip)
    if alg == "hmac-sha256":  # the secret goes to the vault (its own admin action), never to this table
        try:
            _vault(engine, settings).put(hmac_secret_name(keyid), jwk["k"], actor=actor, client_ip=client_ip)
        except Exception:
            revoke_key(engine, partner_code, keyid, actor=actor, client_ip=client_ip)  # no usable half-registered key
            raise
    return view


def list_keys(engine: Engine, partner_code: str | None = None) -> list[dict[str, Any]]:
    query = select(partner_signing_keys).order_by(partner_signing_keys.c.id)
    if partner_code:
        query = query.where(partner_signing_keys.c.partner_code == partner_code)
    with reading(engine) as conn:
        return [_view(r) for r in conn.execute(query).all()]


def revoke_key(engine: Engine, partner_code: str, keyid: str, *, actor: str, client_ip: str = "") -> dict[str, Any]:
    """Stop a key now: every hub process refuses its signatures within about a second."""
    where = (partner_signing_keys.c.keyid == keyid) & (partner_signing_keys.c.partner_code == partner_code)
    with engine.begin() as conn:
        row = conn.execute(select(partner_signing_keys).where(where)).first()
        if row is None:
            raise LookupError(f"no signing key {keyid!r} for partner {partner_code!r}")
        if row.state != "revoked":
            conn.execute(update(partner_signing_keys).where(where).values(state="revoked",
                                                                           revoked_at=datetime.now(timezone.utc)))
        after = _view(conn.execute(select(partner_signing_keys).where(where)).one())
        actions.record(conn, actor, "signing_key.revoke", f"signing_key:{keyid}@{partner_code}", _view(row), after,
                       client_ip)
    return after


def set_policy(engine: Engine, partner_code: str, policy: str, *, actor: str, client_ip: str = "") -> dict[str, Any]:
    """Set whether ``partner_code`` signs: off (not checked), optional (checked when present), required."""
    from hub.partners import update_partner

    return update_partner(engine, partner_code, {"signatures": policy}, actor=actor, client_ip=client_ip)


def load_key(engine: Engine, settings: Settings, keyid: str) -> SigningKey | None:
    """The registered key ``keyid`` (any partner, any state), None if there is none."""
    with reading(engine) as conn:
        row = conn.execute(select(partner_signing_keys).where(partner_signing_keys.c.keyid == keyid)).first()
    if row is None:
        return None
    if row.alg == "hmac-sha256":
        secret = _vault(engine, settings).get(hmac_secret_name(keyid))
        key: PublicKey | None = public_key({"kty": "oct", "k": secret}) if secret else None
    else:
        key = public_key(orjson.loads(row.public_jwk))
    return SigningKey(keyid, row.partner_code, row.alg, key, row.state == "revoked",
                      row.not_after.timestamp() if row.not_after else None)
