"""A circuit breaker per destination, shared by every worker through Redis.

Hand-written (a dozen lines of Redis) because the libraries at hand keep breaker state per process
or lack an atomic shared store: after ``threshold`` consecutive failed calls the circuit opens for
``open_seconds``; the first call after that is the trial: success closes it, failure reopens it.
"""

from __future__ import annotations

import time

from redis import Redis

#: What :meth:`Breaker.state` says: calls flow; calls are held; the next call is the trial.
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class Breaker:
    """Consecutive-failure breaker for one destination."""

    def __init__(self, redis: Redis, destination: str, threshold: int, open_seconds: float) -> None:
        self.redis = redis
        self.key = f"lienthong:breaker:{destination}"
        self.threshold = threshold
        self.open_seconds = open_seconds

    def open_until(self) -> float:
        """Epoch seconds until which calls are held; 0 when the circuit is closed."""
        value = self.redis.hget(self.key, "open_until")
        until = float(value) if value else 0.0
        return until if until > time.time() else 0.0

    def state(self) -> str:
        """:data:`CLOSED`, :data:`OPEN` (calls held until ``open_until``) or :data:`HALF_OPEN` (the open
        time is over and the next call is the trial), read in one round trip."""
        failures, until = self.redis.hmget(self.key, ["failures", "open_until"])
        if until and float(until) > time.time():
            return OPEN
        return HALF_OPEN if failures and int(failures) >= self.threshold else CLOSED

    def success(self) -> None:
        self.redis.hset(self.key, mapping={"failures": 0, "open_until": 0})

    def failure(self) -> bool:
        """Count a failed call; True if this opened (or reopened) the circuit."""
        failures = self.redis.hincrby(self.key, "failures", 1)
        if failures >= self.threshold:
            self.redis.hset(self.key, "open_until", time.time() + self.open_seconds)
            return True
        return False
