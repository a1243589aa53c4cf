"""Partner identity: registered partners and their API keys (stored only as keyed hashes).

A key looks like ``lt_live_<43 url-safe chars>``; the recognisable prefix makes a leaked key easy to
grep for. The database holds ``HMAC-SHA256(pepper, key)`` and the first characters for display.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from threading import Lock

from sqlalchemy import Engine, insert, select

from hub.store.engine import reading
from hub.store.tables import api_keys, partners

KEY_PREFIX = "lt_live_"
MISS = object()  # KeyCache.cached(): not in the cache
PARTNER_KINDS = ("one_stop", "national_portal", "payment_platform", "postal", "population_db", "ministry_app", "operator")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the partner behind a valid key."""

    partner_code: str
    partner_kind: str
    key_id: int

    @property
    def is_operator(self) -> bool:
        return self.partner_kind == "operator"


def hash_key(key: str, pepper: str) -> str:
    """The stored form of an API key."""
    return hmac.new(pepper.encode(), key.encode(), hashlib.sha256).hexdigest()


def add_partner(engine: Engine, code: str, name: str, kind: str, agency_id: str | None = None) -> int:
    """Register a partner; returns its id."""
    if kind not in PARTNER_KINDS:
        raise ValueError(f"kind must be one of {', '.join(PARTNER_KINDS)}")
    with engine.begin() as conn:
        return conn.execute(
            insert(partners).values(
                code=code, name=name, kind=kind, agency_id=agency_id, active=True, created_at=datetime.now(timezone.utc)
            )
        ).inserted_primary_key[0]


def issue_key(engine: Engine, partner_code: str, pepper: str, label: str = "") -> str:
    """Create a key for ``partner_code`` and return it in clear: the only time it is ever shown."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        partner_id = conn.execute(select(partners.c.id).where(partners.c.code == partner_code)).scalar_one_or_none()
        if partner_id is None:
            raise LookupError(f"no partner {partner_code!r}")
        conn.execute(
            insert(api_keys).values(
                partner_id=partner_id,
                key_hash=hash_key(key, pepper),
                prefix=key[: len(KEY_PREFIX) + 4],
                label=label,
                created_at=datetime.now(timezone.utc),
            )
        )
    return key


def list_partners(engine: Engine) -> list[dict[str, object]]:
    """Every partner with its key count."""
    with reading(engine) as conn:
        rows = conn.execute(select(partners).order_by(partners.c.code)).all()
    return [{"code": r.code, "name": r.name, "kind": r.kind, "agency_id": r.agency_id, "active": r.active} for r in rows]


class KeyCache:
    """Resolves presented keys to principals, caching each answer for ``ttl`` seconds.

    The cache keeps the request path off the database; a revoked key stops working within two ``ttl``.
    """

    def __init__(self, engine: Engine, pepper: str, ttl: float = 1.0) -> None:
        self._engine, self._pepper, self._ttl = engine, pepper, ttl
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._lock = Lock()

    def cached(self, key: str) -> Principal | None | object:
        """The cached answer for ``key`` (a principal or None), or ``MISS``; never touches the database.

        When an entry has just expired, one caller gets ``MISS`` (and reloads it) while the others
        keep the previous answer for up to one more ``ttl``: no stampede on the database.
        """
        digest = hash_key(key, self._pepper)
        hit = self._entries.get(digest)
        if hit is None:
            return MISS
        now = time.monotonic()
        if hit[0] > now:
            return hit[1]
        with self._lock:
            if self._entries.get(digest) is hit and hit[0] + self._ttl > now:
                self._entries[digest] = (now + self._ttl, hit[1])  # others: keep using it meanwhile
                return MISS  # this caller reloads
        return hit[1] if hit[0] + self._ttl > now else MISS

    def resolve(self, key: str) -> Principal | None:
        """The principal for ``key``, or None if the key is unknown, revoked or its partner inactive."""
        found = self.cached(key)
        return self.reload(key) if found is MISS else found  # type: ignore[return-value]

    def reload(self, key: str) -> Principal | None:
        """Read ``key`` from the database and cache the answer for ``ttl`` seconds."""
        digest = hash_key(key, self._pepper)
        now = time.monotonic()
        principal = self._load(digest)
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[digest] = (now + self._ttl, principal)
        return principal

    def _load(self, digest: str) -> Principal | None:
        with reading(self._engine) as conn:
            row = conn.execute(
                select(api_keys.c.id, api_keys.c.revoked_at, partners.c.code, partners.c.kind, partners.c.active)
                .join(partners, partners.c.id == api_keys.c.partner_id)
                .where(api_keys.c.key_hash == digest)
            ).first()
        if row is None or row.revoked_at is not None or not row.active:
            return None
        return Principal(row.code, row.kind, row.id)
