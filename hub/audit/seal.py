"""The sealer: gives every access record its place ``seq`` in the hash chain and signs checkpoints.

Contract of :func:`seal` (one pass; any number of processes may call it at once):

- exactly one sealer works at a time: on PostgreSQL ``pg_advisory_xact_lock(SEAL_LOCK)`` inside
  each transaction, on SQLite the ``BEGIN IMMEDIATE`` transaction (one writer at a time);
- records are chained in id order, so ``seq`` and ``id`` grow together. A record is sealed once
  every record with a smaller id is: the pass takes the unsealed records in id order and stops at
  the first one younger than ``audit_seal_grace_seconds`` (its writer may be committing neighbours).
  On PostgreSQL ids are handed out before commit, so a smaller id may still be in flight while a
  larger one is visible; a short barrier (``LOCK TABLE ... IN SHARE MODE`` just to read
  ``max(id)``: it waits for the inserts in flight to commit) bounds the pass to ids that can no
  longer appear later. SQLite hands out rowids inside its single write lock, in commit order;
- chunks of ``CHUNK`` records, one transaction each, so a backlog never makes one huge transaction;
- then a checkpoint, signed with the audit key (:mod:`hub.audit.keys`) over RFC 8785 of
  ``{seq, chain_hash, at, key_id}``, when there is something new since the last one and either
  ``audit_checkpoint_records`` records or ``audit_checkpoint_seconds`` have passed (or ``force``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import rfc8785
from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from hub.audit.keys import load_key
from hub.audit.records import GENESIS, iso, link, record_dict
from hub.config import Settings
from hub.store.engine import reading
from hub.store.tables import access_records, audit_anchor, audit_checkpoints

log = logging.getLogger(__name__)
CHUNK = 5000
SEAL_LOCK = 0x6C69656E5345414C  # "lienSEAL": the advisory lock every sealer and archiver takes on PostgreSQL
BARRIER_LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class SealResult:
    """What a pass did: records sealed, the chain head after it, and the checkpoint written (seq) if any."""

    sealed: int
    head_seq: int
    head_hash: str
    checkpoint: int | None


def lock(conn: Connection) -> None:
    """Serialise sealers (and the archiver) for the rest of ``conn``'s transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(SEAL_LOCK)))
    # SQLite: the transaction began with BEGIN IMMEDIATE, which already excludes other writers.


def anchor(conn: Connection) -> tuple[int, str]:
    """Where the chain in the database starts: the anchor left by archiving, or (0, GENESIS)."""
    row = conn.execute(select(audit_anchor.c.seq, audit_anchor.c.chain_hash).where(audit_anchor.c.id == 1)).first()
    return (row.seq, row.chain_hash) if row else (0, GENESIS)


def head(conn: Connection) -> tuple[int, str]:
    """The last sealed record's (seq, chain_hash), or the anchor when none is left."""
    r = access_records.c
    row = conn.execute(select(r.seq, r.chain_hash).where(r.seq.is_not(None)).order_by(r.seq.desc()).limit(1)).first()
    return (row.seq, row.chain_hash) if row else anchor(conn)


def checkpoint_message(seq: int, chain_hash: str, at: datetime, key_id: str) -> bytes:
    """The bytes a checkpoint signature covers (the offline verifier rebuilds them the same way)."""
    return rfc8785.dumps({"seq": seq, "chain_hash": chain_hash, "at": iso(at), "key_id": key_id})


def checkpoint_view(row: Any) -> dict[str, Any]:
    """A checkpoint row as bundles and the verifier see it (``at`` as the chain writes it)."""
    return {"seq": row.seq, "chain_hash": row.chain_hash, "at": iso(row.at), "key_id": row.key_id,
            "signature": row.signature}


def chain_state(engine: Engine) -> dict[str, Any]:
    """Where the chain stands, for people to read: its ``head`` (seq, chain hash), its ``anchor``
    (where the database's part starts), the ``last_checkpoint`` (:func:`checkpoint_view`, or None) and
    how many records are ``unsealed`` yet. Each is one indexed look-up (``seq``; the unsealed backlog)."""
    r, cp = access_records.c, audit_checkpoints.c
    with reading(engine) as conn:
        top, tail = head(conn), anchor(conn)
        last = conn.execute(select(audit_checkpoints).order_by(cp.seq.desc()).limit(1)).first()
        unsealed = conn.execute(select(func.count()).select_from(access_records).where(r.seq.is_(None))).scalar() or 0
    return {"head": {"seq": top[0], "chain_hash": top[1]}, "anchor": {"seq": tail[0], "chain_hash": tail[1]},
            "last_checkpoint": checkpoint_view(last) if last is not None else None, "unsealed": unsealed}


def _settled_ids(engine: Engine) -> int | None:
    """PostgreSQL: the largest id no insert still in flight can undercut (None on SQLite: no need)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.begin() as conn:
        if conn.execute(select(access_records.c.id).where(access_records.c.seq.is_(None)).limit(1)).first() is None:
            return 0  # nothing to seal: no need to hold writers back even for a moment
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{BARRIER_LOCK_TIMEOUT}'")
        conn.exec_driver_sql(f"LOCK TABLE {access_records.name} IN SHARE MODE")
        return conn.execute(select(func.max(access_records.c.id))).scalar() or 0


def _seal_chunk(engine: Engine, cutoff: datetime, bound: int | None) -> tuple[int, bool, int, str]:
    """Seal up to CHUNK records; returns (sealed, more may follow, head seq, head hash)."""
    r = access_records.c
    with engine.begin() as conn:
        lock(conn)
        seq, chain = head(conn)
        query = select(access_records).where(r.seq.is_(None)).order_by(r.id).limit(CHUNK)
        if bound is not None:
            query = query.where(r.id <= bound)
        rows = conn.execute(query).all()
        updates = []
        for row in rows:
            if row.at >= cutoff:
                break
            seq += 1
            chain = link(chain, record_dict({**row._mapping, "seq": seq}))
            updates.append({"_id": row.id, "_seq": seq, "_hash": chain})
        if updates:
            conn.execute(update(access_records).where(r.id == bindparam("_id"))
                         .values(seq=bindparam("_seq"), chain_hash=bindparam("_hash")), updates)
    return len(updates), len(updates) == CHUNK, seq, chain


def _checkpoint(engine: Engine, settings: Settings, every: int, force: bool, now: datetime) -> int | None:
    cp = audit_checkpoints.c
    with engine.begin() as conn:
        lock(conn)
        seq, chain = head(conn)
        last = conn.execute(select(cp.seq, cp.at).order_by(cp.seq.desc()).limit(1)).first()
        if seq <= (last.seq if last else anchor(conn)[0]):
            return None
        due = (force or last is None or seq - last.seq >= every
               or (now - last.at).total_seconds() >= settings.audit_checkpoint_seconds)
        if not due:
            return None
        key = load_key(settings)
        conn.execute(insert(audit_checkpoints).values(
            seq=seq, chain_hash=chain, at=now, key_id=key.key_id,
            signature=key.sign(checkpoint_message(seq, chain, now, key.key_id))))
        return seq


def seal(engine: Engine, settings: Settings, checkpoint_every: int | None = None, *, force_checkpoint: bool = False,
         now: datetime | None = None) -> SealResult:
    """One pass: seal what is settled, then sign a checkpoint if one is due (see the module docstring).

    Idempotent: a second pass with nothing new seals nothing and signs nothing.
    ``checkpoint_every`` overrides ``audit_checkpoint_records``; ``force_checkpoint`` signs the head
    whenever it is not signed yet (exports end there).
    """
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(seconds=settings.audit_seal_grace_seconds)
    bound = _settled_ids(engine)
    every = checkpoint_every or settings.audit_checkpoint_records
    total, more, written = 0, True, None
    while more:
        sealed, more, seq, chain = _seal_chunk(engine, cutoff, bound)
        total += sealed
        if more:  # a backlog: sign along the way too, so archives and range checks have places to start
            written = _checkpoint(engine, settings, every, False, datetime.now(timezone.utc)) or written
    written = _checkpoint(engine, settings, every, force_checkpoint, datetime.now(timezone.utc)) or written
    if total:
        log.debug("sealed %d access records up to seq %d", total, seq)
    return SealResult(total, seq, chain, written)


class Sealer(threading.Thread):
    """Runs :func:`seal` every ``audit_seal_interval`` seconds until stopped; errors are logged, never fatal."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(name="audit-sealer", daemon=True)
        self.engine, self.settings = engine, settings
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.settings.audit_seal_interval):
            try:
                seal(self.engine, self.settings)
            except (SQLAlchemyError, OSError) as exc:  # database or key file unavailable for now
                log.warning("audit sealer pass failed, will retry: %s: %s", type(exc).__name__, exc)
            except Exception:  # noqa: BLE001 - e.g. a record RFC 8785 cannot encode: keep the thread, say it loudly
                log.exception("audit sealer pass failed, will retry")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the pass in progress (waits up to ``timeout`` seconds for it)."""
        self.stopped.set()
        if self.is_alive():
            self.join(timeout)
