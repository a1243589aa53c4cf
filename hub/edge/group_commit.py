"""Group commit: concurrent intake requests share one database transaction.

Each request hands its prepared messages to the process's :class:`GroupCommitter` and awaits its
results. One writer task takes everything waiting and stores it with a single write (one transaction,
multi-row inserts) through the process's :class:`~hub.edge.writers.Writer`, which answers every
request of the group. Up to ``in_flight`` groups are handed to the writer at once; it commits them
in the order given, so the writer never idles while the event loop gets round to the next group.
Under load this turns N small transactions into a few large ones; idle, a lone request is
committed at once. Nothing is answered before its transaction has committed. The write itself runs
off the event loop (in a child process by default, see ``hub.edge.writers``), so the loop keeps
reading requests meanwhile (measured with ``make bench``: writing on the loop doubled p99 latency).

A request may also hand over the rate-limit checks it must pass (``submit_charged``): its entry
joins the write queue only once the limiter has admitted it (a callback on the limiter's decision,
so deciding the next requests overlaps writing the current group), and a refused entry is answered
without being written. The request waits once, for its outcome, instead of once for the limiter
and once for the write (measured: the separate wait was most of the access layer's cost on intake).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Sequence

from hub.edge.writers import Writer
from hub.limits.decision import NO_CHECKS, Check, Decision
from hub.limits.limiter import RateLimiter
from hub.store.intake import IntakeResult, Prepared

Outcome = tuple[Decision, list[IntakeResult] | None]  # the limiter's decision; the results if admitted


@dataclass(slots=True)
class _Entry:
    items: Sequence[Prepared]
    future: asyncio.Future[Outcome]
    decision: Decision = field(default=NO_CHECKS)


class GroupCommitter:
    """Coalesces concurrent ``submit`` calls of one event loop into shared transactions."""

    def __init__(self, writer: Writer, limiter: RateLimiter | None = None, max_messages: int = 500,
                 in_flight: int = 2) -> None:
        self.writer, self.limiter, self.max_messages, self.in_flight = writer, limiter, max_messages, in_flight
        self._waiting: list[_Entry] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._commits: set[asyncio.Task[None]] = set()  # held so that the loop cannot drop a running commit

    async def submit(self, items: Sequence[Prepared]) -> list[IntakeResult]:
        """Store ``items`` (in a transaction shared with other requests); one result per item."""
        _, results = await self.submit_charged(items, ())
        assert results is not None
        return results

    async def submit_charged(self, items: Sequence[Prepared], checks: Sequence[Check]) -> Outcome:
        """Charge ``checks`` to the rate limiter, then store ``items`` only if it allows them.

        Returns the decision and, when allowed, one result per item (None when refused: nothing stored).
        """
        entry = _Entry(items, asyncio.get_running_loop().create_future())
        if checks and self.limiter is not None:
            self.limiter.decide(checks).add_done_callback(lambda decided: self._decided(entry, decided))
        else:
            self._enqueue(entry)
        return await entry.future

    def _decided(self, entry: _Entry, decided: asyncio.Future[Decision]) -> None:
        if decided.cancelled():
            entry.future.cancel()
            return
        entry.decision = decided.result()
        if entry.decision.allowed:
            self._enqueue(entry)
        elif not entry.future.done():
            entry.future.set_result((entry.decision, None))

    def _enqueue(self, entry: _Entry) -> None:
        self._waiting.append(entry)
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._write_loop())
        assert self._wake is not None
        self._wake.set()

    async def aclose(self) -> None:
        """Stop taking groups and release the writer."""
        if self._task is not None:
            self._task.cancel()
        await self.writer.aclose()

    async def _write_loop(self) -> None:
        assert self._wake is not None
        in_flight = asyncio.Semaphore(self.in_flight)
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                await in_flight.acquire()
                group: list[_Entry] = []
                count = 0
                while self._waiting and (not group or count + len(self._waiting[0].items) <= self.max_messages):
                    entry = self._waiting.pop(0)
                    group.append(entry)
                    count += len(entry.items)
                task = asyncio.get_running_loop().create_task(self._commit(group))
                self._commits.add(task)
                task.add_done_callback(self._commits.discard)
                task.add_done_callback(lambda _: in_flight.release())

    async def _commit(self, group: list[_Entry]) -> None:
        items = [item for entry in group for item in entry.items]
        try:
            results = await self.writer.store(items)
        except Exception as exc:  # the transaction failed: every request in it fails, nothing stored
            for entry in group:
                if not entry.future.done():
                    entry.future.set_exception(exc)
            return
        start = 0
        for entry in group:
            if not entry.future.done():
                entry.future.set_result((entry.decision, results[start : start + len(entry.items)]))
            start += len(entry.items)
