"""The intake's database writers: where :func:`hub.store.intake.accept` runs for the edge (and where
the API process's access records are written, ``hub/audit/log.py``).

Both wake the destinations' workers after a commit that created deliveries, and both raise
:class:`StoreUnavailable` when the store could not be reached; nothing is ever answered as stored
that was not committed.

- :class:`ProcessWriter` (the default) runs the write in a child process, fed over a socket pair
  with length-prefixed pickles. On SQLite the write (SQLAlchemy's transaction and the DBAPI
  calls) costs about as much CPU as the rest of an intake request, and in a thread it shares the
  API process's GIL; in a child it runs on the other core. Hand-written because
  ``concurrent.futures.ProcessPoolExecutor`` spent as much CPU in the parent on its own hand-off
  threads as the write it removed (both measured in ``docs/PERFORMANCE.md``). The child exits when
  the parent's end of the socket closes, so it never outlives its API process; if the child dies,
  the pending group fails and the next one starts a new child.
- :class:`ThreadWriter` runs it in one dedicated thread of the API process (``intake_writer =
  thread``): no extra process, for hosts that do not want one.

Why here and not in ``hub/store``: a writer is the API process's plumbing, not storage. It joins
the store's transaction (:func:`hub.store.intake.accept`) to the queue's wake-up
(:mod:`hub.queue.signal`) and the audit log's insert (:func:`hub.audit.log.write_records`), and
the child rebuilds both from their URLs. In the store it made the bottom layer import two above it;
injecting them instead would have to cross the process boundary (a factory named over the socket),
an import by another name. The edge is the one user (``hub/edge/group_commit.py``), and the store
keeps only what it owns: the transaction, and :class:`~hub.store.intake.StoreUnavailable`, the
error the edge answers 503 ``store-unavailable``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import operator
import pickle
import signal
import socket
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from typing import Any, Protocol, Sequence, cast

from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from hub.audit.log import write_records
from hub.queue.signal import BackgroundNotifier, Notifier
from hub.store.intake import IntakeResult, Prepared, Receipt, StoreUnavailable, accept
from hub.store.tables import access_records

log = logging.getLogger(__name__)
HEADER = struct.Struct("!I")  # the length of the pickle that follows
# Over the socket, items and results travel as plain tuples: pickling slotted dataclasses runs
# Python code per object (dataclasses' __getstate__/__setstate__), tuples do not.
_item_fields = operator.attrgetter(*(f.name for f in fields(Prepared)))
_receipt_fields = operator.attrgetter(*(f.name for f in fields(Receipt)))
# A group's frame, parent to child: ("intake", Prepared fields per item) or ("records", access record rows).
Group = tuple[str, list[tuple[Any, ...]]]
RECORD_COLUMNS = tuple(str(c.name) for c in access_records.columns if c.name not in ("id", "seq", "chain_hash"))
_record_fields = operator.itemgetter(*RECORD_COLUMNS)


class Writer(Protocol):
    async def start(self) -> None:
        """Get ready to write (the app's start-up), so the first request does not wait for it."""

    async def store(self, items: Sequence[Prepared]) -> list[IntakeResult]:
        """Store ``items`` in one transaction; one result per item, in order."""

    async def store_records(self, records: list[dict[str, Any]]) -> None:
        """Write access records (``hub/audit/log.py``) in one transaction."""

    async def aclose(self) -> None:
        """Release the writer (the app's shutdown)."""


def store_and_wake(engine: Engine, notifier: BackgroundNotifier, items: Sequence[Prepared]) -> list[IntakeResult]:
    """:func:`accept`, then wake the workers of every destination that got a new delivery."""
    try:
        results = accept(engine, items)
    except DBAPIError as exc:
        raise StoreUnavailable(f"the database failed: {type(exc.orig).__name__}") from exc
    woken = {d for it, r in zip(items, results) if r.verdict == "created" for d in it.destinations}
    if woken:
        notifier.wake(woken)
    return results


class ThreadWriter:
    """Writes in one dedicated thread of the API process (one thread, not a pool: measured cheaper)."""

    def __init__(self, engine: Engine, notifier: Notifier) -> None:
        self.engine, self.notifier = engine, BackgroundNotifier(notifier)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="lienthong-intake-writer")

    async def start(self) -> None:
        pass

    async def store(self, items: Sequence[Prepared]) -> list[IntakeResult]:
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, store_and_wake, self.engine, self.notifier, items)

    async def store_records(self, records: list[dict[str, Any]]) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, write_records, self.engine, records)

    async def aclose(self) -> None:
        self._thread.shutdown(wait=True)


class ProcessWriter:
    """Writes in a child process (``python -m hub.edge.writers``); one per API process.

    Several groups may be in flight: the child reads and commits them one after another, in the
    order they were sent, and answers in that order, so it never idles while the API process gets
    round to sending the next group.
    """

    def __init__(self, database_url: str, redis_url: str) -> None:
        self._config = {"database_url": database_url, "redis_url": redis_url}
        self._proc: subprocess.Popen[bytes] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._replies: collections.deque[asyncio.Future[object]] = collections.deque()
        self._reading: asyncio.Task[None] | None = None
        self._starting: asyncio.Lock | None = None

    async def start(self) -> None:
        await self._running()

    async def store(self, items: Sequence[Prepared]) -> list[IntakeResult]:
        answer = await self._ask("intake", [_item_fields(item) for item in items])
        return [IntakeResult(verdict, Receipt(*receipt)) for verdict, receipt in answer]

    async def store_records(self, records: list[dict[str, Any]]) -> None:
        await self._ask("records", list(map(_record_fields, records)))

    async def _ask(self, kind: str, payload: list[tuple[Any, ...]]) -> Any:
        """Send one frame ``(kind, payload)``; the child's answer, or its StoreUnavailable raised."""
        writer = await self._running()
        if self._reading is None or self._reading.done():  # the child ended since: nobody would answer
            raise StoreUnavailable("the intake writer process ended")
        reply: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._replies.append(reply)
        _send(writer, (kind, payload))
        answer = await reply
        if isinstance(answer, StoreUnavailable):
            raise answer
        return answer

    async def _running(self) -> asyncio.StreamWriter:
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._writer is None or self._proc is None or self._proc.poll() is not None:
                await self._discard()
                parent, child = socket.socketpair()
                # The URLs go over the socket, not the command line, so no password shows in `ps`.
                self._proc = subprocess.Popen([sys.executable, "-m", "hub.edge.writers", str(child.fileno())],
                                              pass_fds=(child.fileno(),))
                child.close()
                reader, self._writer = await asyncio.open_unix_connection(sock=parent)
                _send(self._writer, self._config)
                self._reading = asyncio.get_running_loop().create_task(self._read(reader))
            return self._writer

    async def _read(self, reader: asyncio.StreamReader) -> None:
        """Hand each answer to the oldest waiting group; when the child ends, fail every waiting group."""
        try:
            while True:
                answer = await _receive(reader)
                reply = self._replies.popleft()
                if not reply.done():
                    reply.set_result(answer)
        except Exception as exc:  # noqa: BLE001 - the child ended, or the stream can no longer be trusted
            if not isinstance(exc, (OSError, EOFError, asyncio.IncompleteReadError)):
                log.error("intake writer: unreadable answer (%s); restarting the writer", type(exc).__name__)
            if self._writer is not None:
                self._writer.close()
            self._writer = None
            while self._replies:
                reply = self._replies.popleft()
                if not reply.done():
                    reply.set_exception(StoreUnavailable("the intake writer process ended"))

    async def _discard(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._writer = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            await asyncio.to_thread(proc.wait)
        if self._reading is not None:
            await asyncio.gather(self._reading, return_exceptions=True)
            self._reading = None

    async def aclose(self) -> None:
        """Close the socket; the child finishes what it was sent, then exits."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        proc, self._proc = self._proc, None
        if proc is not None:
            await asyncio.to_thread(proc.wait, 30)
        if self._reading is not None:
            await asyncio.gather(self._reading, return_exceptions=True)


def _send(writer: asyncio.StreamWriter, value: object) -> None:
    """Queue one frame (the transport writes it in order; groups are small, no back-pressure wait)."""
    payload = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    writer.write(HEADER.pack(len(payload)) + payload)


async def _receive(reader: asyncio.StreamReader) -> object:
    size = HEADER.unpack(await reader.readexactly(HEADER.size))[0]
    return pickle.loads(await reader.readexactly(size))


def serve(fd: int) -> None:
    """The child process: read the config, then groups; store each and answer, until EOF."""
    from hub.log_mask import install
    from hub.store.engine import make_engine

    install()  # a failed group's traceback must not carry a citizen ID or a key into the log
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent; the child follows on EOF
    sock = socket.socket(fileno=fd)
    stream = sock.makefile("rb")

    def receive() -> object:
        head = stream.read(HEADER.size)
        if len(head) < HEADER.size:
            raise EOFError
        return pickle.loads(stream.read(HEADER.unpack(head)[0]))

    try:
        config = receive()
        assert isinstance(config, dict)
        engine = make_engine(config["database_url"], pool_size=1, max_overflow=1)
        redis = Redis.from_url(config["redis_url"], socket_timeout=1, socket_connect_timeout=1)
        notifier = BackgroundNotifier(Notifier(redis))
        while True:
            kind, payload = cast(Group, receive())  # what ProcessWriter._ask sends
            answer: object
            try:
                if kind == "records":
                    write_records(engine, [dict(zip(RECORD_COLUMNS, row)) for row in payload])
                    answer = None
                else:
                    results = store_and_wake(engine, notifier, [Prepared(*item) for item in payload])
                    answer = [(r.verdict, _receipt_fields(r.receipt)) for r in results]
            except StoreUnavailable as exc:
                answer = exc
            except Exception as exc:  # noqa: BLE001 - any failure fails the group, never the child
                log.exception("intake writer: the group was not stored")
                answer = StoreUnavailable(f"the write failed: {type(exc).__name__}")
            reply = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
            sock.sendall(HEADER.pack(len(reply)) + reply)
    except EOFError:
        return


if __name__ == "__main__":  # python -m hub.edge.writers <fd>. Nothing defined in this module travels in a
    # pickle (StoreUnavailable is hub.store.intake's), so running it as __main__ names no class wrongly.
    serve(int(sys.argv[1]))
