"""GCRA (generic cell rate algorithm) maths: the Redis script and its in-process twin.

Hand-written because no maintained library does what the hub needs in one atomic step: several
windows per request, all-or-nothing across buckets (key and partner), decided on Redis' clock, and
many pending requests evaluated in ONE round trip. Checked in 2026: ``limits`` has no GCRA and makes
one storage call per limit; ``pyrate-limiter`` 4 keeps GCRA state per single key, passes the client's
clock and evaluates one request per script call; ``throttled-py`` and ``pyredis-rate-limiter`` take
one key and one rate per call. The Lua lives in this module rather than a ``.lua`` file so that it
ships with the package (pyproject's package-data does not list ``*.lua``).

Units are integer microseconds. For a limit of ``q`` per ``w``: the emission interval is
``T = ceil(w / q)`` and the burst tolerance ``tau = (q - 1) * T`` (= ``w - T`` when ``q`` divides
``w``), so a fresh bucket admits exactly ``q`` at once and the long-run rate never exceeds ``q`` per
``w`` (like any token bucket, a full burst followed by steady traffic passes up to ``2q - 1`` within
one window's length).
A bucket's state is its theoretical arrival time (TAT); a request is admissible while
``max(TAT, now) - now <= tau`` and, when admitted, moves TAT on by ``T``. Per bucket and request the
outcome is ``remaining = floor((tau + T - (TAT - now)) / T)``, ``reset = TAT - now`` (until fully
replenished) and, for a bucket that refuses, ``retry = TAT - tau - now`` (> 0).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

# KEYS: the batch's buckets, each once. ARGV[1]: the requests in arrival order, separated by ";", each a
# run of "i T tau" per check (index into KEYS; emission interval and burst tolerance in microseconds).
# Reply: one string of integers; per request "allowed retry" (1/0; microseconds until it would be
# allowed, 0 if it is), then per check "remaining reset".
# Each key is read once per batch and written once, with PX set to the time until the bucket is full
# again (after which an absent key means the same as a full bucket).
SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tats, dirty, out = {}, {}, {}
for request in string.gmatch(ARGV[1], '[^;]+') do
  local checks, ok = {}, true
  for i, T, tau in string.gmatch(request, '(%d+) (%d+) (%d+)') do
    i, T, tau = tonumber(i), tonumber(T), tonumber(tau)
    local tat = tats[i]
    if tat == nil then
      tat = tonumber(redis.call('GET', KEYS[i])) or 0
      tats[i] = tat
    end
    if tat < now then tat = now end
    if tat - now > tau then ok = false end
    checks[#checks + 1] = {i, tat, T, tau}
  end
  local head, retry = #out + 1, 0
  out[head] = ''
  for _, c in ipairs(checks) do
    local i, tat, T, tau = c[1], c[2], c[3], c[4]
    if ok then
      tat = tat + T
      tats[i] = tat
      dirty[i] = true
    elseif tat - now - tau > retry then
      retry = tat - now - tau
    end
    local remaining = math.floor((tau + T - (tat - now)) / T)
    if remaining < 0 then remaining = 0 end
    out[#out + 1] = string.format('%d %d', remaining, tat - now)
  end
  out[head] = string.format(ok and '1 %d' or '0 %d', retry)
end
for i in pairs(dirty) do
  local tat = tats[i]
  redis.call('SET', KEYS[i], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
end
return table.concat(out, ' ')
"""

# Gives charges back. KEYS: buckets; ARGV[i]: the emission interval T of KEYS[i] in microseconds, or 0.
# T > 0 moves the bucket's TAT back by T (one charge returned; an empty bucket stays empty); 0 deletes
# the key (every charge forgotten). Reply: 1.
REFUND_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
for i, key in ipairs(KEYS) do
  local T = tonumber(ARGV[i])
  local tat = nil
  if T > 0 then tat = tonumber(redis.call('GET', key)) end
  if tat ~= nil then tat = tat - T end
  if tat == nil or tat <= now then
    redis.call('DEL', key)
  else
    redis.call('SET', key, string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
  end
end
return 1
"""


def params(quota: int, window: float) -> tuple[int, int]:
    """``(T, tau)`` in microseconds for ``quota`` requests per ``window`` seconds."""
    window_us = max(1, round(window * 1_000_000))
    interval = max(1, -(-window_us // quota))
    return interval, (quota - 1) * interval


class LocalGCRA:
    """The script's maths in one process: thread-safe, monotonic clock, bounded memory.

    Buckets whose TAT has passed are dropped (they equal a full bucket) at most once a second; beyond
    ``max_buckets`` the oldest are dropped too, so memory stays bounded whatever the key churn.
    """

    def __init__(self, max_buckets: int = 100_000) -> None:
        self.max_buckets = max_buckets
        self._tats: dict[str, int] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0

    def __len__(self) -> int:
        return len(self._tats)

    def check(self, buckets: Sequence[tuple[str, int, int]]) -> tuple[bool, list[tuple[int, int, int]]]:
        """All-or-nothing over ``(key, T, tau)``: admitted?, and per bucket ``(remaining, reset_us, retry_us)``."""
        now = time.monotonic_ns() // 1000
        with self._lock:
            if now >= self._next_sweep or len(self._tats) >= self.max_buckets:
                self._sweep(now)
            tats = [max(self._tats.get(key, 0), now) for key, _, _ in buckets]
            ok = all(tat - now <= tau for tat, (_, _, tau) in zip(tats, buckets))
            out = []
            for tat, (key, interval, tau) in zip(tats, buckets):
                retry = 0
                if ok:
                    tat += interval
                    self._tats[key] = tat
                elif tat - now > tau:
                    retry = tat - tau - now
                out.append((max(0, (tau + interval - (tat - now)) // interval), tat - now, retry))
            return ok, out

    def refund(self, buckets: Sequence[tuple[str, int]]) -> None:
        """:data:`REFUND_SCRIPT` in this process: per ``(key, T)`` give one charge back, or forget all when T is 0."""
        now = time.monotonic_ns() // 1000
        with self._lock:
            for key, interval in buckets:
                tat = self._tats.get(key, 0) - interval if interval > 0 else 0
                if tat > now:
                    self._tats[key] = tat
                else:
                    self._tats.pop(key, None)

    def _sweep(self, now: int) -> None:
        self._tats = {key: tat for key, tat in self._tats.items() if tat > now}
        excess = len(self._tats) - self.max_buckets + 1
        if excess > 0:
            for key in list(self._tats)[:excess]:
                del self._tats[key]
        self._next_sweep = now + 1_000_000
