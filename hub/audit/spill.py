"""The access log's spill: records that must not be lost, on local disk while the database is down.

Contract:

- :meth:`Spill.append` writes a batch to this process's own file ``<folder>/<pid>-<random>.jsonl``
  (one JSON record per line, created 0600 in a 0700 folder, opened ``O_APPEND``) and ``fsync``s it
  before it returns: a batch is handled once ``append`` returned, even if the process dies next.
- The owner holds an exclusive ``flock`` on its file for as long as it lives, so a live process's
  file is never touched by another; the kernel drops the lock when the process dies, however it dies.
- :meth:`Spill.replay` hands every spilled record, in file order and in chunks, to ``write``; a file
  is removed once all of it is written. Files of dead processes (their lock is free) are replayed
  too, at start-up and every ``scan_seconds``: the replayer takes the file's lock first, and a file
  whose lock it cannot get (its owner lives, or another replayer has it) or that is already
  removed (``st_nlink == 0``: replayed by someone who held the lock before) is skipped, so no two
  processes replay one file. ``write`` must be idempotent (the log skips records whose request id
  is already stored), because a replay that dies between its commit and the file's removal is
  replayed again by the next process.
- After a failed replay nothing is tried again for ``retry_seconds``: the database is probably
  still down, and the caller keeps appending, so the records keep their order.

Hand-written: no library writes an fsynced, crash-safe, lock-owned journal of a few lines.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson
from prometheus_client import Counter

from hub.private_files import FILE_MODE, private_dir

log = logging.getLogger(__name__)
SPILLED = Counter("lienthong_audit_records_spilled", "Access records written to the local spill file while the "
                  "database could not take them")
REPLAYED = Counter("lienthong_audit_records_replayed", "Spilled access records written to the database on replay")
CHUNK = 1000  # records per replay transaction
Write = Callable[[list[dict[str, Any]]], Any]


def _lines(fd: int) -> Iterator[bytes]:
    """The lines of the file open on ``fd``, from its start (a separate read position: ``pread``)."""
    offset, rest = 0, b""
    while True:
        block = os.pread(fd, 1 << 20, offset)
        if not block:
            break
        offset += len(block)
        *lines, rest = (rest + block).split(b"\n")
        yield from lines
    if rest:
        yield rest  # no newline: a batch torn by a crash mid-write (it was never reported as handled)


def _record(line: bytes) -> dict[str, Any]:
    record: dict[str, Any] = orjson.loads(line)
    record["at"] = datetime.fromisoformat(record["at"])
    return record


class Spill:
    """This process's spill file, and the replay of every spill file in ``folder``."""

    def __init__(self, folder: Path, scan_seconds: float = 30.0, retry_seconds: float = 1.0) -> None:
        self.folder, self.scan_seconds, self.retry_seconds = Path(folder), scan_seconds, retry_seconds
        self.path = self.folder / f"{os.getpid()}-{secrets.token_hex(4)}.jsonl"
        self._fd: int | None = None
        self._next_scan = 0.0  # scan for dead processes' files at the first replay: start-up
        self._retry_at = 0.0

    @property
    def pending(self) -> bool:
        """True while this process has spilled records not replayed yet."""
        return self._fd is not None

    def append(self, records: list[dict[str, Any]]) -> None:
        """Write ``records`` to this process's file and fsync; raises ``OSError`` if the disk refuses."""
        if self._fd is None:
            private_dir(self.folder)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)  # read back at replay
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh name: nobody else holds it
                dir_fd = os.open(self.folder, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)  # the new file's name survives a crash too
                finally:
                    os.close(dir_fd)
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
        data = memoryview(b"".join(orjson.dumps(r) + b"\n" for r in records))
        while data:
            data = data[os.write(self._fd, data):]
        os.fsync(self._fd)
        SPILLED.inc(len(records))

    def replay(self, write: Write) -> bool:
        """Replay what is spilled (dead processes' files when a scan is due, then this process's own);
        True when nothing of this process is left to replay, False when a write failed."""
        now = time.monotonic()
        if now < self._retry_at:
            return self._fd is None
        try:
            if now >= self._next_scan:
                self._next_scan = now + self.scan_seconds
                self._replay_orphans(write)
            if self._fd is not None:
                self._replay_file(self._fd, self.path, write)
                os.close(self._fd)  # after the unlink: releases the lock on a file that no longer exists
                self._fd = None
        except Exception as exc:  # noqa: BLE001 - the database is still down (or refuses): try again later
            self._retry_at = time.monotonic() + self.retry_seconds
            self._next_scan = min(self._next_scan, self._retry_at)
            log.warning("spilled access records not replayed yet (%s: %s); retrying", type(exc).__name__, exc)
            return False
        return True

    def _replay_orphans(self, write: Write) -> None:
        """Replay the files of processes that are gone (oldest first)."""
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime if p.exists() else 0):
            if path == self.path:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue  # replayed and removed meanwhile
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its owner is alive, or another process is replaying it
                if os.fstat(fd).st_nlink == 0:
                    continue  # replayed and removed by whoever held the lock before us
                log.info("replaying access records spilled by a process that is gone: %s", path.name)
                self._replay_file(fd, path, write)
            finally:
                os.close(fd)

    @staticmethod
    def _replay_file(fd: int, path: Path, write: Write) -> None:
        """Write every record of the file on ``fd`` in order, then remove it (raises if a write fails)."""
        chunk: list[dict[str, Any]] = []
        torn = 0
        for line in _lines(fd):
            if not line.strip():
                continue
            try:
                chunk.append(_record(line))
            except (ValueError, KeyError, TypeError):
                torn += 1
                continue
            if len(chunk) >= CHUNK:
                write(chunk)
                REPLAYED.inc(len(chunk))
                chunk = []
        if chunk:
            write(chunk)
            REPLAYED.inc(len(chunk))
        if torn:
            log.error("%s: %d unreadable line(s) skipped (a write torn by a crash)", path.name, torn)
        path.unlink()
