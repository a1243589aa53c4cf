"""The rate limiter against real Redis servers (private ones: the outage tests stop and restart theirs)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
import redis as redis_sync
from prometheus_client import REGISTRY

from hub.limits import Check, Limit, RateLimiter
from hub.limits.gcra import LocalGCRA, params
from tests.support import ROOT, RedisServer, free_port

PER_SECOND = Limit("per-second", 20, 1)
DAILY = Limit("daily", 50000, 86400)
WARMUP = [Check("warmup", Limit("warmup", 1_000_000, 1))]


@pytest.fixture
def redis(redis_server: RedisServer) -> RedisServer:
    """The suite's Redis; each test keeps to its own key prefix (``fresh``)."""
    return redis_server


def fresh() -> str:
    """A key prefix of its own, so tests sharing a Redis never share buckets."""
    return f"test-{uuid.uuid4().hex[:10]}:"


def gauge() -> float | None:
    return REGISTRY.get_sample_value("lienthong_ratelimit_degraded")


def evalsha_calls(server: RedisServer) -> int:
    stats = redis_sync.Redis.from_url(server.url).info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


CHILD = """
import asyncio, json, random, sys, time
from hub.limits import Check, Limit, RateLimiter

async def main(url, prefix, n):
    limiter = RateLimiter(url, prefix=prefix)
    await limiter.check([Check("warmup", Limit("warmup", 1000000, 1))])  # connected, script loaded
    print("ready", flush=True)
    start = float(await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline))
    checks = [Check("partner:motcua:intake", Limit("hourly", 50, 3600))]

    async def one():
        await asyncio.sleep(start - time.time() + random.uniform(0, 0.2))  # many round trips, interleaved with the other process
        return await limiter.check(checks)

    decisions = await asyncio.gather(*[one() for _ in range(n)])
    print(json.dumps({"admitted": sum(d.allowed for d in decisions), "degraded": sum(d.degraded for d in decisions)}), flush=True)
    await limiter.aclose()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def test_two_processes_hammering_one_bucket_admit_exactly_its_quota_in_total(redis: RedisServer) -> None:
    prefix = fresh()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, redis.url, prefix, "300"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env) for _ in range(2)]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready"
        start = time.time() + 0.1
        for proc in procs:  # both fire together, on the same clock
            proc.stdin.write(f"{start}\n")
            proc.stdin.flush()
        results = [json.loads(proc.stdout.readline()) for proc in procs]
    finally:
        for proc in procs:
            proc.wait(20)
    assert sum(result["admitted"] for result in results) == 50
    assert all(result["degraded"] == 0 for result in results)


def test_the_tighter_window_refuses_first_then_the_longer_one_and_both_policies_are_advertised(redis: RedisServer) -> None:
    async def scenario() -> None:
        limiter = RateLimiter(redis.url, prefix=fresh())
        checks = [Check("key:1:intake", Limit("per-second", 5, 1)), Check("key:1:intake", Limit("per-minute", 8, 60))]
        burst = [await limiter.check(checks) for _ in range(6)]
        assert [d.allowed for d in burst] == [True] * 5 + [False]
        refused = burst[-1]
        assert 0 < refused.retry_after <= 0.2  # one emission interval of the per-second window
        assert [s.remaining for s in refused.states] == [0, 3]
        assert refused.headers() == {"RateLimit-Policy": '"per-second";q=5;w=1, "per-minute";q=8;w=60',
                                     "RateLimit": '"per-second";r=0;t=1', "Retry-After": "1"}

        await asyncio.sleep(1.0)  # the per-second window is full again; the per-minute one has 3 left
        later = [await limiter.check(checks) for _ in range(4)]
        assert [d.allowed for d in later] == [True, True, True, False]
        refused = later[-1]
        assert 5 < refused.retry_after < 7.5  # per-minute: T = 7.5 s, minus the time since the burst
        assert [s.remaining for s in refused.states] == [2, 0]
        wait = math.ceil(refused.retry_after)
        assert refused.headers()["RateLimit"] == f'"per-minute";r=0;t={wait}'
        assert refused.headers()["Retry-After"] == str(wait)
        await limiter.aclose()

    asyncio.run(scenario())


def test_a_request_refused_by_one_bucket_consumes_nothing_from_the_others(redis: RedisServer) -> None:
    async def scenario() -> None:
        limiter = RateLimiter(redis.url, prefix=fresh())
        partner = Check("partner:motcua:intake", Limit("hourly", 1, 3600))
        key = Check("key:7:intake", Limit("hourly", 3, 3600))
        assert (await limiter.check([partner, key])).allowed
        refused = await asyncio.gather(*[limiter.check([partner, key]) for _ in range(5)])  # one batch, one script run
        assert not any(d.allowed for d in refused)
        assert all([s.remaining for s in d.states] == [0, 2] for d in refused)
        alone = [(await limiter.check([key])).allowed for _ in range(3)]
        assert alone == [True, True, False]  # the key still had exactly the 2 the refused requests did not take
        await limiter.aclose()

    asyncio.run(scenario())


def test_after_one_emission_interval_exactly_one_more_request_is_admitted(redis: RedisServer) -> None:
    async def scenario() -> None:
        limiter = RateLimiter(redis.url, prefix=fresh())
        checks = [Check("key:2:intake", Limit("burst", 2, 0.4))]  # T = 0.2 s
        decisions = [await limiter.check(checks) for _ in range(3)]
        assert [d.allowed for d in decisions] == [True, True, False]
        assert 0.35 < decisions[1].states[0].reset <= 0.4  # full again one window after the burst
        assert 0 < decisions[2].retry_after <= 0.2
        await asyncio.sleep(decisions[2].retry_after + 0.02)
        assert [(await limiter.check(checks)).allowed for _ in range(2)] == [True, False]
        await limiter.aclose()

    asyncio.run(scenario())



def test_a_refund_gives_back_exactly_one_unit_and_clear_forgets_every_charge(redis: RedisServer) -> None:
    async def scenario() -> None:
        limiter = RateLimiter(redis.url, prefix=fresh())
        pair, other = Check("signin-pair:a", Limit("failures", 3, 3600)), Check("signin-pair:b", Limit("failures", 3, 3600))
        assert [(await limiter.check([pair])).allowed for _ in range(3)] == [True, True, True]
        await limiter.refund([pair])  # one of the three did not count
        assert [(await limiter.check([pair])).allowed for _ in range(2)] == [True, False]
        await limiter.refund([other])  # refunding an empty bucket leaves it empty, not in credit
        assert [(await limiter.check([other])).allowed for _ in range(4)] == [True, True, True, False]
        await limiter.refund([pair, other], clear=True)
        assert [(await limiter.check([pair])).allowed for _ in range(4)] == [True, True, True, False]
        await limiter.aclose()

    asyncio.run(scenario())
    local = LocalGCRA()
    interval, tolerance = params(2, 3600)
    assert [local.check([("k", interval, tolerance)])[0] for _ in range(3)] == [True, True, False]
    local.refund([("k", interval)])
    assert [local.check([("k", interval, tolerance)])[0] for _ in range(2)] == [True, False]
    local.refund([("k", 0)])
    assert len(local) == 0

SF_ITEM = r'"[a-z0-9-]+"(;[a-z]+=(\d+|:[A-Za-z0-9+/=]*:))+'
SF_LIST = re.compile(rf"{SF_ITEM}(, {SF_ITEM})*")


def test_headers_follow_the_ietf_draft_and_a_refusal_carries_an_integer_retry_after(redis: RedisServer) -> None:
    async def scenario() -> None:
        limiter = RateLimiter(redis.url, prefix=fresh())
        first = await limiter.check([Check("key:5:intake", PER_SECOND), Check("key:5:intake", DAILY)])
        assert first.headers() == {"RateLimit-Policy": '"per-second";q=20;w=1, "daily";q=50000;w=86400',
                                   "RateLimit": '"per-second";r=19;t=1'}

        hourly = [Check("key:5:export", Limit("per-hour", 1, 3600))]
        await limiter.check(hourly)
        refused = (await limiter.check(hourly)).headers()
        assert refused == {"RateLimit-Policy": '"per-hour";q=1;w=3600', "RateLimit": '"per-hour";r=0;t=3600',
                           "Retry-After": "3600"}

        short = [Check("key:5:ping", Limit("burst", 1, 0.3))]
        await limiter.check(short)
        refused = (await limiter.check(short)).headers()
        assert refused["Retry-After"] == "1"  # 0.3 s rounds up: integer seconds, at least 1
        assert refused["RateLimit-Policy"] == '"burst";q=1'  # the draft has no sub-second w: omitted

        shared = await limiter.check([Check("key:5:intake", PER_SECOND), Check("partner:motcua:intake", PER_SECOND)])
        policy = shared.headers()["RateLimit-Policy"]
        assert policy == '"per-second";q=20;w=1;pk=:a2V5OjU6aW50YWtl:, "per-second";q=20;w=1;pk=:cGFydG5lcjptb3RjdWE6aW50YWtl:'
        for decision in (first, shared):
            for value in decision.headers().values():
                assert value.isdigit() or SF_LIST.fullmatch(value), value

        empty = await limiter.check([])
        assert empty.allowed and empty.headers() == {}
        await limiter.aclose()

    asyncio.run(scenario())


def test_many_pending_checks_on_one_loop_share_one_round_trip_decided_in_arrival_order(redis: RedisServer) -> None:
    async def scenario() -> None:
        limiter = RateLimiter(redis.url, prefix=fresh())
        await limiter.check(WARMUP)
        before = evalsha_calls(redis)
        checks = [Check("key:3:intake", Limit("per-minute", 150, 60)), Check("partner:x:intake", Limit("per-hour", 1000, 3600))]
        decisions = await asyncio.gather(*[limiter.check(checks) for _ in range(400)])
        assert evalsha_calls(redis) - before <= 2
        assert [d.allowed for d in decisions] == [True] * 150 + [False] * 250
        assert [d.states[0].remaining for d in decisions[:150]] == list(range(149, -1, -1))
        await limiter.aclose()

    asyncio.run(scenario())


def test_redis_down_local_limits_in_process_allow_admits_deny_refuses_and_redis_back_clears_the_gauge(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hub.limits.limiter")
    server = RedisServer()
    server.start()

    async def timed(limiter: RateLimiter, checks: list[Check]) -> tuple[float, object]:
        start = time.monotonic()
        decision = await limiter.check(checks)
        return time.monotonic() - start, decision

    async def scenario() -> None:
        prefix = fresh()
        limiters = {mode: RateLimiter(server.url, on_redis_down=mode, prefix=prefix) for mode in ("local", "allow", "deny")}
        local = [Check("key:local:intake", Limit("per-minute", 3, 60))]
        allow = [Check("key:allow:intake", Limit("per-minute", 1, 60))]
        deny = [Check("key:deny:intake", Limit("per-second", 10, 1)), Check("key:deny:intake", Limit("per-minute", 100, 60))]
        for mode, checks in (("local", local), ("allow", allow), ("deny", deny)):
            decision = await limiters[mode].check(checks)
            assert decision.allowed and not decision.degraded
        assert gauge() == 0

        server.stop()
        outcomes = [await timed(limiters["local"], local) for _ in range(5)]
        assert [d.allowed for _, d in outcomes] == [True, True, True, False, False]  # 3 per minute, this process' count
        assert all(d.degraded for _, d in outcomes)
        assert outcomes[0][0] < 0.25 + 0.2 and all(took < 0.05 for took, _ in outcomes[1:])
        assert gauge() == 1

        admitted = [await limiters["allow"].check(allow) for _ in range(3)]
        assert all(d.allowed and d.degraded for d in admitted)
        assert admitted[0].headers()["RateLimit"] == '"per-minute";r=1;t=0'

        refused = await limiters["deny"].check(deny)
        assert not refused.allowed and refused.degraded and refused.retry_after == 1  # the shortest window
        assert refused.headers()["Retry-After"] == "1"
        for _ in range(20):
            await limiters["deny"].check(deny)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "Redis failed" in r.getMessage()]
        assert len(warnings) == 3  # one per limiter for this outage, not one per request

        server.start()
        await asyncio.sleep(2.05)  # the next try at Redis is due
        for mode, checks in (("local", local), ("allow", allow), ("deny", deny)):
            decision = await limiters[mode].check(checks)
            assert not decision.degraded  # Redis again (the script reloaded after NOSCRIPT)
        assert gauge() == 0
        assert not (await limiters["allow"].check(allow)).allowed  # Redis' bucket, from before the outage (AOF)
        for limiter in limiters.values():
            await limiter.aclose()

    try:
        asyncio.run(scenario())
    finally:
        server.remove()


def test_an_unresponsive_redis_costs_at_most_one_socket_timeout_every_two_seconds() -> None:
    silent = socket.socket()  # accepts connections (kernel backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    checks = [Check("key:4:intake", Limit("per-second", 100, 1))]

    async def took(limiter: RateLimiter) -> float:
        start = time.monotonic()
        decision = await limiter.check(checks)
        assert decision.allowed and decision.degraded
        return time.monotonic() - start

    async def scenario() -> None:
        limiter = RateLimiter(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", socket_timeout=0.25)
        assert 0.2 < await took(limiter) < 0.6
        quick = []
        deadline = time.monotonic() + 1.8
        while time.monotonic() < deadline:
            quick.append(await took(limiter))
            await asyncio.sleep(0.02)
        assert len(quick) > 40 and max(quick) < 0.05
        await asyncio.sleep(0.3)
        probe = asyncio.ensure_future(took(limiter))  # the one call that tries Redis again
        await asyncio.sleep(0.01)
        assert await took(limiter) < 0.05  # meanwhile others do not wait for it
        assert 0.2 < await probe < 0.6
        await limiter.aclose()

    try:
        asyncio.run(scenario())
    finally:
        silent.close()


def test_the_local_fallback_is_exact_across_threads_and_drops_expired_buckets() -> None:
    local = LocalGCRA(max_buckets=100)
    interval, tolerance = params(50, 3600)
    admitted = []

    def worker() -> None:
        admitted.append(sum(local.check([("partner:p:intake", interval, tolerance)])[0] for _ in range(100)))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(admitted) == 50

    interval, tolerance = params(1, 0.01)
    for i in range(1000):
        local.check([(f"key:{i}:intake", interval, tolerance)])
    assert len(local) <= 100  # bounded whatever the churn
    time.sleep(0.02)  # every bucket is full again, i.e. forgettable
    local.check([("key:new:intake", interval, tolerance)])
    assert len(local) == 1


def test_the_lean_connection_selects_the_urls_database_and_reports_redis_errors(redis: RedisServer) -> None:
    from hiredis import ReplyError

    from hub.limits.connection import LeanRedis, RedisUnavailable

    key = fresh() + "lean"

    async def run() -> None:
        lean = LeanRedis(redis.url.rsplit("/", 1)[0] + "/3", timeout=1.0)
        assert await lean.call("SET", key, "x") == b"OK"
        with pytest.raises(ReplyError):
            await lean.call("INCR", key)  # not a number: Redis' error reply, raised as such
        lean.close()
        dead = LeanRedis(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)  # nobody listens there
        with pytest.raises(RedisUnavailable):
            await dead.call("PING")

    asyncio.run(run())
    on_db3 = redis_sync.Redis.from_url(redis.url.rsplit("/", 1)[0] + "/3")
    assert on_db3.get(key) == b"x" and redis_sync.Redis.from_url(redis.url).get(key) is None
