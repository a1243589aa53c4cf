"""API keys: issue (secret shown once), list, change, rotate with a grace period, revoke.

Keys are stored only as keyed hashes (``hub.access.tokens``). A key works while it is not
revoked, not expired and its partner is active, from an address its own allowlist and its
partner's allowlist both accept, within its scopes. Every change is an admin action.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, func, insert, or_, select, update

from hub.access import actions
from hub.access.networks import parse_networks
from hub.access.principal import Principal
from hub.access.scopes import Scopes, default_scopes, parse_scopes
from hub.access.tokens import KEY_PREFIX, digest, display_prefix, new_secret
from hub.messages import MESSAGE_TYPES
from hub.store.engine import reading
from hub.store.tables import api_keys, partners


def _now() -> datetime:
    return datetime.now(timezone.utc)


def key_view(r: Any) -> dict[str, Any]:
    """A key as lists and admin actions show it: never the secret or its hash."""
    now = _now()
    state = ("revoked" if r.revoked_at else "expired" if r.expires_at and r.expires_at <= now else "active")
    return {"id": r.id, "partner": r.code, "prefix": r.prefix, "label": r.label, "state": state,
            "scopes": orjson.loads(r.scopes), "allowed_ips": orjson.loads(r.allowed_ips),
            "created_at": r.created_at.isoformat(), "expires_at": r.expires_at.isoformat() if r.expires_at else None,
            "last_used_at": r.last_used_at.isoformat() if r.last_used_at else None,
            "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None, "replaced_by": r.replaced_by}


def _select() -> Any:
    return select(api_keys, partners.c.code, partners.c.kind).join(partners, partners.c.id == api_keys.c.partner_id)


def issue_key(engine: Engine, partner_code: str, pepper: str, label: str = "", *, scopes: dict[str, Any] | None = None,
              expires_at: datetime | None = None, allowed_ips: list[str] | None = None, actor: str = "system",
              client_ip: str = "") -> str:
    """Create a key and return it in clear: the only time it is ever shown.

    LookupError if the partner does not exist; ValueError for bad scopes, allowlist or expiry.
    """
    key, _ = issue_key_with_view(engine, partner_code, pepper, label, scopes=scopes, expires_at=expires_at,
                                 allowed_ips=allowed_ips, actor=actor, client_ip=client_ip)
    return key


def issue_key_with_view(engine: Engine, partner_code: str, pepper: str, label: str = "", *,
                        scopes: dict[str, Any] | None = None, expires_at: datetime | None = None,
                        allowed_ips: list[str] | None = None, actor: str = "system",
                        client_ip: str = "") -> tuple[str, dict[str, Any]]:
    """As :func:`issue_key`, also returning the new key's view."""
    with engine.begin() as conn:
        key, view = _insert_key(conn, partner_code, pepper, label, scopes, expires_at, allowed_ips)
        actions.record(conn, actor, "key.issue", f"key:{view['id']}@{partner_code}", None, view, client_ip)
    return key, view


def _insert_key(conn: Connection, partner_code: str, pepper: str, label: str, scopes: dict[str, Any] | None,
                expires_at: datetime | None, allowed_ips: list[str] | None) -> tuple[str, dict[str, Any]]:
    """Insert a new key inside the caller's transaction; its secret and view."""
    if expires_at is not None and expires_at <= _now():
        raise ValueError("expires_at: must be in the future")
    parse_networks(allowed_ips or [])
    partner = conn.execute(select(partners.c.id, partners.c.kind).where(partners.c.code == partner_code)).first()
    if partner is None:
        raise LookupError(f"no partner {partner_code!r}")
    parsed = parse_scopes(scopes, partner.kind, MESSAGE_TYPES)
    key = new_secret(KEY_PREFIX)
    inserted = conn.execute(insert(api_keys).values(
        partner_id=partner.id, key_hash=digest(key, pepper), prefix=display_prefix(key), label=label,
        scopes=orjson.dumps(parsed.as_json()).decode(), allowed_ips=orjson.dumps(allowed_ips or []).decode(),
        created_at=_now(), expires_at=expires_at,
    )).inserted_primary_key
    assert inserted is not None  # a single-row INSERT always has one
    key_id = inserted[0]
    return key, key_view(conn.execute(_select().where(api_keys.c.id == key_id)).one())


def list_keys(engine: Engine, partner_code: str | None = None) -> list[dict[str, Any]]:
    query = _select().order_by(api_keys.c.id)
    if partner_code:
        query = query.where(partners.c.code == partner_code)
    with reading(engine) as conn:
        return [key_view(r) for r in conn.execute(query).all()]


def active_counts(engine: Engine) -> dict[str, int]:
    """Partner code -> how many of its keys work now (not revoked, not expired); partners without one are absent."""
    now = _now()
    query = (select(partners.c.code, func.count(api_keys.c.id)).join(partners, partners.c.id == api_keys.c.partner_id)
             .where(api_keys.c.revoked_at.is_(None), or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > now))
             .group_by(partners.c.code))
    with reading(engine) as conn:
        return {code: n for code, n in conn.execute(query).all()}


def update_key(engine: Engine, key_id: int, changes: dict[str, Any], *, actor: str, client_ip: str = "") -> dict[str, Any]:
    """Change a key's label, scopes, allowlist or expiry (``expires_at`` None: never)."""
    with engine.begin() as conn:
        row = conn.execute(_select().where(api_keys.c.id == key_id)).first()
        if row is None:
            raise LookupError(f"no key {key_id}")
        values: dict[str, Any] = {}
        if "label" in changes:
            values["label"] = str(changes["label"])[:100]
        if "scopes" in changes:
            values["scopes"] = orjson.dumps(parse_scopes(changes["scopes"], row.kind, MESSAGE_TYPES).as_json()).decode()
        if "allowed_ips" in changes:
            parse_networks(changes["allowed_ips"])
            values["allowed_ips"] = orjson.dumps(changes["allowed_ips"]).decode()
        if "expires_at" in changes:
            values["expires_at"] = changes["expires_at"]
        if values:
            conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(**values))
        after = key_view(conn.execute(_select().where(api_keys.c.id == key_id)).one())
        actions.record(conn, actor, "key.update", f"key:{key_id}@{row.code}", key_view(row), after, client_ip)
    return after


def rotate_key(engine: Engine, key_id: int, pepper: str, grace_seconds: int, *, actor: str,
               client_ip: str = "") -> tuple[str, dict[str, Any]]:
    """Issue a successor with the same partner, label, scopes, allowlist and expiry; the old key keeps
    working for ``grace_seconds`` (0: stops now). One transaction: either both happen or neither.
    Returns the new secret (shown once) and its view."""
    if grace_seconds < 0:
        raise ValueError("grace_seconds: 0 or more")
    with engine.begin() as conn:
        row = conn.execute(_select().where(api_keys.c.id == key_id)).first()
        if row is None:
            raise LookupError(f"no key {key_id}")
        old = key_view(row)
        if old["state"] != "active":
            raise ValueError(f"key {key_id} is {old['state']}; only an active key can be rotated")
        key, view = _insert_key(conn, row.code, pepper, row.label, old["scopes"], row.expires_at, old["allowed_ips"])
        ends = _now() + timedelta(seconds=grace_seconds)
        conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(
            replaced_by=view["id"], expires_at=min(ends, row.expires_at) if row.expires_at else ends))
        after = key_view(conn.execute(_select().where(api_keys.c.id == key_id)).one())
        actions.record(conn, actor, "key.rotate", f"key:{view['id']}@{row.code}", old, view, client_ip)
        actions.record(conn, actor, "key.retire", f"key:{key_id}@{row.code}", old, after, client_ip)
    return key, view


def revoke_key(engine: Engine, key_id: int, *, actor: str, client_ip: str = "") -> dict[str, Any]:
    """Stop a key now (every hub process refuses it within a second)."""
    with engine.begin() as conn:
        row = conn.execute(_select().where(api_keys.c.id == key_id)).first()
        if row is None:
            raise LookupError(f"no key {key_id}")
        if row.revoked_at is None:
            conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=_now()))
        after = key_view(conn.execute(_select().where(api_keys.c.id == key_id)).one())
        actions.record(conn, actor, "key.revoke", f"key:{key_id}@{row.code}", key_view(row), after, client_ip)
    return after


def load_key_principal(engine: Engine, key_digest: str) -> Principal | tuple[str, int | None, str | None]:
    """The principal of a working key, or ``(reason, key_id, partner)`` saying why it does not work."""
    with reading(engine) as conn:
        row = conn.execute(
            select(api_keys.c.id, api_keys.c.revoked_at, api_keys.c.expires_at, api_keys.c.scopes, api_keys.c.allowed_ips,
                   partners.c.code, partners.c.kind, partners.c.state, partners.c.allowed_ips.label("partner_ips"),
                   partners.c.signatures)
            .join(partners, partners.c.id == api_keys.c.partner_id)
            .where(api_keys.c.key_hash == key_digest)
        ).first()
    if row is None:
        return ("unknown_key", None, None)
    if row.revoked_at is not None:
        return ("revoked", row.id, row.code)
    if row.state != "active":
        return ("partner_suspended", row.id, row.code)
    if row.expires_at is not None and row.expires_at <= _now():
        return ("expired", row.id, row.code)
    stored = orjson.loads(row.scopes)
    base = default_scopes(row.kind)  # keys issued before scopes existed (stored "{}") get their kind's defaults
    scopes = Scopes(tuple(stored.get("types", base.types)), tuple(stored.get("endpoints", base.endpoints)),
                    tuple(stored.get("lookups", base.lookups)))
    networks = (parse_networks(orjson.loads(row.partner_ips)), parse_networks(orjson.loads(row.allowed_ips)))
    return Principal(row.code, row.kind, row.id, scopes=scopes, networks=networks,
                     expires_at=row.expires_at.timestamp() if row.expires_at else None, signatures=row.signatures)


def touch(engine: Engine, used: dict[int, float]) -> None:
    """Record ``last_used_at`` for keys (key id → epoch seconds), batched by the event writer."""
    if not used:
        return
    with engine.begin() as conn:
        for key_id, at in used.items():
            conn.execute(update(api_keys).where(api_keys.c.id == key_id)
                         .values(last_used_at=datetime.fromtimestamp(at, timezone.utc)))
