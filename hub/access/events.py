"""Refused calls, sign-ins and sign-outs, recorded without slowing the request path.

The edge hands events to :class:`EventLog`, which writes them in batches from a background
thread (every ``interval`` seconds), together with the keys' ``last_used_at``. A crash loses at
most the last interval's events; ``flush`` writes what is pending at once (shutdown, tests).
The full access trail of every request comes with the audit issue; this is its first part.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import Engine, insert

from hub.access.keys import touch
from hub.store.queries import page_rows
from hub.store.tables import access_events

log = logging.getLogger(__name__)
EVENT_FIELDS = ("event", "reason", "partner_code", "key_id", "account", "client_ip", "forwarded_for", "method", "path",
                "status", "user_agent")


class EventLog:
    """Buffers access events and key use; a daemon thread writes them and runs ``periodic`` tasks."""

    def __init__(self, engine: Engine, interval: float = 0.5, periodic: list[Callable[[], None]] | None = None) -> None:
        self.engine, self.interval = engine, interval
        self.periodic = list(periodic or [])
        self._events: list[dict[str, Any]] = []
        self._used: dict[int, float] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lienthong-access-events", daemon=True)
        self._thread.start()  # from the start: the periodic tasks (policy refresh) need it too

    def close(self) -> None:
        """Write what is pending and stop the thread (the app's shutdown)."""
        self._stop.set()
        self.flush()

    def record(self, event: str, *, reason: str = "", client_ip: str = "", forwarded_for: str = "", method: str = "",
               path: str = "", status: int = 0, user_agent: str = "", partner_code: str | None = None,
               key_id: int | None = None, account: str | None = None) -> None:
        """Queue one event (``refused``, ``login``, ``login_failed``, ``logout``)."""
        row = {"at": datetime.now(timezone.utc), "event": event, "reason": reason, "partner_code": partner_code,
               "key_id": key_id, "account": account, "client_ip": client_ip, "forwarded_for": forwarded_for[:300],
               "method": method[:8], "path": path[:300], "status": status, "user_agent": user_agent[:300]}
        with self._lock:
            self._events.append(row)

    def used(self, key_id: int) -> None:
        """Note that ``key_id`` was used now (written as ``last_used_at`` within ``interval``)."""
        self._used[key_id] = time.time()

    def flush(self) -> None:
        """Write everything pending now."""
        with self._write_lock:
            with self._lock:
                events, self._events = self._events, []
                used, self._used = self._used, {}
            try:
                if events:
                    with self.engine.begin() as conn:
                        conn.execute(insert(access_events), events)
                touch(self.engine, used)
            except Exception as exc:  # noqa: BLE001 - keep them for the next round rather than lose them
                log.warning("access events not written yet (%s); retrying", type(exc).__name__)
                with self._lock:
                    self._events[:0] = events
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


def list_events(engine: Engine, after_id: int = 0, limit: int = 100, event: str | None = None) -> list[dict[str, Any]]:
    """Recorded events in order, paged by id."""
    return [{"id": r.id, "at": r.at.isoformat(), **{f: getattr(r, f) for f in EVENT_FIELDS}}
            for r in page_rows(engine, access_events, after_id, limit, event=event)]
