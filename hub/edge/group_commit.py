"""Group commit: concurrent intake requests share one database transaction.

Each request hands its prepared messages to the process's :class:`GroupCommitter` and awaits its
results. One writer task takes everything waiting, stores it with a single :func:`accept` call (one
transaction, multi-row inserts), wakes the destinations' workers once, and
answers every request. Under load this turns N small transactions into a few large ones; idle, a
lone request is committed at once. Nothing is answered before its transaction has committed.
The write runs in one dedicated writer thread, so the event loop keeps reading requests meanwhile
(measured with ``make bench``: running it on the loop doubled p99 latency, and anyio's shared thread
pool cost about a third more CPU per hand-off than a plain one-thread executor). Workers are woken
by a :class:`BackgroundNotifier` after the answers, not before.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from sqlalchemy import Engine

from hub.queue.signal import BackgroundNotifier, Notifier
from hub.store.intake import IntakeResult, Prepared, accept


class GroupCommitter:
    """Coalesces concurrent ``submit`` calls of one event loop into shared transactions."""

    def __init__(self, engine: Engine, notifier: Notifier, max_messages: int = 500) -> None:
        self.engine, self.max_messages = engine, max_messages
        self.notifier = BackgroundNotifier(notifier)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="lienthong-intake-writer")
        self._waiting: list[tuple[Sequence[Prepared], asyncio.Future[list[IntakeResult]]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def submit(self, items: Sequence[Prepared]) -> list[IntakeResult]:
        """Store ``items`` (in a transaction shared with other requests); one result per item."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[IntakeResult]] = loop.create_future()
        self._waiting.append((items, future))
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._write_loop())
        assert self._wake is not None
        self._wake.set()
        return await future

    async def _write_loop(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                group, count = [], 0
                while self._waiting and (not group or count + len(self._waiting[0][0]) <= self.max_messages):
                    entry = self._waiting.pop(0)
                    group.append(entry)
                    count += len(entry[0])
                await self._commit(group)

    async def _commit(self, group: list[tuple[Sequence[Prepared], asyncio.Future[list[IntakeResult]]]]) -> None:
        items = [item for entry, _ in group for item in entry]
        try:
            results = await asyncio.get_running_loop().run_in_executor(self._writer, self._store, items)
        except Exception as exc:  # the transaction failed: every request in it fails, nothing stored
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        start = 0
        for entry, future in group:
            if not future.done():
                future.set_result(results[start : start + len(entry)])
            start += len(entry)

    def _store(self, items: list[Prepared]) -> list[IntakeResult]:
        results = accept(self.engine, items)
        woken = {d for it, r in zip(items, results) if r.verdict == "created" for d in it.destinations}
        if woken:
            self.notifier.wake(woken)
        return results
