"""``python -m bench.limits``: RateLimiter.check() on one event loop, 32 concurrent callers, a private Redis.

Each call carries the edge's likely shape: a key's and its partner's limits, two windows each (4
buckets), quotas high enough that every call is admitted (the writing path). Prints calls/s, the mean
CPU of this process per call (time.process_time), Redis' own CPU per call and the mean batch size;
then the same with a single caller, where nothing can be batched. Bounded to about 5 s
(BENCH_LIMITS_SECONDS of measurement with 32 callers, 1 s with one, short warm-ups).
"""

from __future__ import annotations

import asyncio
import os
import time

import redis

from hub.limits import Check, Limit, RateLimiter
from tests.support import RedisServer

CALLERS = 32
SECONDS = float(os.environ.get("BENCH_LIMITS_SECONDS", "3"))
KEY_LIMITS = (Limit("per-second", 100_000, 1), Limit("daily", 100_000_000, 86400))
PARTNER_LIMITS = (Limit("partner-per-second", 1_000_000, 1), Limit("partner-daily", 1_000_000_000, 86400))


def redis_counters(url: str) -> tuple[int, float]:
    """Script calls so far, and Redis' CPU seconds (user + sys)."""
    client = redis.Redis.from_url(url)
    calls = int(client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0))
    cpu = client.info("cpu")
    return calls, float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


async def measure(url: str, callers: int, seconds: float) -> None:
    limiter = RateLimiter(url, prefix=f"bench{callers}:")
    calls = 0
    stop = time.monotonic() + 0.3  # warm-up: connect, load the script

    async def caller(n: int) -> None:
        nonlocal calls
        checks = [Check(f"key:{n}:intake", limit) for limit in KEY_LIMITS]
        checks += [Check(f"partner:p{n % 4}:intake", limit) for limit in PARTNER_LIMITS]
        while time.monotonic() < stop:
            decision = await limiter.check(checks)
            assert decision.allowed and not decision.degraded
            calls += 1

    await asyncio.gather(*[caller(n) for n in range(callers)])
    trips0, redis_cpu0 = redis_counters(url)
    calls, wall0, cpu0 = 0, time.perf_counter(), time.process_time()
    stop = time.monotonic() + seconds
    await asyncio.gather(*[caller(n) for n in range(callers)])
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    trips, redis_cpu = redis_counters(url)
    await limiter.aclose()
    print(f"{callers:>2} caller(s), 4 buckets per call: {calls / wall:>7,.0f} calls/s; CPU per call: {cpu / calls * 1e6:5.1f} µs here, "
          f"{(redis_cpu - redis_cpu0) / calls * 1e6:5.1f} µs in Redis; {calls / max(1, trips - trips0):4.1f} calls per round trip")


def main() -> None:
    server = RedisServer(fsync="everysec")
    server.start()
    try:
        asyncio.run(measure(server.url, CALLERS, SECONDS))
        asyncio.run(measure(server.url, 1, 1.0))  # for comparison: nothing to batch, one round trip per call
    finally:
        server.remove()


if __name__ == "__main__":
    main()
