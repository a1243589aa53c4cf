"""Replay protection: each (keyid, nonce) is accepted once within the window, across hub processes.

A nonce is remembered in Redis with ``SET key 1 NX EX window`` (one round trip on the lean
connection the rate limiter also uses): the first request wins, a repeat inside the window is a
replay. The window is twice the allowed clock skew, the longest a signature's ``created`` time
keeps it acceptable, so a nonce is never forgotten while its signature could still pass.

When Redis does not answer (setting ``signature_nonce_on_redis_down``):

* ``local`` (default): each process remembers the nonces it saw itself, for the same window, and
  the request goes on. A replay sent to the same process is still refused; one sent to another
  hub process is not caught until Redis is back. Intake keeps working, as it does for the rate
  limiter; the warning is logged once per outage.
* ``deny``: the request is refused with 503 ``signature-unverifiable`` (send again later).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from hub.limits.connection import LeanRedis, RedisUnavailable

log = logging.getLogger(__name__)
PREFIX = "lienthong:sig:nonce:"


class NonceStoreDown(RuntimeError):
    """Redis is unreachable and the policy is ``deny``."""


class NonceBook:
    """``first_use(keyid, nonce)`` is True the first time within ``window`` seconds, False after."""

    def __init__(self, redis_url: str, window: int, on_redis_down: str = "local", timeout: float = 0.5,
                 max_local: int = 200_000) -> None:
        self.redis = LeanRedis(redis_url, timeout)
        self.window, self.on_redis_down, self.max_local = window, on_redis_down, max_local
        self._local: OrderedDict[str, float] = OrderedDict()
        self._down = False

    async def first_use(self, keyid: str, nonce: str) -> bool:
        key = f"{PREFIX}{keyid}\x00{nonce}"
        try:
            reply = await self.redis.call("SET", key, "1", "NX", "EX", self.window)
        except RedisUnavailable:
            if not self._down:
                log.warning("signatures: Redis unreachable; nonces are %s until it is back",
                            "refused" if self.on_redis_down == "deny" else "checked per process")
                self._down = True
            if self.on_redis_down == "deny":
                raise NonceStoreDown("Redis is unreachable") from None
            return self._first_local(key)
        if self._down:
            log.warning("signatures: Redis is back; nonces are checked across processes again")
            self._down = False
        self._local_remember(key)  # a later outage still knows this nonce here
        return reply is not None

    def _first_local(self, key: str) -> bool:
        now = time.monotonic()
        while self._local and next(iter(self._local.values())) <= now:
            self._local.popitem(last=False)
        seen = self._local.get(key)
        if seen is not None and seen > now:
            return False
        self._local_remember(key, now)
        return True

    def _local_remember(self, key: str, now: float | None = None) -> None:
        if len(self._local) >= self.max_local:
            self._local.popitem(last=False)
        self._local[key] = (now if now is not None else time.monotonic()) + self.window
        self._local.move_to_end(key)

    def close(self) -> None:
        self.redis.close()
