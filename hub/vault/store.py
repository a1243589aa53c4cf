"""The credential vault: secrets the hub uses towards partners, encrypted in the database.

Admins set, replace and delete credentials (each change is an admin action whose before/after
hold metadata only); connectors read them with :func:`credential`. Nothing ever returns a value
to a person: not the admin API, not the CLI, not the logs.
"""

from __future__ import annotations

import builtins
import logging
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, inspect, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from hub.access import actions
from hub.config import Settings
from hub.runtime import engine_for
from hub.store.engine import make_engine, reading
from hub.store.fingerprints import record_rotation
from hub.store.tables import vault_secrets
from hub.vault.envelope import Sealed, WrongMasterKey, key_id, master_key, rewrap, seal, unseal
from hub.vault.names import check_name, well_known

log = logging.getLogger(__name__)
MAX_VALUE = 8192


class VaultMissing(LookupError):
    """A credential the hub needs is not in the vault."""

    def __init__(self, name: str) -> None:
        super().__init__(f"credential {name} is not set in the vault; an admin sets it with "
                         f"'lienthong credentials set {name}' or PUT /v1/admin/credentials/{name}")
        self.name = name


def _metadata(row: Any) -> dict[str, Any]:
    known = well_known().get(row.name)
    return {"name": row.name, "version": row.version, "master_key_id": row.master_key_id,
            "updated_at": row.updated_at.isoformat(), "updated_by": row.updated_by,
            "description": known.description if known else ""}


def _check_value(value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("value: must be a non-empty string")
    if len(value) > MAX_VALUE:
        raise ValueError(f"value: at most {MAX_VALUE} characters")
    return value


class Vault:
    """The vault in one database, opened with this process's master key."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self._master = master_key(settings)
        self.master_key_id = key_id(self._master)

    def put(self, name: str, value: str, *, actor: str, client_ip: str = "") -> dict[str, Any]:
        """Create or replace credential ``name``; returns its metadata (never the value)."""
        check_name(name)
        _check_value(value)
        now = datetime.now(timezone.utc)
        with self.engine.begin() as conn:
            row = conn.execute(select(vault_secrets).where(vault_secrets.c.name == name).with_for_update()).first()
            version = row.version + 1 if row else 1
            sealed = seal(self._master, name, version, value)
            values = dict(version=version, master_key_id=self.master_key_id, wrapped_key=sealed.wrapped_key,
                          ciphertext=sealed.ciphertext, updated_at=now, updated_by=actor[:80])
            if row:
                conn.execute(update(vault_secrets).where(vault_secrets.c.id == row.id).values(**values))
            else:
                conn.execute(insert(vault_secrets).values(name=name, created_at=now, **values))
            after = _metadata(conn.execute(select(vault_secrets).where(vault_secrets.c.name == name)).one())
            actions.record(conn, actor, "vault.set", f"credential:{name}", _metadata(row) if row else None, after,
                           client_ip)
        log.info("vault: credential %s set (version %d) by %s", name, version, actor)
        return after

    def get(self, name: str) -> str | None:
        """The value of credential ``name``, or None if it is not set. For the hub's own use only."""
        with reading(self.engine) as conn:
            row = conn.execute(select(vault_secrets).where(vault_secrets.c.name == name)).first()
        if row is None:
            return None
        if row.master_key_id != self.master_key_id:
            raise WrongMasterKey(row.master_key_id, self.master_key_id)
        return unseal(self._master, name, row.version, Sealed(row.wrapped_key, row.ciphertext))

    def require(self, name: str) -> str:
        """The value of credential ``name``; raises :class:`VaultMissing` if it is not set."""
        value = self.get(name)
        if value is None:
            raise VaultMissing(name)
        return value

    def list(self) -> list[dict[str, Any]]:
        """Every stored credential's metadata, by name (never a value)."""
        with reading(self.engine) as conn:
            rows = conn.execute(select(vault_secrets).order_by(vault_secrets.c.name)).all()
        return [_metadata(r) for r in rows]

    def missing(self) -> builtins.list[dict[str, str]]:  # ``list`` here is the method above
        """The well-known credentials not set yet, with what each is for."""
        stored = {m["name"] for m in self.list()}
        return [{"name": n, "description": k.description} for n, k in well_known().items() if n not in stored]

    def delete(self, name: str, *, actor: str, client_ip: str = "") -> dict[str, Any]:
        """Remove credential ``name``; returns the metadata it had. :class:`VaultMissing` if absent."""
        with self.engine.begin() as conn:
            row = conn.execute(select(vault_secrets).where(vault_secrets.c.name == name).with_for_update()).first()
            if row is None:
                raise VaultMissing(name)
            conn.execute(delete(vault_secrets).where(vault_secrets.c.id == row.id))
            before = _metadata(row)
            actions.record(conn, actor, "vault.delete", f"credential:{name}", before, None, client_ip)
        log.info("vault: credential %s deleted by %s", name, actor)
        return before

    def rewrap(self, new_master: bytes, *, actor: str) -> int:
        """Re-wrap every data key under ``new_master`` (32 bytes) in one transaction; the values'
        ciphertexts are untouched. Returns how many were re-wrapped (rows already under the new key
        are skipped, so a repeated run is harmless). This vault uses the new key afterwards, and so
        must every hub process at its next start: the stored fingerprint becomes the new key's."""
        if len(new_master) != 32:
            raise ValueError("new master key: expected 32 bytes")
        new_id = key_id(new_master)
        if new_id == self.master_key_id:
            raise ValueError(f"new master key: {new_id} is the master key in use")
        count = 0
        with self.engine.begin() as conn:
            rows = conn.execute(select(vault_secrets.c.id, vault_secrets.c.name, vault_secrets.c.master_key_id,
                                       vault_secrets.c.wrapped_key).with_for_update()).all()
            for row in rows:
                if row.master_key_id == new_id:
                    continue
                if row.master_key_id != self.master_key_id:
                    raise WrongMasterKey(row.master_key_id, self.master_key_id)
                conn.execute(update(vault_secrets).where(vault_secrets.c.id == row.id).values(
                    master_key_id=new_id, wrapped_key=rewrap(self._master, new_master, row.name, row.wrapped_key)))
                count += 1
            actions.record(conn, actor, "vault.rewrap", "vault", {"master_key_id": self.master_key_id},
                           {"master_key_id": new_id, "rewrapped": count})
            # The hub's processes compare their master key with this at start-up (hub/safety.py): the
            # new key is the one they must bring now. (The fingerprint is the key id.)
            record_rotation(conn, "vault_master_key", new_id, actor)
        log.info("vault: %d data keys re-wrapped from master key %s to %s by %s", count, self.master_key_id, new_id, actor)
        self._master, self.master_key_id = new_master, new_id
        return count


# --- for connectors ---------------------------------------------------------------------------

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_vaults: dict[tuple[str, str, str], Vault] = {}
_migrated: set[str] = set()


def _engine(settings: Settings) -> Engine | None:
    """The cached engine of ``settings``' database, or None while it has no vault table (not migrated)."""
    url = settings.effective_database_url
    with _lock:
        if url in _migrated:
            return _engines[url]
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            if not Path(parsed.database).exists():  # do not create an empty database file
                return None
        # No pool: vault reads are rare (a client's set-up, a callback), and a process that meets many
        # databases (the tests, a CLI) must not keep a connection open to each.
        engine = _engines.get(url) or _engines.setdefault(url, make_engine(url, poolclass=NullPool))
        if not inspect(engine).has_table(vault_secrets.name):
            return None
        _migrated.add(url)
        return engine


def vault_for(settings: Settings) -> Vault | None:
    """The process's vault for ``settings`` (cached per database and master key), or None before
    the database is migrated."""
    engine = _engine(settings)
    if engine is None:
        return None
    key = (settings.effective_database_url, settings.vault_master_key, str(settings.keys_dir))
    with _lock:
        if key not in _vaults:
            _vaults[key] = Vault(engine, settings)
        return _vaults[key]


def credential(settings: Settings, name: str, fallback: str | None = None) -> str | None:
    """Credential ``name`` from the vault; ``fallback`` when it is not set (the sandbox/test default
    in Settings). A vault sealed with another master key raises :class:`WrongMasterKey`."""
    vault = vault_for(settings)
    value = vault.get(name) if vault is not None else None
    return fallback if value is None else value


def seed_defaults(settings: Settings, actor: str = "sandbox") -> list[str]:
    """Put each well-known credential that is not set yet and has a sandbox fallback in its partner's
    settings into the vault (the sandbox's first run); returns the names it set."""
    from hub.plugins import partner_settings

    engine = engine_for(settings)
    try:
        vault = Vault(engine, settings)
        stored = {m["name"] for m in vault.list()}
        done = []
        for name, known in well_known().items():
            value = getattr(partner_settings(known.partner, settings), known.setting, None) if known.setting else None
            if name not in stored and isinstance(value, str) and value:
                vault.put(name, value, actor=actor)
                done.append(name)
        return done
    finally:
        engine.dispose()
