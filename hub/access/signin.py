"""Sign-in abuse: failed sign-ins that block only their own address, and Argon2 with bounded concurrency.

Failures are counted in three GCRA buckets (``hub.limits``), each ``quota`` failures per ``window``:

=========  ==================================  ===================================================
bucket     key                                 when full
=========  ==================================  ===================================================
pair       ``signin-pair:{address}|{account}``  429 for that account from that address only
address    ``signin-address:{address}``         429 for that address, whatever the account
account    ``signin-account:{account}``         never a refusal: a delay before the password is
                                               checked, doubling per failure, capped
=========  ==================================  ===================================================

There is no state one address can fill to refuse another: the only per-account count slows, and the
delay comes before the check (so an attacker cannot tell a success by its speed and give up early
on the slow answers). A full bucket frees one attempt every ``window / quota`` seconds.

Charging: an attempt is charged first (pair and address together, all-or-nothing, so N concurrent
attempts cannot all slip under the limit), then what did not fail is refunded: a success clears its
pair and gives back its address and account charges; a "busy" answer gives back everything. Every
401 (unknown account, bad password, disabled, address not allowed) counts alike, so the counts tell
an attacker nothing the answer does not.

Argon2: :class:`ArgonSlots` lets at most ``size`` hashes or verifications run at once in the process
(argon2-cffi's defaults take 64 MiB each, so ``size`` x 64 MiB of RAM); an attempt that finds no slot
within ``wait`` seconds is refused "busy" (503 with Retry-After) instead of queueing without bound.
"""

from __future__ import annotations

import asyncio
import math
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import anyio.to_thread

from hub.limits.decision import Check, Decision, Limit
from hub.limits.limiter import RateLimiter

if TYPE_CHECKING:
    from hub.config import Settings

R = TypeVar("R")
FIRST_DELAY = 0.1  # seconds, for the first account failure beyond slow_after; doubles with each further one
ACCOUNT_HEADROOM = 16  # the account bucket counts this far beyond slow_after: 0.1 * 2**15 s exceeds any sane cap


class Busy(Exception):
    """No Argon2 slot freed within the wait."""


class ArgonSlots:
    """At most ``size`` Argon2 computations at once in this process; the rest wait up to ``wait`` s, then :class:`Busy`.

    :meth:`hold` (a ``threading.BoundedSemaphore``, in the thread that computes) is the hard bound,
    whoever calls. :meth:`admit` queues callers on the event loop first (an asyncio semaphore of the
    same size), so a flood of sign-ins waits without occupying worker threads the rest of the hub needs.
    ``in_use`` and ``peak`` (the most held at once) are there to observe the bound.
    """

    def __init__(self, size: int, wait: float) -> None:
        if size < 1:
            raise ValueError("ArgonSlots: size must be >= 1")
        self.size, self.wait = size, wait
        self._threads = threading.BoundedSemaphore(size)
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
        self._count = threading.Lock()
        self.in_use = 0
        self.peak = 0

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Wait (on the loop, at most ``wait`` s) for a turn; :class:`Busy` if none comes."""
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = asyncio.Semaphore(self.size)
        try:
            async with asyncio.timeout(self.wait):
                await queue.acquire()
        except TimeoutError:
            raise Busy from None
        try:
            yield
        finally:
            queue.release()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold one slot while computing (blocks at most ``wait`` s; :class:`Busy` if none frees)."""
        if not self._threads.acquire(timeout=self.wait):
            raise Busy
        with self._count:
            self.in_use += 1
            self.peak = max(self.peak, self.in_use)
        try:
            yield
        finally:
            with self._count:
                self.in_use -= 1
            self._threads.release()


@dataclass(frozen=True, slots=True)
class SignInRules:
    """The thresholds (``LIENTHONG_SIGNIN_*``; docs/ACCESS.md#sign-in)."""

    pair_failures: int = 5
    address_failures: int = 30
    window: float = 900.0
    account_slow_after: int = 10
    account_delay_max: float = 2.0
    concurrency: int = 2
    busy_wait: float = 0.5

    @classmethod
    def from_settings(cls, settings: Settings) -> SignInRules:
        return cls(settings.signin_pair_failures, settings.signin_address_failures, settings.signin_window_seconds,
                   settings.signin_account_slow_after, settings.signin_account_delay_max_seconds,
                   settings.signin_concurrency, settings.signin_busy_wait_seconds)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A sign-in refused before its password was checked: ``reason`` for the access record
    (``rate_limited_pair``, ``rate_limited_address``, ``busy``), the problem ``slug``, and the headers
    (Retry-After, and the RateLimit fields for a limit)."""

    reason: str
    slug: str
    detail: str
    headers: dict[str, str] = field(default_factory=dict)


class SignInGuard:
    """Runs each sign-in under the rules above; one per application (its :class:`ArgonSlots` are the process's).

    Without a limiter (``LIENTHONG_RATE_LIMITS_ENABLED=false``) nothing is counted; the slots still apply.
    """

    def __init__(self, limiter: RateLimiter | None, rules: SignInRules) -> None:
        self.limiter, self.rules = limiter, rules
        self.slots = ArgonSlots(rules.concurrency, rules.busy_wait)
        self._pair = Limit("signin-pair", rules.pair_failures, rules.window)
        self._address = Limit("signin-address", rules.address_failures, rules.window)
        self._account = Limit("signin-account", rules.account_slow_after + ACCOUNT_HEADROOM, rules.window)

    def checks(self, account: str, address: str) -> tuple[Check, Check, Check]:
        """The buckets one attempt is charged to: pair, address, account. The address comes first in the
        pair's key because it never contains ``|``, so no (account, address) pair can name another's bucket."""
        return (Check(f"signin-pair:{address}|{account}", self._pair), Check(f"signin-address:{address}", self._address),
                Check(f"signin-account:{account}", self._account))

    def delay(self, failures: int) -> float:
        """Seconds to wait before checking a password of an account that other attempts failed ``failures``
        times in the window: none up to ``account_slow_after``, then 0.1 s doubling, at most ``account_delay_max``."""
        excess = failures - self.rules.account_slow_after
        return 0.0 if excess <= 0 else min(self.rules.account_delay_max, FIRST_DELAY * 2 ** (excess - 1))

    async def attempt(self, account: str, address: str, verify: Callable[[ArgonSlots], R | str]) -> R | str | Refusal:
        """One sign-in: a :class:`Refusal` if the limits or the slots refuse it, else what ``verify`` returns.

        ``verify(slots)`` runs in a worker thread, does its Argon2 work inside ``slots.hold()`` and returns
        the session (a success) or a reason string (a failure, which stays counted)."""
        pair, addr, acct = self.checks(account, address)
        charged: list[Check] = []
        if self.limiter is not None:
            decision = await self.limiter.check([pair, addr])
            if not decision.allowed:
                return self._limited(decision)
            charged = [pair, addr]
            seen = await self.limiter.check([acct])
            if seen.allowed:
                charged.append(acct)
                failures = self._account.quota - seen.states[0].remaining - 1  # charges before this one
            else:
                failures = self._account.quota
            wait = self.delay(failures)
            if wait > 0:
                await asyncio.sleep(wait)
        try:
            async with self.slots.admit():
                result = await anyio.to_thread.run_sync(verify, self.slots)
        except Busy:
            await self._refund(charged)
            return Refusal("busy", "sign-in-busy", "the hub is checking too many sign-ins at once; try again shortly",
                           {"Retry-After": str(max(1, math.ceil(self.rules.busy_wait)))})
        if not isinstance(result, str) and charged:  # signed in: not a failure, and this pair starts afresh
            await asyncio.gather(self._refund(charged[1:]), self._refund([pair], clear=True))
        return result

    def _limited(self, decision: Decision) -> Refusal:
        if decision.states[1].remaining == 0:  # the address bucket; in a refused decision, refusing buckets have 0 left
            return Refusal("rate_limited_address", "sign-in-limited",
                           "too many failed sign-ins from this address; wait and try again", decision.headers())
        return Refusal("rate_limited_pair", "sign-in-limited",
                       "too many failed sign-ins to this account from this address; wait and try again", decision.headers())

    async def _refund(self, checks: list[Check], clear: bool = False) -> None:
        if checks and self.limiter is not None:
            await self.limiter.refund(checks, clear=clear)
