"""``/healthz``'s reading of the hub's dependencies, and a throttle for database-backed gauges.

Both exist so that callers who need no credential (a load balancer's health check, a scraper)
cannot turn their polling into database load: a reading is shared by every request within its age.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool

MAX_AGE = 1.0  # seconds: /healthz answers from a reading at most this old


class Health:
    """The database and Redis states, probed at most once per :data:`MAX_AGE` however often asked."""

    def __init__(self, engine: Engine, redis: Redis, max_age: float = MAX_AGE) -> None:
        self.engine, self.redis, self.max_age = engine, redis, max_age
        self.extra: dict[str, Callable[[], str]] = {}  # more named probes (e.g. payment callbacks)
        self._reading: dict[str, str] = {}
        self._at = float("-inf")
        self._lock = asyncio.Lock()

    async def reading(self) -> dict[str, str]:
        """The latest reading, probing again (once, for every waiting request) when it is too old."""
        if time.monotonic() - self._at < self.max_age:
            return self._reading
        async with self._lock:
            if time.monotonic() - self._at >= self.max_age:
                self._reading = await run_in_threadpool(self.probe)
                self._at = time.monotonic()
        return self._reading

    def probe(self) -> dict[str, str]:
        out = {}
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            out["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - report any failure as the dependency's state
            out["database"] = f"down: {type(exc).__name__}"
        try:
            self.redis.ping()
            out["redis"] = "ok"
        except (RedisError, OSError) as exc:
            out["redis"] = f"down: {type(exc).__name__} (intake continues; the relay catches up)"
        for name, check in self.extra.items():
            try:
                out[name] = check()
            except Exception as exc:  # noqa: BLE001 - a probe's failure is its state
                out[name] = f"down: {type(exc).__name__}"
        return out


class Throttle:
    """Runs a blocking function in a thread at most once per ``seconds``; calls in between skip it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = float("-inf")
        self._lock = asyncio.Lock()

    async def run(self, fn: Callable[[], None]) -> None:
        if time.monotonic() - self._at < self.seconds:
            return
        async with self._lock:
            if time.monotonic() - self._at >= self.seconds:
                await run_in_threadpool(fn)
                self._at = time.monotonic()
