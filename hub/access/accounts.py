"""People's accounts (admin, operator, auditor): own username and password, IP-restricted, and
sessions that a sign-in opens and a sign-out ends.

Passwords are hashed with Argon2id (argon2-cffi defaults: t=3, 64 MiB, 4 lanes); a sign-in's Argon2
work runs inside the process's ``ArgonSlots`` (``hub.access.signin``), and the limits on failed
sign-ins are ``SignInGuard``'s, not this module's: nothing here counts failures. A session token (``lt_sess_...``) is shown once
at sign-in and stored as a keyed hash, like API keys. Every account change is an admin action;
sign-ins, failed sign-ins and sign-outs are access events.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, insert, select, update

from hub.access import actions
from hub.access.networks import Network, allowed, parse_networks
from hub.access.principal import Principal
from hub.access.scopes import ROLES
from hub.access.signin import ArgonSlots
from hub.access.tokens import SESSION_PREFIX, digest, new_secret
from hub.store.engine import reading
from hub.store.tables import accounts, sessions

HASHER = PasswordHasher()
MIN_PASSWORD = 12
# Verified against when the username is unknown, so a failed sign-in takes as long either way.
_DUMMY_HASH = HASHER.hash("not-a-real-password-0")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def account_view(r: Any) -> dict[str, Any]:
    """An account as lists and admin actions show it: never the password hash."""
    return {"username": r.username, "display_name": r.display_name, "role": r.role, "state": r.state,
            "allowed_ips": orjson.loads(r.allowed_ips), "created_at": r.created_at.isoformat(),
            "last_login_at": r.last_login_at.isoformat() if r.last_login_at else None,
            "disabled_at": r.disabled_at.isoformat() if r.disabled_at else None}


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password: at least {MIN_PASSWORD} characters")


def add_account(engine: Engine, username: str, display_name: str, role: str, password: str, *,
                allowed_ips: list[str] | None = None, actor: str, client_ip: str = "") -> dict[str, Any]:
    """Create a person's account; ValueError for a bad role, password or allowlist, AlreadyExists if taken."""
    if role not in ROLES:
        raise ValueError(f"role: one of {', '.join(ROLES)}")
    if not username or not all(c.isalnum() or c in "._-" for c in username):
        raise ValueError("username: letters, digits, '.', '_' and '-' only")
    _check_password(password)
    parse_networks(allowed_ips or [])
    with engine.begin() as conn:
        if conn.execute(select(accounts.c.id).where(accounts.c.username == username)).first():
            raise actions.AlreadyExists(f"account {username!r} already exists")
        conn.execute(insert(accounts).values(
            username=username, display_name=display_name, role=role, password_hash=HASHER.hash(password),
            allowed_ips=orjson.dumps(allowed_ips or []).decode(), state="active", created_at=_now()))
        view = account_view(conn.execute(select(accounts).where(accounts.c.username == username)).one())
        actions.record(conn, actor, "account.add", f"account:{username}", None, view, client_ip)
    return view


def update_account(engine: Engine, username: str, changes: dict[str, Any], *, actor: str, client_ip: str = "") -> dict[str, Any]:
    """Change display name, role, allowlist, state (active/disabled) or password.

    Disabling an account ends its sessions.
    """
    values: dict[str, Any] = {}
    if "display_name" in changes:
        values["display_name"] = changes["display_name"]
    if "role" in changes:
        if changes["role"] not in ROLES:
            raise ValueError(f"role: one of {', '.join(ROLES)}")
        values["role"] = changes["role"]
    if "allowed_ips" in changes:
        parse_networks(changes["allowed_ips"])
        values["allowed_ips"] = orjson.dumps(changes["allowed_ips"]).decode()
    if "password" in changes:
        _check_password(changes["password"])
        values["password_hash"] = HASHER.hash(changes["password"])
    if "state" in changes:
        if changes["state"] not in ("active", "disabled"):
            raise ValueError("state: active or disabled")
        values["state"] = changes["state"]
        values["disabled_at"] = _now() if changes["state"] == "disabled" else None
    with engine.begin() as conn:
        row = conn.execute(select(accounts).where(accounts.c.username == username)).first()
        if row is None:
            raise LookupError(f"no account {username!r}")
        if values:
            conn.execute(update(accounts).where(accounts.c.id == row.id).values(**values))
        if values.get("state") == "disabled" or "password_hash" in values:
            conn.execute(update(sessions).where(sessions.c.account_id == row.id, sessions.c.ended_at.is_(None))
                         .values(ended_at=_now()))
        after = account_view(conn.execute(select(accounts).where(accounts.c.id == row.id)).one())
        change = sorted(set(changes) & {"display_name", "role", "allowed_ips", "password", "state"})
        actions.record(conn, actor, "account.update", f"account:{username}", account_view(row),
                       {**after, "changed": change}, client_ip)
    return after


def get_account(engine: Engine, username: str) -> dict[str, Any] | None:
    """One account's view, or None."""
    with reading(engine) as conn:
        row = conn.execute(select(accounts).where(accounts.c.username == username)).first()
    return account_view(row) if row else None


def list_accounts(engine: Engine) -> list[dict[str, Any]]:
    with reading(engine) as conn:
        return [account_view(r) for r in conn.execute(select(accounts).order_by(accounts.c.username)).all()]


def sign_in(engine: Engine, username: str, password: str, client_ip: str, user_agent: str, pepper: str,
            default_networks: tuple[Network, ...], hours: float, *, slots: ArgonSlots) -> tuple[str, dict[str, Any]] | str:
    """Open a session: ``(token, session view)``, or the reason it was refused
    (``unknown_account``, ``bad_password``, ``disabled``, ``ip``). The Argon2 work (the verification,
    against a dummy hash for an unknown name, and any rehash) runs in one of ``slots``; raises
    ``hub.access.signin.Busy`` if none frees in time."""
    with reading(engine) as conn:
        row = conn.execute(select(accounts).where(accounts.c.username == username)).first()
    rehashed = None
    with slots.hold():
        try:
            HASHER.verify(row.password_hash if row else _DUMMY_HASH, password)
            good = row is not None
        except (VerificationError, InvalidHashError):
            good = False
        if good and row is not None and HASHER.check_needs_rehash(row.password_hash):
            rehashed = HASHER.hash(password)
    if row is None:
        return "unknown_account"
    if not good:
        return "bad_password"
    if row.state != "active":
        return "disabled"
    if not allowed(client_ip, default_networks, parse_networks(orjson.loads(row.allowed_ips))):
        return "ip"
    token = new_secret(SESSION_PREFIX)
    now = _now()
    expires = now + timedelta(hours=hours)
    with engine.begin() as conn:
        conn.execute(insert(sessions).values(account_id=row.id, token_hash=digest(token, pepper), client_ip=client_ip,
                                             user_agent=user_agent[:300], created_at=now, expires_at=expires))
        conn.execute(update(accounts).where(accounts.c.id == row.id).values(last_login_at=now))
        if rehashed is not None:
            conn.execute(update(accounts).where(accounts.c.id == row.id).values(password_hash=rehashed))
    return token, {"username": row.username, "role": row.role, "expires_at": expires.isoformat()}


def sign_out_everywhere(engine: Engine, token_digest: str) -> tuple[str | None, list[str]]:
    """End every open session of the account that owns this session: ``(account, digests ended)``,
    so the caller can forget them from its credential cache at once."""
    with engine.begin() as conn:
        owner = conn.execute(select(sessions.c.account_id, accounts.c.username)
                             .join(accounts, accounts.c.id == sessions.c.account_id)
                             .where(sessions.c.token_hash == token_digest)).first()
        if owner is None:
            return None, []
        open_ = sessions.c.ended_at.is_(None)
        ended = [r.token_hash for r in conn.execute(select(sessions.c.token_hash).where(
            sessions.c.account_id == owner.account_id, open_))]
        conn.execute(update(sessions).where(sessions.c.account_id == owner.account_id, open_).values(ended_at=_now()))
    return owner.username, ended


def touch_session(engine: Engine, token_digest: str) -> None:
    """Note that the session was used now (its idle timeout starts again)."""
    with engine.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.token_hash == token_digest, sessions.c.ended_at.is_(None))
                     .values(last_seen_at=_now()))


def sign_out(engine: Engine, token_digest: str) -> bool:
    """End the session; False if it was not open."""
    with engine.begin() as conn:
        done = conn.execute(update(sessions).where(sessions.c.token_hash == token_digest, sessions.c.ended_at.is_(None))
                            .values(ended_at=_now()))
    return bool(done.rowcount)


def load_session_principal(engine: Engine, token_digest: str, default_networks: tuple[Network, ...],
                           idle_seconds: float | None = None) -> Principal | tuple[str, int | None, str | None]:
    """The principal of an open session, or ``(reason, None, account)`` saying why it does not work.

    The principal expires at the earlier of the absolute end (``session_hours`` after sign-in) and
    ``idle_seconds`` after the session was last used (:func:`touch_session`)."""
    with reading(engine) as conn:
        row = conn.execute(
            select(sessions.c.expires_at, sessions.c.ended_at, sessions.c.created_at, sessions.c.last_seen_at,
                   accounts.c.username, accounts.c.role, accounts.c.state, accounts.c.allowed_ips)
            .join(accounts, accounts.c.id == sessions.c.account_id)
            .where(sessions.c.token_hash == token_digest)
        ).first()
    if row is None:
        return ("unknown_session", None, None)
    if row.ended_at is not None:
        return ("session_ended", None, row.username)
    if row.state != "active":
        return ("disabled", None, row.username)
    ends = row.expires_at
    if idle_seconds is not None:
        ends = min(ends, (row.last_seen_at or row.created_at) + timedelta(seconds=idle_seconds))
    if ends <= _now():
        return ("expired", None, row.username)
    return Principal(None, None, account=row.username, role=row.role,
                     networks=(default_networks, parse_networks(orjson.loads(row.allowed_ips))),
                     expires_at=ends.timestamp())
