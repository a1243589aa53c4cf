"""Delivery gauges for ``GET /metrics``, read from the database when Prometheus scrapes.

Read from the database, not counted in memory, so every API process reports the same figures
(the workers are separate processes, and in-memory counters would each see only their share).
Only deliveries not yet delivered are counted: the query reads the ``state`` index, so a scrape
stays cheap however many delivered rows the table holds.

- ``lienthong_deliveries{destination,state}``: deliveries ``pending``, ``retrying``, ``sending``
  (leased to a worker) and ``dead`` (waiting for an operator's replay);
- ``lienthong_delivery_lag_seconds{destination}``: how long the oldest delivery that is due has
  been waiting for a worker (0 when none is late). Alert when it grows: the workers are down or
  cannot keep up, or the partner's circuit is open.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime, timezone

from prometheus_client import Gauge
from sqlalchemy import Engine

from hub.store.queries import BACKLOG_STATES, backlog

BACKLOG = Gauge("lienthong_deliveries", "Deliveries not delivered yet, by destination and state "
                "(pending, retrying, sending, dead)", ["destination", "state"])
LAG = Gauge("lienthong_delivery_lag_seconds", "Seconds the oldest due delivery of a destination has waited "
            "for a worker (0: none late)", ["destination"])
COUNTED = BACKLOG_STATES
_lock = threading.Lock()
_seen: set[str] = set()  # destinations this process has reported: they keep reporting, at 0 when drained


def refresh_delivery_gauges(engine: Engine, now: datetime | None = None,
                            destinations: Iterable[str] = ()) -> dict[str, dict[str, int]]:
    """Set both gauges from the table; returns ``{destination: {state: count}}`` of what was counted.

    Every destination named (the routing table's) or seen gets every counted state, 0 when it has
    none, so a backlog that drains shows as 0 rather than vanishing from the scrape."""
    found = backlog(engine, now or datetime.now(timezone.utc))
    counts, lag = found.counts, found.lag
    with _lock:
        _seen.update(counts, destinations)
        for destination in _seen:
            for state in COUNTED:
                BACKLOG.labels(destination, state).set(counts.get(destination, {}).get(state, 0))
            LAG.labels(destination).set(lag.get(destination, 0.0))
    return counts

