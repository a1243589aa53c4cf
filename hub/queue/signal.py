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
import time
from typing import Iterable

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

log = logging.getLogger(__name__)

FLAG_TTL_SECONDS = 15
DRAIN_JOB = "hub.queue.jobs.drain"


def queue_name(destination: str) -> str:
    """The RQ queue of a destination."""
    return f"lienthong.{destination}"


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
