"""The circuit breaker per destination, shared through real Redis by every worker."""

from __future__ import annotations

import time

import redis

from hub.queue.breaker import CLOSED, HALF_OPEN, OPEN, Breaker
from tests.support import RedisServer


def test_circuit_opens_after_consecutive_failures_and_holds(redis_server: RedisServer) -> None:
    redis_server.flush()
    r = redis.Redis.from_url(redis_server.url)
    breaker = Breaker(r, "national_dvc", threshold=3, open_seconds=0.5)
    assert breaker.failure() is False and breaker.failure() is False
    assert breaker.open_until() == 0.0
    assert breaker.failure() is True
    assert breaker.open_until() > time.time()
    other_worker = Breaker(r, "national_dvc", threshold=3, open_seconds=0.5)
    assert other_worker.open_until() > time.time(), "state must be shared between workers"


def test_open_circuit_lets_a_trial_through_after_its_hold_and_success_closes_it(redis_server: RedisServer) -> None:
    redis_server.flush()
    r = redis.Redis.from_url(redis_server.url)
    breaker = Breaker(r, "national_dvc", threshold=1, open_seconds=0.2)
    breaker.failure()
    assert breaker.open_until()
    time.sleep(0.25)
    assert breaker.open_until() == 0.0  # trial allowed
    assert breaker.failure() is True  # trial failed: open again at once
    assert breaker.open_until() > time.time()
    breaker.success()  # e.g. a retry by another worker got through
    assert breaker.open_until() == 0.0
    assert r.hget(breaker.key, "failures") == b"0"


def test_breakers_of_destinations_are_independent(redis_server: RedisServer) -> None:
    redis_server.flush()
    r = redis.Redis.from_url(redis_server.url)
    Breaker(r, "national_dvc", threshold=1, open_seconds=5).failure()
    assert Breaker(r, "postal_vnpost", threshold=1, open_seconds=5).open_until() == 0.0


def test_state_reads_closed_open_then_half_open_until_the_trial_succeeds(redis_server: RedisServer) -> None:
    redis_server.flush()
    r = redis.Redis.from_url(redis_server.url)
    breaker = Breaker(r, "national_dvc", threshold=2, open_seconds=0.2)
    assert breaker.state() == CLOSED, "never failed"
    breaker.failure()
    assert breaker.state() == CLOSED, "below the threshold"
    breaker.failure()
    assert Breaker(r, "national_dvc", threshold=2, open_seconds=0.2).state() == OPEN, "as every worker reads it"
    time.sleep(0.25)
    assert breaker.state() == HALF_OPEN, "the hold is over: the next call is the trial"
    breaker.success()
    assert breaker.state() == CLOSED
