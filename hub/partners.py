"""The partner registry: the systems that call the hub or receive from it.

A partner has a code (also the ``source`` of its messages), a name, an agency identifier, a kind
(one of :func:`hub.plugins.kinds`: those its manifests declare, and the hub's ``operator``),
contacts, an IP allowlist and a state (``active`` or ``suspended``; a suspended partner's keys
all stop working). Every change is recorded as an admin action.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson
from sqlalchemy import Engine, insert, select, update

from hub.access import actions
from hub.access.networks import parse_networks
from hub.plugins import kinds as partner_kinds
from hub.store.engine import reading
from hub.store.tables import partners

PARTNER_STATES = ("active", "suspended")
SIGNATURE_POLICIES = ("off", "optional", "required")  # HTTP message signatures: hub/signatures, docs/SIGNATURES.md


def _row(r: Any) -> dict[str, Any]:
    return {"code": r.code, "name": r.name, "kind": r.kind, "agency_id": r.agency_id, "state": r.state,
            "contacts": orjson.loads(r.contacts), "allowed_ips": orjson.loads(r.allowed_ips),
            "signatures": r.signatures, "created_at": r.created_at.isoformat(),
            "updated_at": r.updated_at.isoformat() if r.updated_at else None}


def add_partner(engine: Engine, code: str, name: str, kind: str, agency_id: str | None = None, *,
                contacts: list[dict[str, str]] | None = None, allowed_ips: list[str] | None = None,
                actor: str = "system", client_ip: str = "") -> dict[str, Any]:
    """Register a partner; ValueError for a bad kind, code or allowlist, AlreadyExists if the code is taken."""
    if kind not in partner_kinds():
        raise ValueError(f"kind must be one of {', '.join(partner_kinds())}")
    if not code or not code.replace("_", "").isalnum() or code != code.lower():
        raise ValueError("code: lower-case letters, digits and _ only")
    parse_networks(allowed_ips or [])
    with engine.begin() as conn:
        if conn.execute(select(partners.c.id).where(partners.c.code == code)).first():
            raise actions.AlreadyExists(f"partner {code!r} already exists")
        conn.execute(insert(partners).values(
            code=code, name=name, kind=kind, agency_id=agency_id, state="active",
            contacts=orjson.dumps(contacts or []).decode(), allowed_ips=orjson.dumps(allowed_ips or []).decode(),
            created_at=datetime.now(timezone.utc)))
        row = _row(conn.execute(select(partners).where(partners.c.code == code)).one())
        actions.record(conn, actor, "partner.add", f"partner:{code}", None, row, client_ip)
    return row


def update_partner(engine: Engine, code: str, changes: dict[str, Any], *, actor: str, client_ip: str = "") -> dict[str, Any]:
    """Change name, agency_id, contacts, allowed_ips, state or signatures (the signing policy);
    LookupError if no such partner."""
    values: dict[str, Any] = {}
    for name in ("name", "agency_id"):
        if name in changes:
            values[name] = changes[name]
    if "contacts" in changes:
        values["contacts"] = orjson.dumps(changes["contacts"]).decode()
    if "allowed_ips" in changes:
        parse_networks(changes["allowed_ips"])
        values["allowed_ips"] = orjson.dumps(changes["allowed_ips"]).decode()
    if "state" in changes:
        if changes["state"] not in PARTNER_STATES:
            raise ValueError(f"state must be one of {', '.join(PARTNER_STATES)}")
        values["state"] = changes["state"]
    if "signatures" in changes:
        if changes["signatures"] not in SIGNATURE_POLICIES:
            raise ValueError(f"signatures must be one of {', '.join(SIGNATURE_POLICIES)}")
        values["signatures"] = changes["signatures"]
    with engine.begin() as conn:
        before = conn.execute(select(partners).where(partners.c.code == code)).first()
        if before is None:
            raise LookupError(f"no partner {code!r}")
        if values:
            values["updated_at"] = datetime.now(timezone.utc)
            conn.execute(update(partners).where(partners.c.code == code).values(**values))
        after = _row(conn.execute(select(partners).where(partners.c.code == code)).one())
        actions.record(conn, actor, "partner.update", f"partner:{code}", _row(before), after, client_ip)
    return after


def get_partner(engine: Engine, code: str) -> dict[str, Any] | None:
    with reading(engine) as conn:
        row = conn.execute(select(partners).where(partners.c.code == code)).first()
    return _row(row) if row else None


def list_partners(engine: Engine) -> list[dict[str, Any]]:
    """Every partner."""
    with reading(engine) as conn:
        rows = conn.execute(select(partners).order_by(partners.c.code)).all()
    return [_row(r) for r in rows]
