"""Admin actions are recorded with who, what, before and after, in the same transaction as the change."""

from __future__ import annotations

import getpass
from datetime import datetime, timezone
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, insert

from hub.audit.records import cli_record
from hub.store.queries import page_rows
from hub.store.tables import access_records, admin_actions


class AlreadyExists(LookupError):
    """Creating something whose name is taken (a partner code, a username)."""


def cli_actor() -> str:
    """The actor name for changes made with the ``lienthong`` CLI on the server."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli:unknown"


def record(conn: Connection, actor: str, action: str, target: str, before: Any = None, after: Any = None,
           client_ip: str = "") -> None:
    """Write one admin action; ``before``/``after`` must already be free of secrets.

    An action made with the CLI (actor ``cli:...``) also gets its access record here, since no HTTP
    request carries it; an action through the API is recorded with its request."""
    if actor.startswith("cli:"):
        conn.execute(insert(access_records).values(cli_record(actor, action, target)))
    conn.execute(insert(admin_actions).values(
        at=datetime.now(timezone.utc), actor=actor, client_ip=client_ip, action=action, target=target,
        before=None if before is None else orjson.dumps(before, default=str).decode(),
        after=None if after is None else orjson.dumps(after, default=str).decode(),
    ))


def list_actions(engine: Engine, after_id: int = 0, limit: int = 100, actor: str | None = None) -> list[dict[str, Any]]:
    """Admin actions in order, paged by id."""
    return [{"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "client_ip": r.client_ip, "action": r.action,
             "target": r.target, "before": orjson.loads(r.before) if r.before else None,
             "after": orjson.loads(r.after) if r.after else None}
            for r in page_rows(engine, admin_actions, after_id, limit, actor=actor)]
