"""``lienthong worker``: an RQ worker on every destination's queue, plus the relay, sealer, detector and
the partners' scheduled pulls (threads)."""

from __future__ import annotations

import logging
import signal
import time

from redis.exceptions import RedisError
from rq.worker import SimpleWorker

from hub.alerts.detector import Detector
from hub.audit.seal import Sealer
from hub.config import Settings
from hub.context import connector, context
from hub.plugins import manifests
from hub.queue import jobs
from hub.queue.deliverer import Deliverer
from hub.queue.pulls import Puller
from hub.queue.relay import Relay
from hub.queue.signal import QUEUE
from hub.runtime import engine_for, redis_for
from hub.safety import check_startup

log = logging.getLogger(__name__)
MAX_REDIS_WAIT_SECONDS = 2


def _exit(signum: int, _frame: object) -> None:
    raise SystemExit(0)


def run_worker(settings: Settings, burst: bool = False) -> None:
    """Deliver until stopped (SIGTERM/SIGINT finish the current job first).

    Refuses to start like the API (hub/safety.py). Runs jobs in-process (RQ's SimpleWorker): a fork
    per job would cost more than the delivery.
    If Redis goes away the worker waits and reconnects; the relay keeps sweeping meanwhile.
    """
    engine = engine_for(settings)
    check_startup(settings, engine, "worker")  # production safety and the shared key set, before any work
    redis = redis_for(settings)
    deliverer = Deliverer(settings, engine, redis, lambda name: connector(name, settings))
    jobs.DELIVERER = deliverer
    relay = Relay(engine, deliverer.notifier, settings.relay_interval)
    relay.start()
    sealer = Sealer(engine, settings)  # chains the access records; one at a time across processes
    sealer.start()
    detector = Detector(engine, settings)
    detector.start()
    pulls = Puller(redis, [(context(m.code, settings), job) for m in manifests() for job in m.jobs])
    pulls.start()
    queues = [QUEUE]  # every destination's drain jobs, named in the job (hub/queue/signal.py)
    log.info("worker listening on %s", ", ".join(queues))
    try:
        while True:
            try:
                worker = SimpleWorker(queues, connection=redis)
                # RQ retries a lost Redis itself with exponential backoff; cap the wait so the
                # worker is back within seconds of Redis returning.
                worker.max_connection_wait_time = MAX_REDIS_WAIT_SECONDS
                worker.work(burst=burst, logging_level="WARNING")
                return  # work() returns only when asked to stop (or, with burst, when idle)
            except (RedisError, OSError) as exc:  # e.g. Redis down while the worker registers
                # RQ's signal handlers need Redis; while it is gone, SIGTERM/SIGINT just exit.
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, _exit)
                log.warning("redis unreachable (%s); retrying in 1 s", type(exc).__name__)
                time.sleep(1)
    finally:
        relay.stop()
        sealer.stop()
        detector.stop()
        pulls.stop()
        deliverer.close()
