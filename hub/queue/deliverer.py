"""Delivering a destination's due deliveries through its connector: claim, send, settle, repeat."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Callable

from redis import Redis
from sqlalchemy import Engine

from hub.config import Settings
from hub.messages.models import MESSAGE_ADAPTER
from hub.queue.breaker import Breaker
from hub.queue.signal import Notifier, flag_key
from hub.seam import Connector, Outcome
from hub.store import outbox
from hub.store.outbox import Claimed

log = logging.getLogger(__name__)


class Deliverer:
    """Owns one connector per destination and drains their deliveries in batches."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        redis: Redis,
        connector_factory: Callable[[str], Connector],
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.redis = redis
        self.notifier = Notifier(redis)
        self._factory = connector_factory
        self._connectors: dict[str, Connector] = {}

    def connector(self, destination: str) -> Connector:
        if destination not in self._connectors:
            self._connectors[destination] = self._factory(destination)
        return self._connectors[destination]

    def breaker(self, destination: str) -> Breaker:
        s = self.settings
        return Breaker(self.redis, destination, s.breaker_threshold, s.breaker_open_seconds)

    def drain(self, destination: str, budget_seconds: float = 2.0) -> int:
        """Deliver due deliveries of ``destination`` until none is left or the budget is spent.

        Returns how many deliveries were attempted. When work remains at the end of the budget, a
        new drain job is queued so other destinations get their turn in between.
        """
        self.redis.delete(flag_key(destination))
        deadline = time.monotonic() + budget_seconds
        breaker = self.breaker(destination)
        connector = self.connector(destination)
        done = 0
        while time.monotonic() < deadline:
            if breaker.open_until():
                return done
            batch = outbox.claim(self.engine, destination, self.settings.claim_batch, self.settings.lease_seconds)
            if not batch:
                return done
            for start in range(0, len(batch), connector.max_batch):
                chunk = batch[start : start + connector.max_batch]
                held_until = breaker.open_until()
                if held_until:
                    outbox.release(self.engine, batch[start:], datetime.fromtimestamp(held_until, timezone.utc))
                    return done
                self._send(destination, connector, breaker, chunk, batch[start + len(chunk) :])
                done += len(chunk)
        self.notifier.notify([destination])
        return done

    def _send(self, destination: str, connector: Connector, breaker: Breaker, chunk: list[Claimed], waiting: list[Claimed]) -> None:
        """Deliver one chunk and settle it; ``waiting`` (claimed, not yet sent) get a fresh lease."""
        started = time.perf_counter()
        try:
            envelopes = [MESSAGE_ADAPTER.validate_json(c.body) for c in chunk]
            outcomes = connector.deliver(envelopes)
            if len(outcomes) != len(chunk):
                raise RuntimeError(f"connector {destination} returned {len(outcomes)} outcomes for {len(chunk)} messages")
        except Exception as exc:  # a connector bug must not strand the lease: count it as transient
            log.exception("connector %s failed", destination)
            outcomes = [Outcome.transient(f"hub error: {type(exc).__name__}")] * len(chunk)
        ms = int((time.perf_counter() - started) * 1000)
        if any(o.kind == "transient" for o in outcomes):
            breaker.failure()
        else:
            breaker.success()
        counts = outbox.settle(
            self.engine,
            [(c, o, ms) for c, o in zip(chunk, outcomes)],
            self.settings.retry_schedule,
            self.settings.retry_jitter,
            still_held=waiting,
            lease_seconds=self.settings.lease_seconds,
        )
        log.info("destination=%s delivered=%d retrying=%d dead=%d ms=%d", destination,
                 counts["delivered"], counts["retrying"], counts["dead"], ms)

    def close(self) -> None:
        for c in self._connectors.values():
            c.close()
