"""A short-lived cache of credential → principal, so the request path stays off the database.

An entry lives ``ttl`` seconds; when it expires one caller reloads it while the others keep the
previous answer for at most one more ``ttl`` (no stampede on the database). A key revoked or a
session ended in the database therefore stops working on every hub process within ``2 * ttl``
(0.8 s with the default 0.4 s), whatever happens to Redis.
"""

from __future__ import annotations

import enum
import time
from threading import Lock
from typing import Callable, Final, Generic, Literal, TypeVar

T = TypeVar("T")


class _Miss(enum.Enum):
    """The type of :data:`MISS` (an enum member, so ``found is MISS`` narrows the type)."""

    MISS = "MISS"


MISS: Final = _Miss.MISS


class CredentialCache(Generic[T]):
    """Maps a credential's digest to what ``load`` said of it."""

    def __init__(self, load: Callable[[str], T], ttl: float = 0.4, max_entries: int = 10_000) -> None:
        self._load, self._ttl, self._max = load, ttl, max_entries
        self._entries: dict[str, tuple[float, T]] = {}
        self._lock = Lock()

    def cached(self, key: str) -> T | Literal[_Miss.MISS]:
        """The cached answer, or ``MISS`` when the caller must ``reload``; never touches the database."""
        hit = self._entries.get(key)
        if hit is None:
            return MISS
        now = time.monotonic()
        if hit[0] > now:
            return hit[1]
        with self._lock:
            if self._entries.get(key) is hit and hit[0] + self._ttl > now:
                self._entries[key] = (now + self._ttl, hit[1])  # the others keep it meanwhile
                return MISS  # this caller reloads
        return hit[1] if hit[0] + self._ttl > now else MISS

    def reload(self, key: str) -> T:
        """Load ``key`` and cache the answer."""
        now = time.monotonic()
        value = self._load(key)
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[key] = (now + self._ttl, value)
        return value

    def forget(self, key: str) -> None:
        """Drop ``key`` here at once (the process that made a change need not wait for the ttl)."""
        with self._lock:
            self._entries.pop(key, None)
