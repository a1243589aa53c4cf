"""The hub's own Ed25519 signing keys: a key ring under ``keys/hub-signing/``, rotated without a gap.

Files: ``ring.json`` (the keys, newest last) and one ``<kid>.pem`` per key (PKCS8, mode 0600).
Each key has ``kid``, ``created``, ``activates_at`` and, once a successor is active,
``retired_at``; ``state`` is derived from the clock and written for people reading the file:

* ``next``: published in ``/.well-known/jwks.json`` at once, not used to sign yet;
* ``active``: the newest key whose ``activates_at`` has passed; every outbound signature uses it;
* ``retired``: replaced; still published until ``signing_signature_lifetime_seconds`` after it was
  replaced (its last signatures expire then), then no longer published.

``rotate`` adds a ``next`` key that becomes active ``signing_publish_lead_seconds`` later, so a
partner that caches the JWKS for less than that always knows a key before it signs anything. The
first run generates one active key (sandbox profile only: in production a missing ring is
:class:`hub.config.MissingKey`; ``lienthong keyset init`` writes it). Processes re-read the ring when
the file changes.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, load_pem_private_key

from hub.config import MissingKey, Settings, generated_secret
from hub.private_files import write_private
from hub.signatures.jwk import hub_jwk


def _now() -> float:
    return datetime.now(timezone.utc).timestamp()


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat()


def _ts(text: str | None) -> float | None:
    return None if text is None else datetime.fromisoformat(text).timestamp()


@dataclass(frozen=True)
class HubKey:
    kid: str
    created: float
    activates_at: float
    retired_at: float | None  # when its successor became (or becomes) active

    def state(self, now: float) -> str:
        if now < self.activates_at:
            return "next"
        return "retired" if self.retired_at is not None and now >= self.retired_at else "active"


class HubKeyRing:
    """The ring in ``directory``; safe to share between threads of one process."""

    def __init__(self, directory: Path, lead_seconds: int, lifetime_seconds: int, generate: bool = True) -> None:
        self.directory, self.lead, self.lifetime, self.generate = directory, lead_seconds, lifetime_seconds, generate
        self.path = directory / "ring.json"
        self._lock = threading.Lock()
        self._seen: tuple[float, list[HubKey]] | None = None
        self._private: dict[str, Ed25519PrivateKey] = {}

    @classmethod
    def for_settings(cls, settings: Settings) -> "HubKeyRing":
        return cls(settings.keys_dir / "hub-signing", settings.signing_publish_lead_seconds,
                   settings.signing_signature_lifetime_seconds, generate=settings.profile != "production")

    # -- reading ------------------------------------------------------------------------------

    def keys(self) -> list[HubKey]:
        """Every key in the ring, oldest first; the first call on an empty directory makes one
        (unless made with ``generate=False``: then :class:`MissingKey`)."""
        if not self.path.exists():
            if not self.generate:
                raise MissingKey(f"{self.path} does not exist: in production the hub's signing keys are never "
                                 f"generated; create the key set once with 'lienthong keyset init'")
            self._create_first()
        mtime = self.path.stat().st_mtime
        seen = self._seen
        if seen is not None and seen[0] == mtime:
            return seen[1]
        data = orjson.loads(self.path.read_bytes())
        keys = [HubKey(k["kid"], _ts(k["created"]) or 0.0, _ts(k["activates_at"]) or 0.0, _ts(k.get("retired_at")))
                for k in data["keys"]]
        self._seen = (mtime, keys)
        return keys

    def active(self, now: float | None = None) -> tuple[str, Ed25519PrivateKey]:
        """The kid and private key that sign now."""
        keys = self.keys()  # first: may create the first key
        now = _now() if now is None else now
        live = [k for k in keys if k.state(now) == "active"]
        if not live:
            raise RuntimeError(f"no active hub signing key in {self.path}")
        kid = live[-1].kid
        return kid, self._private_key(kid)

    def published(self, now: float | None = None) -> list[dict[str, Any]]:
        """The public JWKs to publish: next, active, and retired ones whose signatures may still be valid."""
        keys = self.keys()
        now = _now() if now is None else now
        out = []
        for k in keys:
            if k.state(now) == "retired" and k.retired_at is not None and now >= k.retired_at + self.lifetime:
                continue
            out.append(hub_jwk(self._private_key(k.kid).public_key(), k.kid))
        return out

    def describe(self, now: float | None = None) -> list[dict[str, Any]]:
        """The ring as ``hub-keys list`` shows it (no key material)."""
        keys = self.keys()
        now = _now() if now is None else now
        return [{"kid": k.kid, "state": k.state(now), "created": _iso(k.created), "activates_at": _iso(k.activates_at),
                 "retired_at": _iso(k.retired_at),
                 "published_until": _iso(k.retired_at + self.lifetime) if k.retired_at is not None else None}
                for k in keys]

    # -- changing ------------------------------------------------------------------------------

    def rotate(self, now: float | None = None) -> dict[str, Any]:
        """Add a ``next`` key, active after the publish lead; the current active key retires then.
        Refused (ValueError) while a ``next`` key is still waiting."""
        now = _now() if now is None else now
        with self._lock:
            keys = self.keys()
            if any(k.state(now) == "next" for k in keys):
                raise ValueError("a next key is already waiting to become active; rotate again after it is active")
            activates = now + self.lead
            kid = self._new_private_key(now)
            keys = [HubKey(k.kid, k.created, k.activates_at, activates if k.retired_at is None else k.retired_at)
                    for k in keys] + [HubKey(kid, now, activates, None)]
            self._write(keys, now)
        return next(d for d in self.describe(now) if d["kid"] == kid)

    def _create_first(self) -> None:
        with self._lock:
            if self.path.exists():
                return
            now = _now()
            kid = self._new_private_key(now)
            self._write([HubKey(kid, now, now, None)], now, exclusive=True)

    def _new_private_key(self, now: float) -> str:
        kid = f"hub-{datetime.fromtimestamp(now, timezone.utc):%Y%m%d}-{secrets.token_hex(4)}"
        pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        generated_secret(self.directory / f"{kid}.pem", lambda: pem)
        return kid

    def _write(self, keys: list[HubKey], now: float, exclusive: bool = False) -> None:
        body = orjson.dumps({"keys": [{"kid": k.kid, "state": k.state(now), "created": _iso(k.created),
                                       "activates_at": _iso(k.activates_at), "retired_at": _iso(k.retired_at)}
                                      for k in keys]}, option=orjson.OPT_INDENT_2)
        if exclusive:  # the first ring: whichever process writes it first wins
            generated_secret(self.path, lambda: body)
            return
        write_private(self.path, body)
        self._seen = None

    def _private_key(self, kid: str) -> Ed25519PrivateKey:
        key = self._private.get(kid)
        if key is None:
            loaded = load_pem_private_key((self.directory / f"{kid}.pem").read_bytes(), password=None)
            assert isinstance(loaded, Ed25519PrivateKey)
            key = self._private[kid] = loaded
        return key
