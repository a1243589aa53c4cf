"""Scheduled pulls: each partner's jobs (``Manifest.jobs``: a feed or a catalogue read with a cursor).

Every worker process runs a :class:`Puller`; a Redis lock per job lets one run at a time across them,
and a job's next run is due ``every(ctx)`` seconds after its last start. A failing job is logged
(by type) and tried again at its next turn; it never stops the worker.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from redis import Redis
from redis.exceptions import RedisError

from hub.seam import Context, Job

log = logging.getLogger(__name__)
TICK_SECONDS = 0.5
LOCK_SECONDS = 300  #: longest a run may hold its lock if its worker dies mid-run


class Puller(threading.Thread):
    """Runs ``jobs`` (pairs of a partner's context and one of its jobs) on their schedules until stopped."""

    def __init__(self, redis: Redis, jobs: list[tuple[Context, Job]], clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(name="pulls", daemon=True)
        self.redis, self.jobs, self.clock = redis, jobs, clock
        self.next_run = {(ctx.code, job.name): 0.0 for ctx, job in jobs}
        self.stopped = threading.Event()
        self.runs: dict[tuple[str, str], int] = {key: 0 for key in self.next_run}

    def run_due(self) -> int:
        """Run every job that is due and not running elsewhere; returns how many ran."""
        ran = 0
        for ctx, job in self.jobs:
            key = (ctx.code, job.name)
            if self.stopped.is_set() or self.clock() < self.next_run[key]:
                continue
            every = max(0.1, float(job.every(ctx)))
            self.next_run[key] = self.clock() + every
            lock = f"lienthong:pull:{ctx.code}:{job.name}"
            try:
                # held for the run (deleted after it); the expiry only frees the lock of a worker that died
                if not self.redis.set(lock, "1", nx=True, ex=max(LOCK_SECONDS, int(every * 4))):
                    continue  # another worker runs it now
            except RedisError:
                continue  # without the lock two workers could read the same page: wait for Redis
            try:
                job.run(ctx)
                self.runs[key] += 1
                ran += 1
            except Exception as exc:  # noqa: BLE001 - a partner's feed failing must not stop the worker
                log.warning("pull %s.%s failed: %s", ctx.code, job.name, type(exc).__name__)
            finally:
                try:
                    self.redis.delete(lock)
                except RedisError:
                    pass
        return ran

    def run(self) -> None:
        while not self.stopped.wait(TICK_SECONDS):
            self.run_due()

    def stop(self) -> None:
        self.stopped.set()
