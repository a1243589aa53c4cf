"""The relay: the outbox's safety net, sweeping the database on a short interval.

Each sweep (1) takes back deliveries whose worker lease expired (the worker died mid-send) and
(2) queues a drain job for every destination with due work: messages accepted while Redis was
down, retries whose backoff has passed, deliveries held by an open circuit. Sweeps are idempotent,
so every worker process may run one.
"""

from __future__ import annotations

import logging
import threading

from redis.exceptions import RedisError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from hub.queue.signal import Notifier
from hub.store import outbox

log = logging.getLogger(__name__)


def sweep(engine: Engine, notifier: Notifier) -> list[str]:
    """One pass; returns the destinations it woke up."""
    reclaimed = outbox.reclaim_expired(engine)
    if reclaimed:
        log.warning("relay took back %d deliveries from a dead worker", reclaimed)
    due = outbox.due_destinations(engine)
    if due and notifier.notify(due):
        return due
    return []


class Relay(threading.Thread):
    """Runs :func:`sweep` every ``interval`` seconds until stopped; errors are logged, never fatal."""

    def __init__(self, engine: Engine, notifier: Notifier, interval: float) -> None:
        super().__init__(name="relay", daemon=True)
        self.engine, self.notifier, self.interval = engine, notifier, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                sweep(self.engine, self.notifier)
            except (RedisError, SQLAlchemyError, OSError) as exc:
                log.warning("relay sweep failed, will retry: %s", type(exc).__name__)

    def stop(self) -> None:
        self.stopped.set()
