"""The hub's rate limiter: GCRA buckets in Redis, several windows per request, exact across processes.

Every ``check`` call of one event loop that is pending while a round trip is in flight joins the next
one: ONE ``EVALSHA`` carries them all and the script decides them in arrival order (see
``hub.limits.gcra``). When Redis fails, decisions come from the ``on_redis_down`` mode until Redis
answers again; Redis is tried again at most every ``RETRY_SECONDS``, so an outage costs at most one
``socket_timeout`` per interval and never an exception.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import weakref
from collections.abc import Sequence

import hiredis
from prometheus_client import Gauge

from hub.limits.connection import LeanRedis
from hub.limits.decision import NO_CHECKS, Check, Decision, LimitState
from hub.limits.gcra import REFUND_SCRIPT, SCRIPT, LocalGCRA

log = logging.getLogger(__name__)

DEGRADED = Gauge("lienthong_ratelimit_degraded", "1 while a rate limiter decides without Redis (its on_redis_down mode)")
RETRY_SECONDS = 2.0  # after a Redis failure, the shortest time before Redis is tried again
MAX_BATCH = 512  # requests per script call, so one call never holds Redis for long
MODES = ("local", "allow", "deny")
_down: "weakref.WeakSet[RateLimiter]" = weakref.WeakSet()  # limiters now without Redis; the gauge is 1 while any is


class RateLimiter:
    """Rate limits shared by every hub process through Redis; use one instance per event loop.

    ``on_redis_down``: "local" (a per-process limiter with the same maths), "allow" (everything
    passes) or "deny" (everything is refused, retry after the shortest window). In each the gauge
    ``lienthong_ratelimit_degraded`` is 1 and one WARNING is logged per outage.
    """

    def __init__(self, redis_url: str, on_redis_down: str = "local", prefix: str = "lienthong:rl:",
                 socket_timeout: float = 0.25) -> None:
        if on_redis_down not in MODES:
            raise ValueError(f"on_redis_down must be one of {MODES}, not {on_redis_down!r}")
        self.mode = on_redis_down
        self.prefix = prefix
        self._redis = LeanRedis(redis_url, socket_timeout)
        self._sha = hashlib.sha1(SCRIPT.encode()).hexdigest()
        self._refund_sha = hashlib.sha1(REFUND_SCRIPT.encode()).hexdigest()
        self._local = LocalGCRA()
        self._pending: list[tuple[Sequence[Check], asyncio.Future[Decision]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._down = False
        self._probing = False
        self._retry_at = 0.0

    async def check(self, checks: Sequence[Check]) -> Decision:
        """All-or-nothing: the request consumes one unit from every bucket only if every bucket allows it;
        a refused request consumes nothing. Calls pending together on one event loop share ONE Redis
        round trip, decided in arrival order. An empty ``checks`` is allowed without touching Redis.
        ``checks`` must not repeat a (bucket, limit name) pair."""
        return await self.decide(checks)

    def decide(self, checks: Sequence[Check]) -> asyncio.Future[Decision]:
        """:meth:`check` as a future, for callers that chain work on the decision without a task."""
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        if not checks:
            future.set_result(NO_CHECKS)
        elif self._down and (self._probing or time.monotonic() < self._retry_at):
            future.set_result(self._fallback(checks))
        else:
            self._pending.append((checks, future))
            if self._flusher is None:
                self._flusher = asyncio.get_running_loop().create_task(self._flush())
        return future

    async def refund(self, checks: Sequence[Check], *, clear: bool = False) -> None:
        """Give back the unit an earlier admitted :meth:`check` took from each bucket (that request turned
        out not to count), or with ``clear`` empty the buckets (forget every charge). For counting only
        what proves bad afterwards, e.g. failed sign-ins: charge first (so concurrent requests cannot
        all slip under the limit), refund what succeeded. One round trip of its own, not batched (rare
        calls); never raises: without Redis, the local mode refunds its own buckets, the others do nothing."""
        if not checks:
            return
        local = [(check.bucket + ":" + check.limit.name, 0 if clear else check.limit._interval) for check in checks]
        if self._down and time.monotonic() < self._retry_at:
            if self.mode == "local":
                self._local.refund(local)
            return
        keys = [self.prefix + key for key, _ in local]
        try:
            await self._run_script(keys, *(str(interval) for _, interval in local),
                                   script=REFUND_SCRIPT, sha=self._refund_sha)
        except Exception as exc:  # a refund that cannot be made leaves the charge; the limit errs on the safe side
            log.warning("rate limiter: refund failed (%s: %s)", type(exc).__name__, exc)
            if self.mode == "local":
                self._local.refund(local)

    async def aclose(self) -> None:
        """Answer the pending checks, then close the Redis connections."""
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        self._set_down(False)
        self._redis.close()

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                batch = [(checks, future) for checks, future in batch if not future.done()]
                if not batch:
                    continue
                if self._down and time.monotonic() < self._retry_at:  # went down while these waited
                    for checks, future in batch:
                        future.set_result(self._fallback(checks))
                    continue
                await self._round_trip(batch)
        finally:  # normally nothing is left; after a cancellation, nobody may wait forever
            self._flusher = None
            left, self._pending = self._pending, []
            for checks, future in left:
                if not future.done():
                    future.set_result(self._fallback(checks))

    async def _round_trip(self, batch: list[tuple[Sequence[Check], asyncio.Future[Decision]]]) -> None:
        prefix = self.prefix
        index: dict[str, str] = {}  # each bucket once, so the command stays short
        requests = []
        for checks, _ in batch:
            parts = []
            for check in checks:
                key = prefix + check.bucket + ":" + check.limit.name
                at = index.get(key)
                if at is None:
                    at = index[key] = str(len(index) + 1)
                parts.append(at + " " + check.limit._spec)
            requests.append(" ".join(parts))
        self._probing = self._down
        try:
            reply = await self._run_script(list(index), ";".join(requests))
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # whatever Redis does, the caller gets a decision
            self._retry_at = time.monotonic() + RETRY_SECONDS
            if not self._down:
                log.warning("rate limiter: Redis failed (%s: %s); deciding in %r mode, retrying every %.0f s",
                            type(exc).__name__, exc, self.mode, RETRY_SECONDS)
                self._set_down(True)
            for checks, future in batch:
                if not future.done():
                    future.set_result(self._fallback(checks))
            return
        finally:
            self._probing = False
        if self._down:
            log.warning("rate limiter: Redis answers again; limits are shared across processes again")
            self._set_down(False)
        values = reply.split()
        cursor = 0
        for checks, future in batch:
            allowed, retry = values[cursor] == b"1", int(values[cursor + 1]) * 1e-6
            cursor += 2
            states = []
            for check in checks:
                states.append(LimitState(check, int(values[cursor]), int(values[cursor + 1]) * 1e-6))
                cursor += 2
            if not future.done():
                future.set_result(Decision(allowed, retry, tuple(states), False))

    async def _run_script(self, keys: list[str], *args: str, script: str = SCRIPT, sha: str | None = None) -> bytes:
        """EVALSHA the GCRA script (or ``script``, whose SHA-1 is ``sha``), loading it first if this Redis
        does not know it yet."""
        sha = sha or self._sha
        try:
            return await self._redis.call("EVALSHA", sha, len(keys), *keys, *args)  # type: ignore[no-any-return]
        except hiredis.ReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        await self._redis.call("SCRIPT", "LOAD", script)
        return await self._redis.call("EVALSHA", sha, len(keys), *keys, *args)  # type: ignore[no-any-return]

    def _fallback(self, checks: Sequence[Check]) -> Decision:
        """The decision without Redis, by ``mode``."""
        if self.mode == "allow":
            return Decision(True, 0.0, tuple(LimitState(check, check.limit.quota, 0.0) for check in checks), True)
        if self.mode == "deny":
            states = tuple(LimitState(check, 0, check.limit.window) for check in checks)
            return Decision(False, min(check.limit.window for check in checks), states, True)
        allowed, results = self._local.check(
            [(check.bucket + ":" + check.limit.name, check.limit._interval, check.limit._tolerance) for check in checks])
        states = tuple(LimitState(check, remaining, reset / 1e6) for check, (remaining, reset, _) in zip(checks, results))
        return Decision(allowed, max(retry for _, _, retry in results) / 1e6, states, True)

    def _set_down(self, down: bool) -> None:
        self._down = down
        if down:
            _down.add(self)
        else:
            _down.discard(self)
        DEGRADED.set(1 if _down else 0)
