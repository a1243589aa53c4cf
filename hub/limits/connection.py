"""A lean asyncio Redis connection for the rate limiter's one command per round trip.

Why not redis-py's asyncio client here: measured on this class of machine, one ``EVALSHA``
through it costs about 275 µs of CPU in the calling process (its connection pool, retry,
observability and parser layers), which made the rate limiter most of the access layer's cost;
the same command over this connection costs about 45 µs (``docs/PERFORMANCE.md``). The protocol
work itself is hiredis's (``pack_command`` and ``Reader``, the C library redis-py also uses); this
module only keeps one socket and answers replies to callers in order. Everything else in the hub
uses redis-py.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any, cast

import hiredis
from redis.connection import parse_url


class RedisUnavailable(ConnectionError):
    """The connection failed or timed out; the command may or may not have run."""


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a stream connection's transport is a Transport

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while self.waiting:
            reply = self.reader.gets()
            if reply is False:
                return
            future = self.waiting.popleft()
            if future.done():
                continue
            if isinstance(reply, hiredis.ReplyError):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(RedisUnavailable("the Redis connection closed"))


class LeanRedis:
    """One pipelined connection to ``url`` (redis://, rediss://, unix://; AUTH and SELECT as the URL says).

    ``call`` sends one command and awaits its reply within ``timeout`` seconds; any failure closes
    the connection (the next call opens a new one) and raises :class:`RedisUnavailable`; a Redis
    error reply is raised as ``hiredis.ReplyError``.
    """

    def __init__(self, url: str, timeout: float) -> None:
        self.options = parse_url(url)
        self.tls = url.startswith("rediss://")
        self.timeout = timeout
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    async def call(self, *args: str | bytes | int) -> Any:
        future = _send(await self._connected(), args)
        try:
            return await asyncio.wait_for(future, self.timeout)
        except (TimeoutError, RedisUnavailable) as exc:
            self.close()
            raise RedisUnavailable(f"Redis did not answer: {type(exc).__name__}") from exc

    async def _connected(self) -> _Protocol:
        if self._protocol is not None and not self._protocol.lost:
            return self._protocol
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._protocol is None or self._protocol.lost:
                self._protocol = await asyncio.wait_for(self._open(), self.timeout)
        return self._protocol

    async def _open(self) -> _Protocol:
        loop, o = asyncio.get_running_loop(), self.options
        try:
            if "path" in o:
                _, protocol = await loop.create_unix_connection(_Protocol, o["path"])
            else:
                _, protocol = await loop.create_connection(_Protocol, o.get("host", "localhost"), o.get("port", 6379),
                                                           ssl=self.tls or None)
        except OSError as exc:
            raise RedisUnavailable(f"cannot connect to Redis: {type(exc).__name__}") from exc
        self._protocol = protocol
        if o.get("password"):
            await _send(protocol, ("AUTH", *([o["username"]] if o.get("username") else []), o["password"]))
        if o.get("db"):
            await _send(protocol, ("SELECT", int(o["db"])))
        return protocol

    def close(self) -> None:
        """Close the socket; pending calls fail with :class:`RedisUnavailable`."""
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()


def _send(protocol: _Protocol, args: tuple[str | bytes | int, ...]) -> asyncio.Future[Any]:
    """Write one command; the future gets its reply (replies come back in command order)."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    protocol.waiting.append(future)
    assert protocol.transport is not None
    # hiredis's stub types ``cmd`` as a one-element ``Tuple[...]``; it takes a tuple of any length.
    protocol.transport.write(hiredis.pack_command(args))  # type: ignore[arg-type]
    return future
