"""The access log's writer: records are queued by the request path and written in batches.

The edge hands each finished request's record to :class:`AccessLog`; a daemon thread hands the
queue every ``interval`` seconds to the intake's writer (``attach``: the child process that
writes intake, so the API process spends no CPU on the insert; measured in
``docs/PERFORMANCE.md``: inserting in the API process doubled intake's p99), or writes it itself
when none is attached, together with the keys' ``last_used_at``, and runs the process's
``periodic`` tasks (the rate-limit policy refresh). The request path only appends to a list.
``flush`` writes what is pending at once (shutdown, tests). Records are never updated here: the
sealer (``hub/audit/seal.py``) chains them.

Under pressure (the database refuses or cannot be reached):

- a record to *keep* (``add(..., keep=True)``: an admitted caller, people's routes, look-ups, see
  ``hub/audit/recording.py``) is never dropped: the failed batch's kept records go to the spill
  file (:mod:`hub.audit.spill`, fsynced before the batch counts as handled); while anything is
  spilled, new kept records go straight after them, and every round first replays the spill
  (this process's, and files left by dead processes), in order, before writing anything new;
- anonymous noise is held in memory, at most ``max_held`` records; beyond that the oldest noise
  is shed and counted (``lienthong_audit_records_shed_total``). Kept records are never shed; if
  even the spill fails (disk full), they stay in memory and the error is logged;
- replay is idempotent: a record whose request id is already stored (within the chunk's time
  span) is skipped, so a batch that timed out through the writer but committed later, or a replay
  that died before removing its file, is not written twice.

A crash loses at most the last interval's records (and the anonymous ones held in memory).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, Coroutine

from prometheus_client import Counter, Gauge
from sqlalchemy import Engine, select

from hub.access.keys import touch
from hub.audit.spill import Spill
from hub.store.intake import insert_rows
from hub.store.tables import access_records

log = logging.getLogger(__name__)
SINK_TIMEOUT = 30.0  # seconds a batch may take through the attached writer before it is spilled or held
MAX_HELD = 200_000  # anonymous records held in memory while the database is unreachable (audit_buffer_records)
COLUMNS = tuple(str(c.name) for c in access_records.columns if c.name not in ("id", "seq", "chain_hash"))
SHED = Counter("lienthong_audit_records_shed", "Anonymous access records (no admitted caller) dropped because too "
               "many waited in memory while the database was down")
HELD = Gauge("lienthong_audit_records_held", "Access records waiting in this process's memory for the database")


class AccessLog:
    """Buffers access records and key use; a daemon thread writes them and runs ``periodic`` tasks."""

    def __init__(self, engine: Engine, interval: float = 0.5, periodic: list[Callable[[], None]] | None = None,
                 spill_dir: Path | None = None, max_held: int = MAX_HELD) -> None:
        self.engine, self.interval, self.max_held = engine, interval, max_held
        self.periodic = list(periodic or [])
        self.spill = Spill(spill_dir) if spill_dir is not None else None
        self.shed = 0
        self._sink: tuple[asyncio.AbstractEventLoop, Callable[[list[dict[str, Any]]], Coroutine[Any, Any, None]]] | None = None
        self._records: list[tuple[bool, dict[str, Any]]] = []  # (keep, record), oldest first
        self._used: dict[int, float] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lienthong-access-log", daemon=True)
        self._thread.start()  # from the start: the periodic tasks (policy refresh) need it too

    def attach(self, loop: asyncio.AbstractEventLoop, sink: Callable[[list[dict[str, Any]]], Coroutine[Any, Any, None]]) -> None:
        """Write through ``sink`` (a coroutine function run on ``loop``) instead of the engine."""
        self._sink = (loop, sink)

    async def aclose(self) -> None:
        """Write what is pending (directly) and stop the thread (the app's shutdown, on the attached loop:
        the flush runs in a thread so that a batch already on its way through the sink can finish)."""
        self._stop.set()
        self._sink = None
        await asyncio.to_thread(self.flush)

    def add(self, record: dict[str, Any], keep: bool = True) -> None:
        """Queue one complete ``access_records`` row (every column but id, seq and chain_hash).

        ``keep``: never drop it (spill it while the database is down); False: anonymous noise that
        may be shed when more than ``max_held`` records wait in memory."""
        with self._lock:
            self._records.append((keep, record))

    def used(self, key_id: int) -> None:
        """Note that ``key_id`` was used now (written as ``last_used_at`` within ``interval``)."""
        self._used[key_id] = time.time()

    @property
    def held(self) -> int:
        """Records waiting in memory."""
        return len(self._records)

    def flush(self) -> None:
        """Replay the spill, then write everything pending; what fails is spilled or held (module docstring)."""
        with self._write_lock:
            with self._lock:
                pending, self._records = self._records, []
                used, self._used = self._used, {}
            if self.spill is not None and not self.spill.replay(lambda chunk: replay_records(self.engine, chunk)):
                self._hold(pending)  # the database is still down: after the spilled ones, in order
            elif pending:
                records = [record for _, record in pending]
                try:
                    sink = self._sink
                    if sink is None:
                        write_records(self.engine, records)
                    else:
                        asyncio.run_coroutine_threadsafe(sink[1](records), sink[0]).result(SINK_TIMEOUT)
                except Exception as exc:  # noqa: BLE001 - spill or hold them rather than lose them
                    log.warning("access records not written yet (%s); retrying", type(exc).__name__)
                    self._hold(pending)
            HELD.set(len(self._records))
            if used:
                try:
                    touch(self.engine, used)
                except Exception as exc:  # noqa: BLE001 - last use is a hint: keep it for the next round
                    log.warning("keys' last use not written yet (%s); retrying", type(exc).__name__)
                    with self._lock:
                        for key_id, at in used.items():
                            self._used.setdefault(key_id, at)

    def _hold(self, pending: list[tuple[bool, dict[str, Any]]]) -> None:
        """A batch the database did not take: kept records to the spill, the rest back to memory (bounded)."""
        keep = [record for k, record in pending if k]
        if keep and self.spill is not None:
            try:
                self.spill.append(keep)
                pending = [(k, record) for k, record in pending if not k]
            except OSError as exc:
                log.error("access records could not be spilled to %s (%s): %d held in memory", self.spill.folder,
                          type(exc).__name__, len(keep))
        with self._lock:
            self._records[:0] = pending
            excess = len(self._records) - self.max_held
            if excess > 0:
                kept: list[tuple[bool, dict[str, Any]]] = []
                for item in self._records:  # the oldest anonymous records go first; kept ones never
                    if excess > 0 and not item[0]:
                        excess -= 1
                        self.shed += 1
                        SHED.inc()
                    else:
                        kept.append(item)
                self._records = kept
                log.error("access log over %d records while the database is down: %d anonymous records shed so far",
                          self.max_held, self.shed)

    def _run(self) -> None:
        failing: set[str] = set()  # tasks whose failure was logged: once per outage, not every interval
        while not self._stop.wait(self.interval):
            self.flush()
            for task in self.periodic:
                name = getattr(task, "__name__", repr(task))
                try:
                    task()
                except Exception as exc:  # noqa: BLE001 - a periodic task failing must not stop the others
                    if name not in failing:
                        failing.add(name)
                        log.warning("periodic task %s failed: %s (logged once until it succeeds)", name,
                                    type(exc).__name__)
                else:
                    if name in failing:
                        failing.discard(name)
                        log.info("periodic task %s works again", name)


def write_records(engine: Engine, records: list[dict[str, Any]]) -> None:
    """Insert access records (complete rows) in one transaction."""
    with engine.begin() as conn:
        insert_rows(conn, access_records, records)


def replay_records(engine: Engine, records: list[dict[str, Any]]) -> int:
    """Insert spilled ``records`` (in order) but those already stored, in one transaction; returns how
    many were inserted. "Already stored": the same request id (the hub's own, unique per request) at
    a time within the chunk's span, found through the ``at`` index."""
    rows: list[dict[str, Any]] = [{name: record.get(name) for name in COLUMNS} for record in records]
    t = access_records.c
    with engine.begin() as conn:
        present = set(conn.execute(select(t.request_id).where(
            t.at >= min(r["at"] for r in rows), t.at <= max(r["at"] for r in rows),
            t.request_id.in_({r["request_id"] for r in rows}))).scalars())
        fresh = [r for r in rows if r["request_id"] not in present]
        if fresh:
            insert_rows(conn, access_records, fresh)
    return len(fresh)
