"""Waking workers: put one "drain" job for a destination on its RQ queue, without flooding it.

Why a drain job and not one job per delivery: RQ spends some 50 Redis round trips on each job
(measured: about 150 jobs/s per worker on this class of machine), far below the hub's target. A
drain job instead claims due deliveries from the database in batches until none is left, so RQ's
cost is paid per burst, not per message. A Redis flag per destination (``SET NX``) keeps at most
one waiting drain job per destination; the job clears the flag when it starts, so work committed
after that start enqueues a fresh job.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Iterable

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

log = logging.getLogger(__name__)

FLAG_TTL_SECONDS = 15
DRAIN_JOB = "hub.queue.jobs.drain"


QUEUE = "lienthong.deliveries"


def queue_name(destination: str) -> str:
    """The RQ queue of a destination's drain jobs: one queue for every destination. The job names its
    destination, so a destination that appears at run time (a ministry adapter file, hub.seam.Member)
    is served without restarting the workers, and destinations take turns in the order they woke."""
    return QUEUE


def flag_key(destination: str) -> str:
    return f"lienthong:drain-queued:{destination}"


class Notifier:
    """Enqueues drain jobs; after a Redis failure it stays quiet for ``cooldown`` seconds.

    Redis being down never fails intake: the deliveries are committed, and the relay enqueues
    them once Redis is back. The quiet period bounds what an unreachable Redis costs the caller
    (at most one connect timeout per period, during which a group of requests waits).
    """

    def __init__(self, redis: Redis, cooldown: float = 5.0) -> None:
        self.redis = redis
        self.cooldown = cooldown
        self._quiet_until = 0.0

    def notify(self, destinations: Iterable[str]) -> bool:
        """Make sure a drain job waits for each destination; False if Redis could not be reached."""
        if time.monotonic() < self._quiet_until:
            return False
        try:
            for dest in destinations:
                if self.redis.set(flag_key(dest), 1, nx=True, ex=FLAG_TTL_SECONDS):
                    Queue(queue_name(dest), connection=self.redis).enqueue(
                        DRAIN_JOB, dest, result_ttl=0, failure_ttl=3600, job_timeout=300
                    )
            return True
        except (RedisError, OSError) as exc:
            self._quiet_until = time.monotonic() + self.cooldown
            log.warning("redis unreachable, relay will enqueue later: %s", type(exc).__name__)
            return False


class BackgroundNotifier:
    """Wakes workers from a thread of its own, so intake answers do not wait on Redis.

    ``wake`` only records the destinations; the thread sends them, coalescing everything that
    arrived meanwhile into one round of ``SET NX`` calls. A wake-up lost to a crash or to Redis
    being down costs latency, never a message: the deliveries are committed, and the relay
    enqueues due deliveries on its next sweep. (Measured: the Redis round trip was some 40% of
    the intake writer's time when done inline.)
    """

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self, destinations: Iterable[str]) -> None:
        """Have a drain job waiting for each destination soon."""
        with self._lock:
            self._pending.update(destinations)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="lienthong-notify", daemon=True)
                self._thread.start()
        self._event.set()

    def _run(self) -> None:
        while True:
            self._event.wait()
            self._event.clear()
            with self._lock:
                todo, self._pending = sorted(self._pending), set()
            if todo:
                self.notifier.notify(todo)
