"""The access log's writer: records are queued by the request path and written in batches.

The edge hands each finished request's record to :class:`AccessLog`; a daemon thread hands the
queue every ``interval`` seconds to the intake's writer (``attach``: the child process that
writes intake, so the API process spends no CPU on the insert; measured in
``docs/PERFORMANCE.md``: inserting in the API process doubled intake's p99), or writes it itself
when none is attached, together with the keys' ``last_used_at``, and runs the process's
``periodic`` tasks (the rate-limit policy refresh). The request path only appends to a list. A crash loses at most the last interval's records; ``flush`` writes what
is pending at once (shutdown, tests). Records are never updated here: the sealer
(``hub/audit/seal.py``) chains them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any, Awaitable, Callable

from sqlalchemy import Engine

from hub.access.keys import touch
from hub.store.intake import insert_rows
from hub.store.tables import access_records

log = logging.getLogger(__name__)
SINK_TIMEOUT = 30.0  # seconds a batch may take through the attached writer before it is kept for the next round
MAX_QUEUE = 200_000  # records held while the database is unreachable; beyond it the oldest are counted, not kept


class AccessLog:
    """Buffers access records and key use; a daemon thread writes them and runs ``periodic`` tasks."""

    def __init__(self, engine: Engine, interval: float = 0.5, periodic: list[Callable[[], None]] | None = None) -> None:
        self.engine, self.interval = engine, interval
        self.periodic = list(periodic or [])
        self.dropped = 0
        self._sink: tuple[asyncio.AbstractEventLoop, Callable[[list[dict[str, Any]]], Awaitable[None]]] | None = None
        self._records: list[dict[str, Any]] = []
        self._used: dict[int, float] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lienthong-access-log", daemon=True)
        self._thread.start()  # from the start: the periodic tasks (policy refresh) need it too

    def attach(self, loop: asyncio.AbstractEventLoop, sink: Callable[[list[dict[str, Any]]], Awaitable[None]]) -> None:
        """Write through ``sink`` (a coroutine function run on ``loop``) instead of the engine."""
        self._sink = (loop, sink)

    async def aclose(self) -> None:
        """Write what is pending (directly) and stop the thread (the app's shutdown, on the attached loop:
        the flush runs in a thread so that a batch already on its way through the sink can finish)."""
        self._stop.set()
        self._sink = None
        await asyncio.to_thread(self.flush)

    def add(self, record: dict[str, Any]) -> None:
        """Queue one complete ``access_records`` row (every column but id, seq and chain_hash)."""
        with self._lock:
            self._records.append(record)

    def used(self, key_id: int) -> None:
        """Note that ``key_id`` was used now (written as ``last_used_at`` within ``interval``)."""
        self._used[key_id] = time.time()

    def flush(self) -> None:
        """Write everything pending now; on failure keep it for the next round."""
        with self._write_lock:
            with self._lock:
                records, self._records = self._records, []
                used, self._used = self._used, {}
            try:
                if records:
                    sink = self._sink
                    if sink is None:
                        write_records(self.engine, records)
                    else:
                        asyncio.run_coroutine_threadsafe(sink[1](records), sink[0]).result(SINK_TIMEOUT)
                touch(self.engine, used)
            except Exception as exc:  # noqa: BLE001 - keep them for the next round rather than lose them
                log.warning("access records not written yet (%s); retrying", type(exc).__name__)
                with self._lock:
                    self._records[:0] = records
                    if len(self._records) > MAX_QUEUE:
                        self.dropped += len(self._records) - MAX_QUEUE
                        log.error("access log queue full: %d records dropped so far", self.dropped)
                        del self._records[: len(self._records) - MAX_QUEUE]
                    for key_id, at in used.items():
                        self._used.setdefault(key_id, at)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()
            for task in self.periodic:
                try:
                    task()
                except Exception as exc:  # noqa: BLE001 - a periodic task failing must not stop the others
                    log.warning("periodic task %s failed: %s", getattr(task, "__name__", task), type(exc).__name__)


def write_records(engine: Engine, records: list[dict[str, Any]]) -> None:
    """Insert access records (complete rows) in one transaction."""
    with engine.begin() as conn:
        insert_rows(conn, access_records, records)
