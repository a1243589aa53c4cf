"""The periodic review the regulations ask for: keys and accounts unused for N days, and disabling them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select

from hub.access.accounts import update_account
from hub.access.keys import revoke_key
from hub.store.engine import reading
from hub.store.tables import accounts, api_keys, partners


def unused(engine: Engine, days: int) -> dict[str, list[dict[str, Any]]]:
    """Working keys and active accounts not used (or never used) for ``days`` days.

    A key never used counts from its creation; an account never signed in, from its creation.
    """
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    with reading(engine) as conn:
        keys = conn.execute(
            select(api_keys.c.id, api_keys.c.prefix, api_keys.c.label, api_keys.c.created_at, api_keys.c.last_used_at,
                   partners.c.code)
            .join(partners, partners.c.id == api_keys.c.partner_id)
            .where(api_keys.c.revoked_at.is_(None),
                   or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > datetime.now(timezone.utc)),
                   func.coalesce(api_keys.c.last_used_at, api_keys.c.created_at) < cutoff)
            .order_by(api_keys.c.id)
        ).all()
        people = conn.execute(
            select(accounts.c.username, accounts.c.role, accounts.c.created_at, accounts.c.last_login_at)
            .where(and_(accounts.c.state == "active",
                        func.coalesce(accounts.c.last_login_at, accounts.c.created_at) < cutoff))
            .order_by(accounts.c.username)
        ).all()
    return {
        "keys": [{"id": k.id, "partner": k.code, "prefix": k.prefix, "label": k.label,
                  "last_used_at": k.last_used_at.isoformat() if k.last_used_at else None,
                  "created_at": k.created_at.isoformat()} for k in keys],
        "accounts": [{"username": a.username, "role": a.role,
                      "last_login_at": a.last_login_at.isoformat() if a.last_login_at else None,
                      "created_at": a.created_at.isoformat()} for a in people],
    }


def disable_unused(engine: Engine, days: int, *, actor: str, client_ip: str = "") -> dict[str, list[Any]]:
    """Revoke the keys and disable the accounts :func:`unused` lists; each is an admin action."""
    found = unused(engine, days)
    for key in found["keys"]:
        revoke_key(engine, key["id"], actor=actor, client_ip=client_ip)
    for account in found["accounts"]:
        update_account(engine, account["username"], {"state": "disabled"}, actor=actor, client_ip=client_ip)
    return {"revoked_keys": [k["id"] for k in found["keys"]], "disabled_accounts": [a["username"] for a in found["accounts"]]}
