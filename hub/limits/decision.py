"""What a rate-limit check decides (Limit, Check, LimitState, Decision) and its IETF RateLimit header fields.

The header fields follow draft-ietf-httpapi-ratelimit-headers-11 (May 2026).

Both fields are Structured Field Lists (RFC 9651) of String items with parameters:

    RateLimit-Policy: "per-second";q=20;w=1, "daily";q=50000;w=86400
    RateLimit: "per-second";r=19;t=1

``RateLimit-Policy`` lists every limit that applied (``q`` quota, ``w`` window in whole seconds; the
draft allows no sub-second ``w``, so a window that is not a whole number of seconds omits it).
``RateLimit`` carries the most restrictive one: lowest ``r`` (remaining), then longest ``t`` (whole
seconds, rounded up, until the bucket is full again). On a refusal ``t`` equals ``Retry-After``
(integer seconds, at least 1), which the draft says must not end before the effective window. When
two applied limits share a name (e.g. a key's and its partner's "per-second"), their items carry the
draft's ``pk`` partition key (the bucket, as a Byte Sequence) so they stay distinguishable.
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from hub.limits.gcra import params

_NAME = re.compile(r"[a-z0-9-]+\Z")


@dataclass(frozen=True, slots=True)
class Limit:
    """``quota`` requests per ``window`` seconds, shown in the headers as policy ``name``."""

    name: str  # [a-z0-9-]; unique among the limits applied to one bucket
    quota: int  # >= 1
    window: float  # seconds, > 0
    _interval: int = field(init=False, repr=False, compare=False)  # T, microseconds
    _tolerance: int = field(init=False, repr=False, compare=False)  # tau, microseconds
    _spec: str = field(init=False, repr=False, compare=False)  # "T tau", as the script reads it

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"limit name {self.name!r}: use [a-z0-9-]")
        if not isinstance(self.quota, int) or self.quota < 1:
            raise ValueError(f"limit {self.name}: quota must be an integer >= 1")
        if not self.window > 0:
            raise ValueError(f"limit {self.name}: window must be > 0 seconds")
        interval, tolerance = params(self.quota, self.window)
        object.__setattr__(self, "_interval", interval)
        object.__setattr__(self, "_tolerance", tolerance)
        object.__setattr__(self, "_spec", f"{interval} {tolerance}")


@dataclass(frozen=True, slots=True)
class Check:
    """One counter to charge: ``bucket`` (e.g. "key:12:intake", "partner:motcua:intake") under ``limit``."""

    bucket: str
    limit: Limit


@dataclass(frozen=True, slots=True)
class LimitState:
    """A bucket after the request: ``remaining`` (r) and ``reset`` (t, seconds until full again)."""

    check: Check
    remaining: int
    reset: float


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether the request may pass; ``retry_after`` seconds until it would (0 when allowed)."""

    allowed: bool
    retry_after: float
    states: tuple[LimitState, ...]
    degraded: bool  # decided without Redis (local/allow/deny mode)

    def headers(self) -> dict[str, str]:
        """RateLimit-Policy (every limit that applied), RateLimit (the most restrictive: lowest remaining),
        and Retry-After when refused. Empty dict when no checks applied. Format: the module docstring."""
        return render(self)


NO_CHECKS = Decision(True, 0.0, (), False)


def render(decision: Decision) -> dict[str, str]:
    """The header fields for ``decision``; empty when no checks applied."""
    states = decision.states
    if not states:
        return {}
    policy, shared = _policy(tuple(state.check for state in states))
    top = min(states, key=lambda state: (state.remaining, -state.reset))
    t = math.ceil(top.reset) if decision.allowed else max(1, math.ceil(decision.retry_after))
    name = top.check.limit.name
    headers = {"RateLimit-Policy": policy, "RateLimit": f'"{name}";r={top.remaining};t={t}' + (_pk(top.check) if name in shared else "")}
    if not decision.allowed:
        headers["Retry-After"] = str(t)
    return headers


@lru_cache(maxsize=4096)
def _policy(checks: tuple[Check, ...]) -> tuple[str, frozenset[str]]:
    """The RateLimit-Policy value for these checks, and the names that more than one check uses."""
    names = [check.limit.name for check in checks]
    shared = frozenset(name for name in names if names.count(name) > 1)
    items = []
    for check in checks:
        limit = check.limit
        item = f'"{limit.name}";q={limit.quota}'
        if limit.window >= 1 and float(limit.window).is_integer():
            item += f";w={int(limit.window)}"
        items.append(item + (_pk(check) if limit.name in shared else ""))
    return ", ".join(items), shared


def _pk(check: Check) -> str:
    return ";pk=:" + base64.b64encode(check.bucket.encode()).decode() + ":"
